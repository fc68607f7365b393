// Grouped-query attention as Qwen2 and Llama compute it: q/k/v projections (with biases
// when attention_bias), RoPE over the whole head in the half-split layout, causal softmax
// attention with kv heads shared by groups of query heads, o_proj.
#pragma once

#include "core/huge_pages.h"
#include "model/attention_block.h"
#include "model/linear.h"

#include <vector>

namespace mariana {

template <typename T>
class GqaBlock final : public AttentionBlock<T> {
public:
    // The attention parameters of `w`, a layer bound by `bind`.
    GqaBlock(const ModelConfig& config, const ParameterBinding& bind, const DenseLayer& w);

    void forward(const WeightsView<T>& w, const T* x, int64_t sequences, int64_t length, T* out,
                 ThreadPool& pool) override;
    void backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t sequences, int64_t length, T* dx,
                  ThreadPool& pool) override;

private:
    int64_t heads_, kv_heads_, head_dim_;
    // q_proj, k_proj and v_proj, stored one after the other (weights, and biases), as one
    // projection of x.
    Linear qkv_;
    Linear o_;
    std::vector<float> inv_freq_;
    std::vector<T> cos_sin_;  // [length, head_dim]
    LargeVector<T> qkv_out_;                              // [N, qkv_.out] before the split
    LargeVector<T> q_rot_, k_rot_, v_val_, lse_, attn_;  // lse_ [B, heads, S]
    LargeVector<T> dq_, dk_, dv_, dattn_, dqkv_;
};

}  // namespace mariana
