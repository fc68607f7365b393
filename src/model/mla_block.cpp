#include "model/mla_block.h"

#include "model/rope_frequencies.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"

#include <algorithm>
#include <cmath>

namespace mariana {

template <typename T>
MlaBlock<T>::MlaBlock(const ModelConfig& c, const ParameterBinding& bind, const MlaWeights& w)
    : nh_(c.num_attention_heads), dn_(c.qk_nope_head_dim), dr_(c.qk_rope_head_dim), dv_(c.v_head_dim),
      R_(c.kv_lora_rank), Rq_(c.q_lora_rank), eps_(T(c.rms_norm_eps)),
      scale_(1.0 / std::sqrt(double(c.qk_head_dim())) * yarn_softmax_scale_factor(c.rope)),
      rotation_scale_(yarn_rotation_scale(c.rope)), kv_b_proj_(Linear::of(bind, w.kv_b_proj)),
      o_proj_(Linear::of(bind, w.o_proj)), kv_a_norm_(bind.vector(w.kv_a_norm)),
      inv_freq_(rope_inv_frequencies(c.rope, c.qk_rope_head_dim))
{
    x_proj_ = Linear::stacked(bind, {Rq_ > 0 ? &w.q_a_proj : &w.q_proj, &w.kv_a_proj});
    if (Rq_ > 0) {
        q_a_norm_ = bind.vector(w.q_a_norm);
        q_b_proj_ = Linear::of(bind, w.q_b_proj);
    }
}

template <typename T>
void MlaBlock<T>::forward(const WeightsView<T>& w, const T* x, int64_t B, int64_t S, T* out, ThreadPool& pool)
{
    const int64_t N = B * S, qk = dn_ + dr_;
    if (int64_t(cos_sin_.size()) != S * dr_) cos_sin_ = rope_table<T>(inv_freq_, dr_, S, rotation_scale_);
    q_.resize(size_t(N * nh_ * qk));
    latent_.resize(size_t(N * R_));
    c_.resize(size_t(N * R_));
    c_rstd_.resize(size_t(N));
    k_pe_.resize(size_t(N * dr_));
    // Everything read from x in one product, then split: the query (or its low-rank q_a),
    // the latent and the rope key.
    if (Rq_ > 0) q_a_.resize(size_t(N * Rq_));
    T* const query = Rq_ > 0 ? q_a_.data() : q_.data();
    x_proj_out_.resize(size_t(N * x_proj_.out));
    x_proj_.forward(w, x, N, x_proj_out_.data(), pool);
    split_columns<T>(x_proj_out_.data(), N,
                     {{query, x_proj_.out - R_ - dr_}, {latent_.data(), R_}, {k_pe_.data(), dr_}}, pool);
    if (Rq_ > 0) {
        q_a_n_.resize(size_t(N * Rq_));
        q_a_rstd_.resize(size_t(N));
        rms_norm_forward(q_a_.data(), w.at(q_a_norm_), N, Rq_, eps_, q_a_n_.data(), q_a_rstd_.data(), pool);
        q_b_proj_.forward(w, q_a_n_.data(), N, q_.data(), pool);
    }
    rms_norm_forward(latent_.data(), w.at(kv_a_norm_), N, R_, eps_, c_.data(), c_rstd_.data(), pool);
    pool.parallel_for(B, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            rope_forward(q_.data() + b * S * nh_ * qk + dn_, {S, nh_ * qk, nh_, qk, dr_, RopeLayout::interleaved},
                         cos_sin_.data());
            rope_forward(k_pe_.data() + b * S * dr_, {S, dr_, 1, dr_, dr_, RopeLayout::interleaved}, cos_sin_.data());
        }
    });

    // Per-head keys [k_nope_h, k_pe] and values from kv_b_proj's [nh, dn + dv] rows.
    kv_.resize(size_t(N * nh_ * (dn_ + dv_)));
    k_.resize(size_t(N * nh_ * qk));
    v_.resize(size_t(N * nh_ * dv_));
    kv_b_proj_.forward(w, c_.data(), N, kv_.data(), pool);
    pool.parallel_for(N, 256, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n)
            for (int64_t h = 0; h < nh_; ++h) {
                const T* kv = kv_.data() + (n * nh_ + h) * (dn_ + dv_);
                T* k = k_.data() + (n * nh_ + h) * qk;
                std::copy_n(kv, dn_, k);
                std::copy_n(k_pe_.data() + n * dr_, dr_, k + dn_);
                std::copy_n(kv + dn_, dv_, v_.data() + (n * nh_ + h) * dv_);
            }
    });

    lse_.resize(size_t(B * nh_ * S));
    attn_.resize(size_t(N * nh_ * dv_));
    const AttentionShape shape{S, nh_, nh_, qk, dv_, scale_, w.precision, B};
    attention_forward(q_.data(), k_.data(), v_.data(), shape, lse_.data(), attn_.data(), pool);
    o_proj_.forward(w, attn_.data(), N, out, pool);
}

