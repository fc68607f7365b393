// Multi-head latent attention (DeepSeek-V2/V3) for training, in the expanded form: the
// latent c = RMSNorm(x·W_DKVᵀ) is projected by kv_b_proj to per-head keys and values,
// each head's key being [k_nope_h, k_pe] with the one rope key k_pe shared by all heads.
// Queries come from q_proj, or from q_a_proj → RMSNorm → q_b_proj when q_lora_rank > 0.
// RoPE is interleaved on the last qk_rope_head_dim dims of queries and on k_pe.
#pragma once

#include "core/huge_pages.h"
#include "model/attention_block.h"
#include "model/linear.h"

#include <vector>

namespace mariana {

template <typename T>
class MlaBlock final : public AttentionBlock<T> {
public:
    // The parameters of `w`, a layer's attention bound by `bind`.
    MlaBlock(const ModelConfig& config, const ParameterBinding& bind, const MlaWeights& w);

    void forward(const WeightsView<T>& w, const T* x, int64_t sequences, int64_t length, T* out,
                 ThreadPool& pool) override;
    void backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t sequences, int64_t length, T* dx,
                  ThreadPool& pool) override;

private:
    int64_t nh_, dn_, dr_, dv_, R_, Rq_;
    T eps_;
    double scale_;  // softmax scale with YaRN's mscale correction
    double rotation_scale_;
    // The projections of x, stored one after the other (as the architecture declares them):
    // q_proj or q_a_proj, then kv_a_proj_with_mqa's R latent rows and dr rope-key rows.
    Linear x_proj_;
    Linear q_b_proj_;  // with q_lora
    Linear kv_b_proj_, o_proj_;
    VectorParam q_a_norm_, kv_a_norm_;
    std::vector<float> inv_freq_;
    std::vector<T> cos_sin_;  // [length, dr]

    // Activations, N = sequences·length rows.
    LargeVector<T> q_a_, q_a_n_, q_a_rstd_;  // [N, Rq], [N]: the low-rank query path
    LargeVector<T> q_;                        // [N, nh·(dn+dr)], rope part rotated
    LargeVector<T> x_proj_out_;               // [N, x_proj_.out] before the split
    LargeVector<T> latent_, c_, c_rstd_;      // [N, R] before and after kv_a_layernorm
    LargeVector<T> k_pe_;                     // [N, dr] rotated
    LargeVector<T> kv_;                       // [N, nh·(dn+dv)] kv_b_proj(c)
    LargeVector<T> k_, v_;                    // [N, nh·(dn+dr)], [N, nh·dv]
    LargeVector<T> lse_, attn_;               // [B, nh, S] softmax log-sums, [N, nh·dv]
    // Gradient scratch.
    LargeVector<T> dattn_, dq_, dk_, dvalue_, dkv_, dc_, dlatent_, dk_pe_, dq_a_n_, dq_a_, dx_proj_;
};

}  // namespace mariana
