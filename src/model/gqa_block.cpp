#include "model/gqa_block.h"

#include "model/rope_frequencies.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/rope.h"

#include <cmath>

namespace mariana {

namespace {

// `rotate` (rope_forward<T> or rope_backward<T>) applied to the queries [B·S, heads·hd] and
// keys [B·S, kv_heads·hd] of every sequence, a sequence per chunk of the pool.
template <typename T, typename Rotate>
void rotate_sequences(Rotate rotate, T* q, T* k, int64_t B, int64_t S, int64_t heads, int64_t kv_heads, int64_t hd,
                      const T* cos_sin, ThreadPool& pool)
{
    pool.parallel_for(B, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            rotate(q + b * S * heads * hd, RopeSpan{S, heads * hd, heads, hd, hd, RopeLayout::half_split}, cos_sin);
            rotate(k + b * S * kv_heads * hd, RopeSpan{S, kv_heads * hd, kv_heads, hd, hd, RopeLayout::half_split},
                   cos_sin);
        }
    });
}

}  // namespace

template <typename T>
GqaBlock<T>::GqaBlock(const ModelConfig& c, const ParameterBinding& bind, const DenseLayer& w)
    : heads_(c.num_attention_heads), kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim),
      qkv_(c.attention_bias ? Linear::stacked(bind, {&w.q_proj, &w.k_proj, &w.v_proj}, {&w.q_bias, &w.k_bias, &w.v_bias})
                            : Linear::stacked(bind, {&w.q_proj, &w.k_proj, &w.v_proj})),
      o_(Linear::of(bind, w.o_proj)),
      inv_freq_(rope_inv_frequencies(c.rope, c.head_dim))
{
}

template <typename T>
void GqaBlock<T>::forward(const WeightsView<T>& w, const T* x, int64_t B, int64_t S, T* out, ThreadPool& pool)
{
    const int64_t N = B * S, hd = head_dim_;
    if (int64_t(cos_sin_.size()) != S * hd) cos_sin_ = rope_table<T>(inv_freq_, hd, S, 1.0);
    q_rot_.resize(size_t(N * heads_ * hd));
    k_rot_.resize(size_t(N * kv_heads_ * hd));
    v_val_.resize(size_t(N * kv_heads_ * hd));
    attn_.resize(size_t(N * heads_ * hd));
    lse_.resize(size_t(B * heads_ * S));
    qkv_out_.resize(size_t(N * qkv_.out));
    qkv_.forward(w, x, N, qkv_out_.data(), pool);
    split_columns<T>(qkv_out_.data(), N,
                     {{q_rot_.data(), heads_ * hd}, {k_rot_.data(), kv_heads_ * hd}, {v_val_.data(), kv_heads_ * hd}},
                     pool);
    rotate_sequences(rope_forward<T>, q_rot_.data(), k_rot_.data(), B, S, heads_, kv_heads_, hd, cos_sin_.data(), pool);
    const AttentionShape shape{S, heads_, kv_heads_, hd, hd, 1.0 / std::sqrt(double(hd)), w.precision, B};
    attention_forward(q_rot_.data(), k_rot_.data(), v_val_.data(), shape, lse_.data(), attn_.data(), pool);
    o_.forward(w, attn_.data(), N, out, pool);
}

template <typename T>
void GqaBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t B, int64_t S, T* dx,
                           ThreadPool& pool)
{
    const int64_t N = B * S, hd = head_dim_;
    dattn_.resize(attn_.size());
    dq_.resize(q_rot_.size());
    dk_.resize(k_rot_.size());
    dv_.resize(v_val_.size());
    o_.backward(w, attn_.data(), dout, N, dattn_.data(), pool, Into::overwrite);
    const AttentionShape shape{S, heads_, kv_heads_, hd, hd, 1.0 / std::sqrt(double(hd)), w.precision, B};
    attention_backward(q_rot_.data(), k_rot_.data(), v_val_.data(), lse_.data(), dattn_.data(), shape, dq_.data(),
                       dk_.data(), dv_.data(), pool);
    rotate_sequences(rope_backward<T>, dq_.data(), dk_.data(), B, S, heads_, kv_heads_, hd, cos_sin_.data(), pool);
    dqkv_.resize(qkv_out_.size());
    join_columns<T>({{dq_.data(), heads_ * hd}, {dk_.data(), kv_heads_ * hd}, {dv_.data(), kv_heads_ * hd}}, N,
                    dqkv_.data(), pool);
    qkv_.backward(w, x, dqkv_.data(), N, dx, pool, Into::overwrite);
}

template class GqaBlock<float>;
template class GqaBlock<double>;

}  // namespace mariana
