#include "model/mla_block.h"

#include "model/rope_frequencies.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/elementwise.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace mariana {

template <typename T>
MlaBlock<T>::MlaBlock(const ModelConfig& c, const ParameterBinding& bind, const MlaWeights& w, int64_t layer)
    : nh_(c.num_attention_heads), dn_(c.qk_nope_head_dim), dr_(c.qk_rope_head_dim), dv_(c.v_head_dim),
      R_(c.kv_lora_rank), Rq_(c.q_lora_rank), layer_(layer), eps_(T(c.rms_norm_eps)),
      scale_(1.0 / std::sqrt(double(c.qk_head_dim())) * yarn_softmax_scale_factor(c.rope)),
      kv_b_proj_(Linear::of(bind, w.kv_b_proj)), o_proj_(Linear::of(bind, w.o_proj)),
      kv_a_norm_(bind.vector(w.kv_a_norm)),
      rope_(rope_inv_frequencies(c.rope, c.qk_rope_head_dim), c.qk_rope_head_dim, yarn_rotation_scale(c.rope))
{
    x_proj_ = Linear::stacked(bind, {Rq_ > 0 ? &w.q_a_proj : &w.q_proj, &w.kv_a_proj});
    if (Rq_ > 0) {
        q_a_norm_ = bind.vector(w.q_a_norm);
        q_b_proj_ = Linear::of(bind, w.q_b_proj);
    }
}

template <typename T>
AttentionShape MlaBlock<T>::shape(int64_t length, int64_t sequences, GemmPrecision precision) const
{
    return {length, nh_, nh_, dn_ + dr_, dv_, scale_, precision, sequences};
}

template <typename T>
void MlaBlock<T>::forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, KvCache* cache, T* out,
                          ThreadPool& pool)
{
    const int64_t N = batch.size(), qk = dn_ + dr_;
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
    rope_.forward(q_.data() + dn_, {0, nh_ * qk, nh_, qk, dr_, RopeLayout::interleaved}, batch, pool);
    rope_.forward(k_pe_.data(), {0, dr_, 1, dr_, dr_, RopeLayout::interleaved}, batch, pool);
    attn_.resize(size_t(N * nh_ * dv_));

    if (cache) {
        if constexpr (std::is_same_v<T, float>) {
            for (int64_t t = 0; t < N; ++t) {
                float* row = cache->row(layer_, batch.slots[size_t(t)], batch.positions[size_t(t)]);
                std::copy_n(c_.data() + t * R_, R_, row);
                std::copy_n(k_pe_.data() + t * dr_, dr_, row + R_);
            }
            for (size_t c = 0; c < batch.chunks.size(); ++c) {
                const SequenceChunk& chunk = batch.chunks[c];
                const bool expand = form == MlaForm::expanded ||
                                    (form == MlaForm::automatic && chunk.start_pos == 0 && chunk.tokens.size() > 1);
                if (expand) attend_expanded(w, batch, c, *cache, pool);
                else attend_absorbed(w, batch, c, *cache, pool);
            }
        } else {
            fail("a KV cache holds float rows");
        }
        o_proj_.forward(w, attn_.data(), N, out, pool);
        return;
    }

    // Without a cache, every sequence's own latents: per-head keys [k_nope_h, k_pe] and
    // values from kv_b_proj's [nh, dn + dv] rows.
    const int64_t S = batch.uniform_length(), B = N / S;
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
    attention_forward(q_.data(), k_.data(), v_.data(), shape(S, B, w.precision), lse_.data(), attn_.data(), pool);
    o_proj_.forward(w, attn_.data(), N, out, pool);
}

