#include "train/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mariana::train {

namespace {

template <typename T>
T dot_n(const T* a, const T* b, int64_t n)
{
    T s = 0;
    for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

}  // namespace

template <typename T>
void attention_forward(const T* q, const T* k, const T* v, const AttentionShape& s, T* probs, T* out,
                       ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.heads, 1, [&](int64_t h0, int64_t h1) {
        for (int64_t h = h0; h < h1; ++h) {
            const int64_t kvh = h / group;
            for (int64_t i = 0; i < n; ++i) {
                T* p = probs + (h * n + i) * n;
                const T* qi = q + i * qs + h * s.dk;
                T max = -INFINITY;
                for (int64_t j = 0; j <= i; ++j) {
                    p[j] = T(s.scale) * dot_n(qi, k + j * ks + kvh * s.dk, s.dk);
                    max = std::max(max, p[j]);
                }
                T sum = 0;
                for (int64_t j = 0; j <= i; ++j) sum += p[j] = std::exp(p[j] - max);
                for (int64_t j = 0; j <= i; ++j) p[j] /= sum;
                std::fill(p + i + 1, p + n, T(0));
                T* o = out + i * os + h * s.dv;
                std::fill(o, o + s.dv, T(0));
                for (int64_t j = 0; j <= i; ++j) {
                    const T* vj = v + j * vs + kvh * s.dv;
                    for (int64_t d = 0; d < s.dv; ++d) o[d] += p[j] * vj[d];
                }
            }
        }
    });
}

template <typename T>
void attention_backward(const T* q, const T* k, const T* v, const T* probs, const T* dout, const AttentionShape& s,
                        T* dq, T* dk, T* dv, ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.kv_heads, 1, [&](int64_t g0, int64_t g1) {
        std::vector<T> dscore(n);
        for (int64_t kvh = g0; kvh < g1; ++kvh) {
            for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
                for (int64_t i = 0; i < n; ++i) {
                    const T* p = probs + (h * n + i) * n;
                    const T* doi = dout + i * os + h * s.dv;
                    // dP[j] = dO_i · v_j; dS = P ⊙ (dP - Σ P ⊙ dP).
                    T weighted = 0;
                    for (int64_t j = 0; j <= i; ++j) {
                        const T* vj = v + j * vs + kvh * s.dv;
                        T* dvj = dv + j * vs + kvh * s.dv;
                        dscore[j] = dot_n(doi, vj, s.dv);
                        weighted += p[j] * dscore[j];
                        for (int64_t d = 0; d < s.dv; ++d) dvj[d] += p[j] * doi[d];
                    }
                    const T* qi = q + i * qs + h * s.dk;
                    T* dqi = dq + i * qs + h * s.dk;
                    for (int64_t j = 0; j <= i; ++j) {
                        const T g = p[j] * (dscore[j] - weighted) * T(s.scale);
                        if (g == 0) continue;
                        const T* kj = k + j * ks + kvh * s.dk;
                        T* dkj = dk + j * ks + kvh * s.dk;
                        for (int64_t d = 0; d < s.dk; ++d) {
                            dqi[d] += g * kj[d];
                            dkj[d] += g * qi[d];
                        }
                    }
                }
            }
        }
    });
}

template void attention_forward<float>(const float*, const float*, const float*, const AttentionShape&, float*, float*,
                                       ThreadPool&);
template void attention_forward<double>(const double*, const double*, const double*, const AttentionShape&, double*,
                                        double*, ThreadPool&);
template void attention_backward<float>(const float*, const float*, const float*, const float*, const float*,
                                        const AttentionShape&, float*, float*, float*, ThreadPool&);
template void attention_backward<double>(const double*, const double*, const double*, const double*, const double*,
                                         const AttentionShape&, double*, double*, double*, ThreadPool&);

}  // namespace mariana::train