template <typename T>
void MlaBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t B, int64_t S, T* dx,
                           ThreadPool& pool)
{
    const int64_t N = B * S, qk = dn_ + dr_;
    dattn_.resize(attn_.size());
    o_proj_.backward(w, attn_.data(), dout, N, dattn_.data(), pool, Into::overwrite);

    dq_.resize(q_.size());
    dk_.resize(k_.size());
    dvalue_.resize(v_.size());
    const AttentionShape shape{S, nh_, nh_, qk, dv_, scale_, w.precision, B};
    attention_backward(q_.data(), k_.data(), v_.data(), lse_.data(), dattn_.data(), shape, dq_.data(), dk_.data(),
                       dvalue_.data(), pool);

    // Back to kv_b_proj's rows and the shared rope key, which collects every head's share.
    dkv_.resize(kv_.size());
    dk_pe_.assign(k_pe_.size(), T(0));
    pool.parallel_for(N, 256, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n)
            for (int64_t h = 0; h < nh_; ++h) {
                T* dkv = dkv_.data() + (n * nh_ + h) * (dn_ + dv_);
                const T* dk = dk_.data() + (n * nh_ + h) * qk;
                std::copy_n(dk, dn_, dkv);
                std::copy_n(dvalue_.data() + (n * nh_ + h) * dv_, dv_, dkv + dn_);
                T* dk_pe = dk_pe_.data() + n * dr_;
                for (int64_t i = 0; i < dr_; ++i) dk_pe[i] += dk[dn_ + i];
            }
    });
    pool.parallel_for(B, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            rope_backward(dq_.data() + b * S * nh_ * qk + dn_, {S, nh_ * qk, nh_, qk, dr_, RopeLayout::interleaved},
                          cos_sin_.data());
            rope_backward(dk_pe_.data() + b * S * dr_, {S, dr_, 1, dr_, dr_, RopeLayout::interleaved},
                          cos_sin_.data());
        }
    });

    dc_.resize(c_.size());
    kv_b_proj_.backward(w, c_.data(), dkv_.data(), N, dc_.data(), pool, Into::overwrite);
    dlatent_.resize(latent_.size());
    rms_norm_backward(latent_.data(), w.at(kv_a_norm_), c_rstd_.data(), dc_.data(), N, R_, nullptr, dlatent_.data(),
                      w.grad(kv_a_norm_), pool);
    if (Rq_ > 0) {
        dq_a_n_.resize(q_a_n_.size());
        q_b_proj_.backward(w, q_a_n_.data(), dq_.data(), N, dq_a_n_.data(), pool, Into::overwrite);
        dq_a_.resize(q_a_.size());
        rms_norm_backward(q_a_.data(), w.at(q_a_norm_), q_a_rstd_.data(), dq_a_n_.data(), N, Rq_, nullptr,
                          dq_a_.data(), w.grad(q_a_norm_), pool);
    }
    const T* const dquery = Rq_ > 0 ? dq_a_.data() : dq_.data();
    dx_proj_.resize(x_proj_out_.size());
    join_columns<T>({{dquery, x_proj_.out - R_ - dr_}, {dlatent_.data(), R_}, {dk_pe_.data(), dr_}}, N,
                    dx_proj_.data(), pool);
    x_proj_.backward(w, x, dx_proj_.data(), N, dx, pool, Into::overwrite);
}

template class MlaBlock<float>;
template class MlaBlock<double>;

}  // namespace mariana
