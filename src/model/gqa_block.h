// Grouped-query attention as Qwen2 and Llama compute it: q/k/v projections (with biases
// when attention_bias), RoPE over the whole head in the half-split layout, causal softmax
// attention with kv heads shared by groups of query heads, o_proj. A cache row holds the
// rotated keys, then the values, of every kv head. Its modes are the decoder layer's
// (model/decoder_layer.h).
#pragma once

#include "core/huge_pages.h"
#include "kernels/attention.h"
#include "model/batch.h"
#include "model/dense_weights.h"
#include "model/kv_cache.h"
#include "model/linear.h"
#include "model/rope_table.h"

#include <vector>

namespace mariana {

template <typename T>
class GqaBlock {
public:
    struct Activations {
        std::vector<T> cos_sin;                          // the rotary table
        LargeVector<T> qkv;                              // [N, qkv_.out] before the split
        LargeVector<T> q, k, v, lse, attn;              // rotated q and k; lse [B, heads, S]
        LargeVector<T> dq, dk, dv, dattn, dqkv;
        std::vector<const float*> pages;  // a chunk's cache pages in this layer
        LargeVector<float> gathered;      // a chunk's cached rows, where not read in place
    };

    // The attention parameters of `w`, layer `layer` bound by `bind`.
    GqaBlock(const ModelConfig& config, const ParameterBinding& bind, const DenseLayer& w, int64_t layer);

    int64_t cache_row_floats() const { return 2 * kv_heads_ * head_dim_; }
    // x [batch.size(), hidden] normalised hidden states → out [.., hidden] (overwritten).
    void forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, KvCache* cache, T* out,
                 Activations& a, ThreadPool& pool) const;
    // For the forward that filled `a`, which ran without a cache: dx = ∂/∂x of Σ dout ⊙ out
    // (overwritten); parameter gradients added.
    void backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                  Activations& a, ThreadPool& pool) const;

private:
    // Each chunk's queries over its sequence's cache rows, after writing the batch's rows.
    void attend_cached(const TokenBatch& batch, KvCache& cache, GemmPrecision precision, Activations& a,
                       ThreadPool& pool) const;
    AttentionShape shape(int64_t length, int64_t sequences, GemmPrecision precision) const;

    int64_t heads_, kv_heads_, head_dim_, layer_;
    // q_proj, k_proj and v_proj, stored one after the other (weights, and biases), as one
    // projection of x.
    Linear qkv_;
    Linear o_;
    RopeTable<T> rope_;
};

}  // namespace mariana
