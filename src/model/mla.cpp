#include "model/mla.h"

#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/rope.h"
#include "model/rope_frequencies.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mariana {

namespace {

void grow(std::vector<float>& v, int64_t n)
{
    if (v.size() < size_t(n)) v.resize(size_t(n));
}

}  // namespace

Mla::Mla(const ModelConfig& c)
    : H_(c.hidden_size), nh_(c.num_attention_heads), dn_(c.qk_nope_head_dim), dr_(c.qk_rope_head_dim),
      dv_(c.v_head_dim), R_(c.kv_lora_rank), Rq_(c.q_lora_rank), eps_(float(c.rms_norm_eps)),
      softmax_scale_(float(1.0 / std::sqrt(double(c.qk_head_dim())) * yarn_softmax_scale_factor(c.rope))),
      inv_freq_(rope_inv_frequencies(c.rope, c.qk_rope_head_dim)), rotation_scale_(float(yarn_rotation_scale(c.rope)))
{
}

void Mla::forward(const MlaWeights& w, int64_t layer, const float* x, const TokenBatch& batch, KvCache& cache,
                  float* out, ThreadPool& pool, GemmPrecision precision)
{
    const int64_t T = batch.size(), qk = dn_ + dr_;
    grow(q_, T * nh_ * qk);
    grow(kv_a_, T * (R_ + dr_));
    grow(attn_, T * nh_ * dv_);

    // Queries: x → q_a_proj → RMSNorm → q_b_proj, or a plain q_proj.  [T, nh, dn+dr]
    if (Rq_ > 0) {
        grow(q_a_, T * Rq_);
        matmul(w.q_a_proj, x, T, q_a_.data(), pool, precision);
        rmsnorm(q_a_.data(), w.q_a_norm.data(), T, Rq_, eps_, q_a_.data());
        matmul(w.q_b_proj, q_a_.data(), T, q_.data(), pool, precision);
    } else {
        matmul(w.q_proj, x, T, q_.data(), pool, precision);
    }
    // Latent and shared rope key: [T, R + dr].
    matmul(w.kv_a_proj, x, T, kv_a_.data(), pool, precision);

    // Rotate q_pe (every head) and k_pe with the token's angles; cache [c_n, k_pe].
    std::vector<float> cos_sin(static_cast<size_t>(dr_));
    for (int64_t t = 0; t < T; ++t) {
        rope_angles(batch.positions[size_t(t)], inv_freq_.data(), dr_, cos_sin.data());
        for (float& v : cos_sin) v *= rotation_scale_;
        float* row = cache.row(layer, batch.slots[size_t(t)], batch.positions[size_t(t)]);
        const float* a = kv_a_.data() + t * (R_ + dr_);
        rmsnorm(a, w.kv_a_norm.data(), 1, R_, eps_, row);  // kv_a_layernorm: latent only
        std::memcpy(row + R_, a + R_, size_t(dr_) * sizeof(float));
        apply_rope(row + R_, 1, dr_, dr_, cos_sin.data(), RopeLayout::interleaved);
        apply_rope(q_.data() + t * nh_ * qk + dn_, nh_, qk, dr_, cos_sin.data(), RopeLayout::interleaved);
    }

    for (size_t c = 0; c < batch.chunks.size(); ++c) {
        const SequenceChunk& chunk = batch.chunks[c];
        const bool expand = form == MlaForm::expanded ||
                            (form == MlaForm::automatic && chunk.start_pos == 0 && chunk.tokens.size() > 1);
        if (expand) attend_expanded(w, layer, batch, c, cache, pool, precision);
        else attend_absorbed(w, layer, batch, c, cache, pool);
    }
    matmul(w.o_proj, attn_.data(), T, out, pool, precision);
}

