// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as torch.optim.AdamW
// computes it, over a ParameterSet's contiguous buffers; plus clipping by global norm.
#pragma once

#include "core/huge_pages.h"
#include "core/thread_pool.h"
#include "train/parameters.h"

#include <cstdint>
#include <vector>

namespace mariana::train {

struct AdamWOptions {
    double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
    double weight_decay = 0.1;  // applied only where Parameter::decays()
};

class AdamW {
public:
    AdamW(const ParameterSet& params, AdamWOptions options);

    // One update with learning rate lr from the gradients in `params` (which it leaves as
    // they are). Parameters that are not learned() are skipped.
    void step(ParameterSet& params, double lr, ThreadPool& pool);

    int64_t steps() const { return step_; }
    // First and second moments in the parameters' layout, for checkpoints.
    LargeVector<float>& first_moment() { return m_; }
    LargeVector<float>& second_moment() { return v_; }
    const LargeVector<float>& first_moment() const { return m_; }
    const LargeVector<float>& second_moment() const { return v_; }
    void set_steps(int64_t steps) { step_ = steps; }

private:
    AdamWOptions options_;
    LargeVector<float> m_, v_;
    int64_t step_ = 0;
};

// The L2 norm of all gradients together (in double); when it exceeds max_norm (> 0), the
// gradients are scaled by max_norm / norm. Returns the norm before clipping. The squares
// are summed in fixed blocks, then the blocks in order: the same norm for any thread count.
double clip_grad_norm(ParameterSet& params, double max_norm, ThreadPool& pool);

}  // namespace mariana::train
