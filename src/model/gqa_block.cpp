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
                          ThreadPool& pool)
{
    const int64_t N = batch.size(), hd = head_dim_;
    q_rot_.resize(size_t(N * heads_ * hd));
    k_rot_.resize(size_t(N * kv_heads_ * hd));
    v_val_.resize(size_t(N * kv_heads_ * hd));
    attn_.resize(size_t(N * heads_ * hd));
    qkv_out_.resize(size_t(N * qkv_.out));
    qkv_.forward(w, x, N, qkv_out_.data(), pool);
    split_columns<T>(qkv_out_.data(), N,
                     {{q_rot_.data(), heads_ * hd}, {k_rot_.data(), kv_heads_ * hd}, {v_val_.data(), kv_heads_ * hd}},
                     pool);
    rope_.forward(q_rot_.data(), {0, heads_ * hd, heads_, hd, hd, RopeLayout::half_split}, batch, pool);
    rope_.forward(k_rot_.data(), {0, kv_heads_ * hd, kv_heads_, hd, hd, RopeLayout::half_split}, batch, pool);
    if (cache) {
        if constexpr (std::is_same_v<T, float>) attend_cached(batch, *cache, w.precision, pool);
        else fail("a KV cache holds float rows");
    } else {
        const int64_t S = batch.uniform_length(), B = N / S;
        lse_.resize(size_t(B * heads_ * S));
        attention_forward(q_rot_.data(), k_rot_.data(), v_val_.data(), shape(S, B, w.precision), lse_.data(),
                          attn_.data(), pool);
    }
    o_.forward(w, attn_.data(), N, out, pool);
}

template <typename T>
void GqaBlock<T>::attend_cached(const TokenBatch& batch, KvCache& cache, GemmPrecision precision, ThreadPool& pool)
{
    if constexpr (std::is_same_v<T, float>) {
        const int64_t hd = head_dim_, kv = kv_heads_ * hd;
        for (int64_t t = 0; t < batch.size(); ++t) {
            float* row = cache.row(layer_, batch.slots[size_t(t)], batch.positions[size_t(t)]);
            std::copy_n(k_rot_.data() + t * kv, kv, row);
            std::copy_n(v_val_.data() + t * kv, kv, row + kv);
        }
        for (size_t c = 0; c < batch.chunks.size(); ++c) {
            const SequenceChunk& chunk = batch.chunks[c];
            const int64_t first = batch.chunk_begin[c], n = batch.chunk_size(c);
            // The keys and values of the whole sequence, read in place from the slot's rows.
            const float* keys = cache.row(layer_, chunk.slot, 0);
            AttentionShape s = shape(n, 1, precision);
            s.past = chunk.start_pos;
            s.k_stride = s.v_stride = cache.row_floats();
            const float* q = q_rot_.data() + first * heads_ * hd;
            float* o = attn_.data() + first * heads_ * hd;
            if (n == 1) {  // decoding: each row read once, no packing
                attention_decode(q, keys, keys + kv, s, o, pool);
            } else {  // a prompt or its continuation: the blocked causal attention
                lse_.resize(size_t(heads_ * n));
                attention_forward(q, keys, keys + kv, s, lse_.data(), o, pool);
            }
        }
    }
}

template <typename T>
void GqaBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, const TokenBatch& batch, T* dx,
                           ThreadPool& pool)
{
    const int64_t N = batch.size(), hd = head_dim_, S = batch.uniform_length(), B = N / S;
    dattn_.resize(attn_.size());
    dq_.resize(q_rot_.size());
    dk_.resize(k_rot_.size());
    dv_.resize(v_val_.size());
    o_.backward(w, attn_.data(), dout, N, dattn_.data(), pool, Into::overwrite);
    attention_backward(q_rot_.data(), k_rot_.data(), v_val_.data(), lse_.data(), dattn_.data(),
                       shape(S, B, w.precision), dq_.data(), dk_.data(), dv_.data(), pool);
    rope_.backward(dq_.data(), {0, heads_ * hd, heads_, hd, hd, RopeLayout::half_split}, batch, pool);
    rope_.backward(dk_.data(), {0, kv_heads_ * hd, kv_heads_, hd, hd, RopeLayout::half_split}, batch, pool);
    dqkv_.resize(qkv_out_.size());
    join_columns<T>({{dq_.data(), heads_ * hd}, {dk_.data(), kv_heads_ * hd}, {dv_.data(), kv_heads_ * hd}}, N,
                    dqkv_.data(), pool);
    qkv_.backward(w, x, dqkv_.data(), N, dx, pool, Into::overwrite);
}

template class GqaBlock<float>;
template class GqaBlock<double>;

}  // namespace mariana
