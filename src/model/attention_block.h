// The attention sub-layer of a decoder layer: grouped-query attention (Qwen2, Llama) or
// multi-head latent attention (DeepSeek), in every mode. Rows are the batch's tokens,
// token-major.
//  - With a KV cache (inference: prefill, decode, batches of sequences at different
//    positions), every token writes its row of the block's layer in its slot, then attends
//    over its slot's rows up to its own position.
//  - Without one (training), every chunk starts at position 0 with one length and attends
//    within itself, and the block keeps what its backward needs.
#pragma once

#include "core/thread_pool.h"
#include "model/batch.h"
#include "model/config.h"
#include "model/declared_weights.h"
#include "model/kv_cache.h"
#include "model/parameter_binding.h"
#include "model/weights_view.h"

namespace mariana {

template <typename T>
class AttentionBlock {
public:
    virtual ~AttentionBlock() = default;

    // Floats per token of the block's KV cache rows.
    virtual int64_t cache_row_floats() const = 0;

    // x [batch.size(), hidden] normalised hidden states → out [.., hidden] (overwritten).
    // cache: float only.
    virtual void forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, KvCache* cache, T* out,
                         ThreadPool& pool) = 0;
    // For the inputs of the last forward, which ran without a cache: dx = ∂/∂x of Σ dout ⊙
    // out (overwritten); parameter gradients added.
    virtual void backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                          ThreadPool& pool) = 0;
};

}  // namespace mariana
