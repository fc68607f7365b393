// The DeepSeekMoE feed-forward: routed experts chosen per token plus always-on shared
// experts. Tokens are grouped by expert, so each selected expert's weights are read once
// per batch and experts no token chose are never touched.
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "model/deepseek_weights.h"

#include <vector>

namespace mariana {

class Moe {
public:
    explicit Moe(const ModelConfig& config) : config_(config) {}

    // x: [T, H] normalised hidden states; out: [T, H].
    void forward(const MoeWeights& w, const float* x, int64_t n_tokens, float* out, ThreadPool& pool,
                 GemmPrecision precision);

private:
    const ModelConfig& config_;
    std::vector<float> logits_;    // [T, E]
    std::vector<float> gathered_;  // [n_e, H] the tokens routed to one expert
    std::vector<float> expert_out_;  // [max(n_e, T), H]
    std::vector<float> mlp_scratch_;
};

}  // namespace mariana
