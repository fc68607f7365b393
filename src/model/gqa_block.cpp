#include "model/gqa_block.h"

#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "model/rope_frequencies.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace mariana {

template <typename T>
GqaBlock<T>::GqaBlock(const ModelConfig& c, const ParameterBinding& bind, const DenseLayer& w, int64_t layer)
    : heads_(c.num_attention_heads), kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim), layer_(layer),
      qkv_(c.attention_bias ? Linear::stacked(bind, {&w.q_proj, &w.k_proj, &w.v_proj}, {&w.q_bias, &w.k_bias, &w.v_bias})
                            : Linear::stacked(bind, {&w.q_proj, &w.k_proj, &w.v_proj})),
      o_(Linear::of(bind, w.o_proj)), rope_(rope_inv_frequencies(c.rope, c.head_dim), c.head_dim, 1.0)
{
}

template <typename T>
AttentionShape GqaBlock<T>::shape(int64_t length, int64_t sequences, GemmPrecision precision) const
{
    return {length, heads_, kv_heads_, head_dim_, head_dim_, 1.0 / std::sqrt(double(head_dim_)), precision, sequences};
}

template <typename T>
void GqaBlock<T>::forward(const WeightsView<T>& w, const T* x, const TokenBatch& batch, KvCache* cache, T* out,
                          Activations& a, ThreadPool& pool) const
{
    const int64_t N = batch.size(), hd = head_dim_;
    a.q.resize(size_t(N * heads_ * hd));
    a.k.resize(size_t(N * kv_heads_ * hd));
    a.v.resize(size_t(N * kv_heads_ * hd));
    a.attn.resize(size_t(N * heads_ * hd));
    a.qkv.resize(size_t(N * qkv_.out));
    qkv_.forward(w, x, N, a.qkv.data(), pool);
    split_columns<T>(a.qkv.data(), N,
                     {{a.q.data(), heads_ * hd}, {a.k.data(), kv_heads_ * hd}, {a.v.data(), kv_heads_ * hd}},
                     pool);
    rope_.forward(a.q.data(), {0, heads_ * hd, heads_, hd, hd, RopeLayout::half_split}, batch, a.cos_sin, pool);
    rope_.forward(a.k.data(), {0, kv_heads_ * hd, kv_heads_, hd, hd, RopeLayout::half_split}, batch, a.cos_sin, pool);
    if (cache) {
        if constexpr (std::is_same_v<T, float>) attend_cached(batch, *cache, w.precision, a, pool);
        else fail("a KV cache holds float rows");
    } else {
        const int64_t S = batch.uniform_length(), B = N / S;
        a.lse.resize(size_t(B * heads_ * S));
        attention_forward(a.q.data(), a.k.data(), a.v.data(), shape(S, B, w.precision), a.lse.data(),
                          a.attn.data(), pool);
    }
    o_.forward(w, a.attn.data(), N, out, pool);
}

template <typename T>
void GqaBlock<T>::attend_cached(const TokenBatch& batch, KvCache& cache, GemmPrecision precision, Activations& a,
                                ThreadPool& pool) const
{
    if constexpr (std::is_same_v<T, float>) {
        const int64_t hd = head_dim_, kv = kv_heads_ * hd, R = cache.row_floats();
        for (size_t c = 0; c < batch.chunks.size(); ++c)
            for (int64_t t = batch.chunk_begin[c]; t < batch.chunk_begin[c + 1]; ++t) {
                const int64_t position = batch.positions[size_t(t)];
                cache.write(layer_, batch.chunks[c].pages, position, 0, a.k.data() + t * kv, kv);
                cache.write(layer_, batch.chunks[c].pages, position, kv, a.v.data() + t * kv, kv);
            }
        for (size_t c = 0; c < batch.chunks.size(); ++c) {
            const SequenceChunk& chunk = batch.chunks[c];
            const int64_t first = batch.chunk_begin[c], n = batch.chunk_size(c), end = chunk.start_pos + n;
            AttentionShape s = shape(n, 1, precision);
            s.past = chunk.start_pos;
            const float* q = a.q.data() + first * heads_ * hd;
            float* o = a.attn.data() + first * heads_ * hd;
            const PagedRows keys = cache.rows(layer_, chunk.pages, end, a.pages, a.gathered);
            if (n == 1) {  // decoding: each row read once, in place, no packing
                attention_decode(q, keys, {keys.pages, keys.page_rows, R, kv}, s, o, pool);
                continue;
            }
            // A prompt or its continuation: the blocked causal attention, over rows read in
            // place from one page, or gathered from several (packing reads them all anyway).
            const float* rows = keys.pages[0];
            if (keys.pages.size() > 1) {
                a.gathered.resize(size_t(end * R));
                for (int64_t j = 0; j < end; ++j) std::copy_n(keys.row(j), R, a.gathered.data() + j * R);
                rows = a.gathered.data();
            }
            s.k_stride = s.v_stride = R;
            a.lse.resize(size_t(heads_ * n));
            attention_forward(q, rows, rows + kv, s, a.lse.data(), o, pool);
        }
    }
}

template <typename T>
void GqaBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                           Activations& a, ThreadPool& pool) const
{
    const int64_t N = batch.size(), hd = head_dim_, S = batch.uniform_length(), B = N / S;
    a.dattn.resize(a.attn.size());
    a.dq.resize(a.q.size());
    a.dk.resize(a.k.size());
    a.dv.resize(a.v.size());
    o_.backward(w, a.attn.data(), dout, N, a.dattn.data(), pool, Into::overwrite);
    attention_backward(a.q.data(), a.k.data(), a.v.data(), a.lse.data(), a.dattn.data(),
                       shape(S, B, w.precision), a.dq.data(), a.dk.data(), a.dv.data(), pool);
    rope_.backward(a.dq.data(), {0, heads_ * hd, heads_, hd, hd, RopeLayout::half_split}, batch, a.cos_sin, pool);
    rope_.backward(a.dk.data(), {0, kv_heads_ * hd, kv_heads_, hd, hd, RopeLayout::half_split}, batch, a.cos_sin, pool);
    a.dqkv.resize(a.qkv.size());
    join_columns<T>({{a.dq.data(), heads_ * hd}, {a.dk.data(), kv_heads_ * hd}, {a.dv.data(), kv_heads_ * hd}}, N,
                    a.dqkv.data(), pool);
    qkv_.backward(w, x, a.dqkv.data(), N, dx, pool, Into::overwrite);
}

template class GqaBlock<float>;
template class GqaBlock<double>;

}  // namespace mariana
