// The attention sub-layer of a training model: grouped-query attention (Qwen2, Llama) or
// multi-head latent attention (DeepSeek). Inputs are `sequences` rows of `length` tokens,
// token-major, every row starting at position 0 and attending causally within itself.
#pragma once

#include "core/thread_pool.h"
#include "model/config.h"
#include "model/declared_weights.h"
#include "model/parameter_binding.h"
#include "model/weights_view.h"

namespace mariana {

template <typename T>
class AttentionBlock {
public:
    virtual ~AttentionBlock() = default;

    // x [sequences·length, hidden] normalised hidden states → out [.., hidden] (overwritten).
    virtual void forward(const WeightsView<T>& w, const T* x, int64_t sequences, int64_t length, T* out,
                         ThreadPool& pool) = 0;
    // For the inputs of the last forward: dx = ∂/∂x of Σ dout ⊙ out (overwritten); parameter
    // gradients added.
    virtual void backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t sequences, int64_t length,
                          T* dx, ThreadPool& pool) = 0;
};

}  // namespace mariana
