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
template <typename RopeKey>
void MlaBlock<T>::keys_and_values(int64_t rows, RopeKey rope_key, Activations& a, ThreadPool& pool) const
{
    const int64_t qk = dn_ + dr_;
    pool.parallel_for(rows, 64, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s)
            for (int64_t h = 0; h < nh_; ++h) {
                const T* kv = a.kv.data() + (s * nh_ + h) * (dn_ + dv_);
                T* key = a.k.data() + (s * nh_ + h) * qk;
                std::copy_n(kv, dn_, key);
                std::copy_n(rope_key(s), dr_, key + dn_);
                std::copy_n(kv + dn_, dv_, a.v.data() + (s * nh_ + h) * dv_);
            }
    });
}

template <typename T>
void MlaBlock<T>::forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, KvCache* cache, T* out,
                          Activations& a, ThreadPool& pool) const
{
    const int64_t N = batch.size(), qk = dn_ + dr_;
    a.q.resize(size_t(N * nh_ * qk));
    a.latent.resize(size_t(N * R_));
    a.c.resize(size_t(N * R_));
    a.c_rstd.resize(size_t(N));
    a.k_pe.resize(size_t(N * dr_));
    // Everything read from x in one product, then split: the query (or its low-rank q_a),
    // the latent and the rope key.
    if (Rq_ > 0) a.q_a.resize(size_t(N * Rq_));
    T* const query = Rq_ > 0 ? a.q_a.data() : a.q.data();
    a.x_proj.resize(size_t(N * x_proj_.out));
    x_proj_.forward(w, x, N, a.x_proj.data(), pool);
    split_columns<T>(a.x_proj.data(), N,
                     {{query, x_proj_.out - R_ - dr_}, {a.latent.data(), R_}, {a.k_pe.data(), dr_}}, pool);
    if (Rq_ > 0) {
        a.q_a_n.resize(size_t(N * Rq_));
        a.q_a_rstd.resize(size_t(N));
        rms_norm_forward(a.q_a.data(), w.at(q_a_norm_), N, Rq_, eps_, a.q_a_n.data(), a.q_a_rstd.data(), pool);
        q_b_proj_.forward(w, a.q_a_n.data(), N, a.q.data(), pool);
    }
    rms_norm_forward(a.latent.data(), w.at(kv_a_norm_), N, R_, eps_, a.c.data(), a.c_rstd.data(), pool);
    rope_.forward(a.q.data() + dn_, {0, nh_ * qk, nh_, qk, dr_, RopeLayout::interleaved}, batch, a.cos_sin, pool);
    rope_.forward(a.k_pe.data(), {0, dr_, 1, dr_, dr_, RopeLayout::interleaved}, batch, a.cos_sin, pool);
    a.attn.resize(size_t(N * nh_ * dv_));

    if (cache) {
        if constexpr (std::is_same_v<T, float>) {
            for (size_t c = 0; c < batch.chunks.size(); ++c)
                for (int64_t t = batch.chunk_begin[c]; t < batch.chunk_begin[c + 1]; ++t) {
                    const int64_t position = batch.positions[size_t(t)];
                    cache->write(layer_, batch.chunks[c].pages, position, 0, a.c.data() + t * R_, R_);
                    cache->write(layer_, batch.chunks[c].pages, position, R_, a.k_pe.data() + t * dr_, dr_);
                }
            a.chunk_pages.resize(batch.chunks.size());
            a.chunk_rows.resize(batch.chunks.size());
            std::vector<size_t> absorbed;
            for (size_t c = 0; c < batch.chunks.size(); ++c) {
                const SequenceChunk& chunk = batch.chunks[c];
                const bool expand = form == MlaForm::expanded ||
                                    (form == MlaForm::automatic && chunk.start_pos == 0 && chunk.tokens.size() > 1);
                if (expand) attend_expanded(w, batch, c, *cache, a, pool);
                else absorbed.push_back(c);
            }
            if (!absorbed.empty()) attend_absorbed(w, batch, absorbed, *cache, a, pool);
        } else {
            fail("a KV cache holds float rows");
        }
        o_proj_.forward(w, a.attn.data(), N, out, pool);
        return;
    }

    // Without a cache, every sequence's own latents: per-head keys [k_nope_h, k_pe] and
    // values from kv_b_proj's [nh, dn + dv] rows.
    const int64_t S = batch.uniform_length(), B = N / S;
    a.kv.resize(size_t(N * nh_ * (dn_ + dv_)));
    a.k.resize(size_t(N * nh_ * qk));
    a.v.resize(size_t(N * nh_ * dv_));
    kv_b_proj_.forward(w, a.c.data(), N, a.kv.data(), pool);
    keys_and_values(N, [&](int64_t n) { return a.k_pe.data() + n * dr_; }, a, pool);
    a.lse.resize(size_t(B * nh_ * S));
    attention_forward(a.q.data(), a.k.data(), a.v.data(), shape(S, B, w.precision), a.lse.data(), a.attn.data(), pool);
    o_proj_.forward(w, a.attn.data(), N, out, pool);
}

