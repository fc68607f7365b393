// Grouped-query attention as Qwen2 and Llama compute it: q/k/v projections (with biases
// when attention_bias), RoPE over the whole head in the half-split layout, causal softmax
// attention with kv heads shared by groups of query heads, o_proj. A cache row holds the
// rotated keys, then the values, of every kv head.
#pragma once

#include "core/huge_pages.h"
#include "kernels/attention.h"
#include "model/attention_block.h"
#include "model/linear.h"
#include "model/rope_table.h"

#include <vector>

namespace mariana {

template <typename T>
class GqaBlock final : public AttentionBlock<T> {
public:
    // The attention parameters of `w`, layer `layer` bound by `bind`.
    GqaBlock(const ModelConfig& config, const ParameterBinding& bind, const DenseLayer& w, int64_t layer);

    int64_t cache_row_floats() const override { return 2 * kv_heads_ * head_dim_; }
    void forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, KvCache* cache, T* out,
                 ThreadPool& pool) override;
    void backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                  ThreadPool& pool) override;

private:
    // Each chunk's queries over its slot's cache rows, after writing the batch's rows.
    void attend_cached(const TokenBatch& batch, KvCache& cache, GemmPrecision precision, ThreadPool& pool);
    AttentionShape shape(int64_t length, int64_t sequences, GemmPrecision precision) const;

    int64_t heads_, kv_heads_, head_dim_, layer_;
    // q_proj, k_proj and v_proj, stored one after the other (weights, and biases), as one
    // projection of x.
    Linear qkv_;
    Linear o_;
    RopeTable<T> rope_;
    LargeVector<T> qkv_out_;                              // [N, qkv_.out] before the split
    LargeVector<T> q_rot_, k_rot_, v_val_, lse_, attn_;  // lse_ [B, heads, S]
    LargeVector<T> dq_, dk_, dv_, dattn_, dqkv_;
};

}  // namespace mariana