void Mla::attend_expanded(const MlaWeights& w, int64_t layer, const TokenBatch& batch, size_t c, KvCache& cache,
                          ThreadPool& pool, GemmPrecision precision)
{
    const SequenceChunk& chunk = batch.chunks[c];
    const int64_t first = batch.chunk_begin[c], n = int64_t(chunk.tokens.size());
    const int64_t L = chunk.start_pos + n, qk = dn_ + dr_;
    grow(latents_, L * R_);
    grow(kv_, L * nh_ * (dn_ + dv_));
    grow(keys_, L * nh_ * qk);
    grow(values_, L * nh_ * dv_);
    grow(lse_, nh_ * n);
    for (int64_t s = 0; s < L; ++s)
        std::memcpy(latents_.data() + s * R_, cache.row(layer, chunk.slot, s), size_t(R_) * sizeof(float));
    matmul(w.kv_b_proj, latents_.data(), L, kv_.data(), pool, precision);  // [L, nh, dn + dv]
    // Per head, the key [k_nope_h, k_pe] (the rotated rope key shared by all heads, from the
    // cache row) and the value, token-major as the attention kernel reads them.
    pool.parallel_for(L, 64, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s) {
            const float* k_pe = cache.row(layer, chunk.slot, s) + R_;
            for (int64_t h = 0; h < nh_; ++h) {
                const float* kv = kv_.data() + (s * nh_ + h) * (dn_ + dv_);
                float* key = keys_.data() + (s * nh_ + h) * qk;
                std::copy_n(kv, dn_, key);
                std::copy_n(k_pe, dr_, key + dn_);
                std::copy_n(kv + dn_, dv_, values_.data() + (s * nh_ + h) * dv_);
            }
        }
    });
    AttentionShape shape{n, nh_, nh_, qk, dv_, softmax_scale_, precision, 1};
    shape.past = chunk.start_pos;
    attention_forward(q_.data() + first * nh_ * qk, keys_.data(), values_.data(), shape, lse_.data(),
                      attn_.data() + first * nh_ * dv_, pool);
}

void Mla::attend_absorbed(const MlaWeights& w, int64_t layer, const TokenBatch& batch, size_t c, KvCache& cache,
                          ThreadPool& pool)
{
    const SequenceChunk& chunk = batch.chunks[c];
    const int64_t first = batch.chunk_begin[c], n = int64_t(chunk.tokens.size());
    const int64_t L = chunk.start_pos + n, qk = dn_ + dr_, stride = L + 2 * R_;
    grow(per_head_, nh_ * stride);

    pool.parallel_for(nh_, 1, [&](int64_t h_begin, int64_t h_end) {
        for (int64_t h = h_begin; h < h_end; ++h) {
            // kv_b_proj rows of head h: dn key rows (W_UK), then dv value rows (W_UV).
            const Weight w_uk = w.kv_b_proj.row_slice(h * (dn_ + dv_), dn_);
            const Weight w_uv = w.kv_b_proj.row_slice(h * (dn_ + dv_) + dn_, dv_);
            float* scores = per_head_.data() + h * stride;
            float* q_latent = scores + L;    // [R] W_UKᵀ q_nope
            float* o_latent = q_latent + R_;  // [R] Σ P c
            for (int64_t i = 0; i < n; ++i) {
                const int64_t t = first + i, visible = chunk.start_pos + i + 1;
                const float* q = q_.data() + (t * nh_ + h) * qk;
                matmul_transposed(w_uk, q, q_latent);
                for (int64_t s = 0; s < visible; ++s) {
                    const float* row = cache.row(layer, chunk.slot, s);
                    scores[s] = (dot(q_latent, row, R_) + dot(q + dn_, row + R_, dr_)) * softmax_scale_;
                }
                softmax(scores, visible);
                std::fill_n(o_latent, R_, 0.0f);
                for (int64_t s = 0; s < visible; ++s) axpy(o_latent, scores[s], cache.row(layer, chunk.slot, s), R_);
                matmul_serial(w_uv, o_latent, 1, attn_.data() + t * nh_ * dv_ + h * dv_);
            }
        }
    });
}

}  // namespace mariana