template <typename T>
void MlaBlock<T>::attend_expanded(const WeightsView<float>& w, const TokenBatch& batch, size_t c, KvCache& cache,
                                  Activations& a, ThreadPool& pool) const
{
    if constexpr (std::is_same_v<T, float>) {
        const SequenceChunk& chunk = batch.chunks[c];
        const int64_t first = batch.chunk_begin[c], n = batch.chunk_size(c);
        const int64_t L = chunk.start_pos + n, qk = dn_ + dr_;
        a.latents.resize(size_t(L * R_));
        a.kv.resize(size_t(L * nh_ * (dn_ + dv_)));
        a.k.resize(size_t(L * nh_ * qk));
        a.v.resize(size_t(L * nh_ * dv_));
        a.lse.resize(size_t(nh_ * n));
        const PagedRows rows = cache.rows(layer_, chunk.pages, L, a.chunk_pages[c], a.chunk_rows[c]);
        for (int64_t s = 0; s < L; ++s) std::copy_n(rows.row(s), R_, a.latents.data() + s * R_);
        kv_b_proj_.forward(w, a.latents.data(), L, a.kv.data(), pool);  // [L, nh, dn + dv]
        keys_and_values(L, [&](int64_t s) { return rows.row(s) + R_; }, a, pool);
        AttentionShape s = shape(n, 1, w.precision);
        s.past = chunk.start_pos;
        attention_forward(a.q.data() + first * nh_ * qk, a.k.data(), a.v.data(), s, a.lse.data(),
                          a.attn.data() + first * nh_ * dv_, pool);
    }
}

template <typename T>
void MlaBlock<T>::attend_absorbed(const WeightsView<float>& w, const TokenBatch& batch, std::span<const size_t> chunks,
                                  KvCache& cache, Activations& a, ThreadPool& pool) const
{
    if constexpr (std::is_same_v<T, float>) {
        int64_t longest = 0;
        for (const size_t c : chunks) longest = std::max(longest, batch.chunks[c].start_pos + batch.chunk_size(c));
        const int64_t qk = dn_ + dr_, stride = longest + 2 * R_;
        const float scale = float(scale_);
        const Weight kv_b = kv_b_proj_.matrix(w);
        a.per_head.resize(size_t(nh_ * stride));
        std::vector<PagedRows> rows;  // each chunk's cached rows
        for (const size_t c : chunks)
            rows.push_back(cache.rows(layer_, batch.chunks[c].pages, batch.chunks[c].start_pos + batch.chunk_size(c),
                                      a.chunk_pages[c], a.chunk_rows[c]));
        pool.parallel_for(nh_, 1, [&](int64_t h_begin, int64_t h_end) {
            for (int64_t h = h_begin; h < h_end; ++h) {
                // kv_b_proj rows of head h: dn key rows (W_UK), then dv value rows (W_UV).
                const Weight w_uk = kv_b.row_slice(h * (dn_ + dv_), dn_);
                const Weight w_uv = kv_b.row_slice(h * (dn_ + dv_) + dn_, dv_);
                float* scores = a.per_head.data() + h * stride;
                float* q_latent = scores + longest;  // [R] W_UKᵀ q_nope
                float* o_latent = q_latent + R_;     // [R] Σ P c
                for (size_t k = 0; k < chunks.size(); ++k) {
                    const size_t c = chunks[k];
                    const SequenceChunk& chunk = batch.chunks[c];
                    for (int64_t i = 0; i < batch.chunk_size(c); ++i) {
                        const int64_t t = batch.chunk_begin[c] + i, visible = chunk.start_pos + i + 1;
                        const float* q = a.q.data() + (t * nh_ + h) * qk;
                        matmul_transposed(w_uk, q, q_latent);
                        for (int64_t s = 0; s < visible; ++s) {
                            const float* row = rows[k].row(s);
                            scores[s] = (dot(q_latent, row, R_) + dot(q + dn_, row + R_, dr_)) * scale;
                        }
                        softmax(scores, visible);
                        std::fill_n(o_latent, R_, 0.0f);
                        for (int64_t s = 0; s < visible; ++s) axpy(o_latent, scores[s], rows[k].row(s), R_);
                        matmul_serial(w_uv, o_latent, 1, a.attn.data() + t * nh_ * dv_ + h * dv_);
                    }
                }
            }
        });
    }
}