template <typename T>
void MlaBlock<T>::attend_expanded(const WeightsView<float>& w, const TokenBatch& batch, size_t c, KvCache& cache,
                                  ThreadPool& pool)
{
    if constexpr (std::is_same_v<T, float>) {
        const SequenceChunk& chunk = batch.chunks[c];
        const int64_t first = batch.chunk_begin[c], n = batch.chunk_size(c);
        const int64_t L = chunk.start_pos + n, qk = dn_ + dr_;
        latents_.resize(size_t(L * R_));
        kv_.resize(size_t(L * nh_ * (dn_ + dv_)));
        k_.resize(size_t(L * nh_ * qk));
        v_.resize(size_t(L * nh_ * dv_));
        lse_.resize(size_t(nh_ * n));
        for (int64_t s = 0; s < L; ++s) std::copy_n(cache.row(layer_, chunk.slot, s), R_, latents_.data() + s * R_);
        kv_b_proj_.forward(w, latents_.data(), L, kv_.data(), pool);  // [L, nh, dn + dv]
        // Per head, the key [k_nope_h, k_pe] (the rotated rope key shared by all heads, from
        // the cache row) and the value, token-major as the attention kernel reads them.
        pool.parallel_for(L, 64, [&](int64_t s0, int64_t s1) {
            for (int64_t s = s0; s < s1; ++s) {
                const float* k_pe = cache.row(layer_, chunk.slot, s) + R_;
                for (int64_t h = 0; h < nh_; ++h) {
                    const float* kv = kv_.data() + (s * nh_ + h) * (dn_ + dv_);
                    float* key = k_.data() + (s * nh_ + h) * qk;
                    std::copy_n(kv, dn_, key);
                    std::copy_n(k_pe, dr_, key + dn_);
                    std::copy_n(kv + dn_, dv_, v_.data() + (s * nh_ + h) * dv_);
                }
            }
        });
        AttentionShape s = shape(n, 1, w.precision);
        s.past = chunk.start_pos;
        attention_forward(q_.data() + first * nh_ * qk, k_.data(), v_.data(), s, lse_.data(),
                          attn_.data() + first * nh_ * dv_, pool);
    }
}

template <typename T>
void MlaBlock<T>::attend_absorbed(const WeightsView<float>& w, const TokenBatch& batch, size_t c, KvCache& cache,
                                  ThreadPool& pool)
{
    if constexpr (std::is_same_v<T, float>) {
        const SequenceChunk& chunk = batch.chunks[c];
        const int64_t first = batch.chunk_begin[c], n = batch.chunk_size(c);
        const int64_t L = chunk.start_pos + n, qk = dn_ + dr_, stride = L + 2 * R_;
        const float scale = float(scale_);
        const Weight kv_b = kv_b_proj_.matrix(w);
        per_head_.resize(size_t(nh_ * stride));
        pool.parallel_for(nh_, 1, [&](int64_t h_begin, int64_t h_end) {
            for (int64_t h = h_begin; h < h_end; ++h) {
                // kv_b_proj rows of head h: dn key rows (W_UK), then dv value rows (W_UV).
                const Weight w_uk = kv_b.row_slice(h * (dn_ + dv_), dn_);
                const Weight w_uv = kv_b.row_slice(h * (dn_ + dv_) + dn_, dv_);
                float* scores = per_head_.data() + h * stride;
                float* q_latent = scores + L;     // [R] W_UKᵀ q_nope
                float* o_latent = q_latent + R_;  // [R] Σ P c
                for (int64_t i = 0; i < n; ++i) {
                    const int64_t t = first + i, visible = chunk.start_pos + i + 1;
                    const float* q = q_.data() + (t * nh_ + h) * qk;
                    matmul_transposed(w_uk, q, q_latent);
                    for (int64_t s = 0; s < visible; ++s) {
                        const float* row = cache.row(layer_, chunk.slot, s);
                        scores[s] = (dot(q_latent, row, R_) + dot(q + dn_, row + R_, dr_)) * scale;
                    }
                    softmax(scores, visible);
                    std::fill_n(o_latent, R_, 0.0f);
                    for (int64_t s = 0; s < visible; ++s) axpy(o_latent, scores[s], cache.row(layer_, chunk.slot, s), R_);
                    matmul_serial(w_uv, o_latent, 1, attn_.data() + t * nh_ * dv_ + h * dv_);
                }
            }
        });
    }
}

template <typename T>
void MlaBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                           ThreadPool& pool)
{
    const int64_t N = batch.size(), qk = dn_ + dr_, S = batch.uniform_length(), B = N / S;
    dattn_.resize(attn_.size());
    o_proj_.backward(w, attn_.data(), dout, N, dattn_.data(), pool, Into::overwrite);

    dq_.resize(q_.size());
    dk_.resize(k_.size());
    dvalue_.resize(v_.size());
    attention_backward(q_.data(), k_.data(), v_.data(), lse_.data(), dattn_.data(), shape(S, B, w.precision),
                       dq_.data(), dk_.data(), dvalue_.data(), pool);

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
    rope_.backward(dq_.data() + dn_, {0, nh_ * qk, nh_, qk, dr_, RopeLayout::interleaved}, batch, pool);
    rope_.backward(dk_pe_.data(), {0, dr_, 1, dr_, dr_, RopeLayout::interleaved}, batch, pool);

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