template <typename T>
void MlaBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                           Activations& a, ThreadPool& pool) const
{
    const int64_t N = batch.size(), qk = dn_ + dr_, S = batch.uniform_length(), B = N / S;
    a.dattn.resize(a.attn.size());
    o_proj_.backward(w, a.attn.data(), dout, N, a.dattn.data(), pool, Into::overwrite);

    a.dq.resize(a.q.size());
    a.dk.resize(a.k.size());
    a.dvalue.resize(a.v.size());
    attention_backward(a.q.data(), a.k.data(), a.v.data(), a.lse.data(), a.dattn.data(), shape(S, B, w.precision),
                       a.dq.data(), a.dk.data(), a.dvalue.data(), pool);

    // Back to kv_b_proj's rows and the shared rope key, which collects every head's share.
    a.dkv.resize(a.kv.size());
    a.dk_pe.assign(a.k_pe.size(), T(0));
    pool.parallel_for(N, 256, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n)
            for (int64_t h = 0; h < nh_; ++h) {
                T* dkv = a.dkv.data() + (n * nh_ + h) * (dn_ + dv_);
                const T* dk = a.dk.data() + (n * nh_ + h) * qk;
                std::copy_n(dk, dn_, dkv);
                std::copy_n(a.dvalue.data() + (n * nh_ + h) * dv_, dv_, dkv + dn_);
                T* dk_pe = a.dk_pe.data() + n * dr_;
                for (int64_t i = 0; i < dr_; ++i) dk_pe[i] += dk[dn_ + i];
            }
    });
    rope_.backward(a.dq.data() + dn_, {0, nh_ * qk, nh_, qk, dr_, RopeLayout::interleaved}, batch, a.cos_sin, pool);
    rope_.backward(a.dk_pe.data(), {0, dr_, 1, dr_, dr_, RopeLayout::interleaved}, batch, a.cos_sin, pool);

    a.dc.resize(a.c.size());
    kv_b_proj_.backward(w, a.c.data(), a.dkv.data(), N, a.dc.data(), pool, Into::overwrite);
    a.dlatent.resize(a.latent.size());
    rms_norm_backward(a.latent.data(), w.at(kv_a_norm_), a.c_rstd.data(), a.dc.data(), N, R_, nullptr, a.dlatent.data(),
                      w.grad(kv_a_norm_), pool);
    if (Rq_ > 0) {
        a.dq_a_n.resize(a.q_a_n.size());
        q_b_proj_.backward(w, a.q_a_n.data(), a.dq.data(), N, a.dq_a_n.data(), pool, Into::overwrite);
        a.dq_a.resize(a.q_a.size());
        rms_norm_backward(a.q_a.data(), w.at(q_a_norm_), a.q_a_rstd.data(), a.dq_a_n.data(), N, Rq_, nullptr,
                          a.dq_a.data(), w.grad(q_a_norm_), pool);
    }
    const T* const dquery = Rq_ > 0 ? a.dq_a.data() : a.dq.data();
    a.dx_proj.resize(a.x_proj.size());
    join_columns<T>({{dquery, x_proj_.out - R_ - dr_}, {a.dlatent.data(), R_}, {a.dk_pe.data(), dr_}}, N,
                    a.dx_proj.data(), pool);
    x_proj_.backward(w, x, a.dx_proj.data(), N, dx, pool, Into::overwrite);
}

template class MlaBlock<float>;
template class MlaBlock<double>;

}  // namespace mariana
