#include "train/attention.h"

#include "kernels/gemm.h"

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

template <typename T>
void attention_forward_loops(const T* q, const T* k, const T* v, const AttentionShape& s, T* probs, T* out,
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
void attention_backward_loops(const T* q, const T* k, const T* v, const T* probs, const T* dout, const AttentionShape& s,
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

}  // namespace

// float: each head's products as GEMMs over strided views of the token-major rows (the
// full T × T score block is computed; entries above the diagonal are then masked out).
template <>
void attention_forward<float>(const float* q, const float* k, const float* v, const AttentionShape& s, float* probs,
                              float* out, ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.heads, 1, [&](int64_t h0, int64_t h1) {
        for (int64_t h = h0; h < h1; ++h) {
            const int64_t kvh = h / group;
            float* p = probs + h * n * n;
            gemm_serial(n, n, s.dk, {q + h * s.dk, qs, 1}, {k + kvh * s.dk, 1, ks}, p, n, false);
            for (int64_t i = 0; i < n; ++i) {
                float* row = p + i * n;
                float max = -INFINITY;
                for (int64_t j = 0; j <= i; ++j) max = std::max(max, row[j] *= float(s.scale));
                float sum = 0;
                for (int64_t j = 0; j <= i; ++j) sum += row[j] = std::exp(row[j] - max);
                const float inv = 1.0f / sum;
                for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
                std::fill(row + i + 1, row + n, 0.0f);
            }
            gemm_serial(n, s.dv, n, {p, n, 1}, {v + kvh * s.dv, vs, 1}, out + h * s.dv, os, false);
        }
    });
}

template <>
void attention_backward<float>(const float* q, const float* k, const float* v, const float* probs, const float* dout,
                               const AttentionShape& s, float* dq, float* dk, float* dv, ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.kv_heads, 1, [&](int64_t g0, int64_t g1) {
        thread_local std::vector<float> dscore;
        dscore.resize(size_t(n * n));
        for (int64_t kvh = g0; kvh < g1; ++kvh)
            for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
                const float* p = probs + h * n * n;
                // dP = dO·Vᵀ, then dS = P ⊙ (dP - Σ_j P ⊙ dP) · scale, row by row.
                gemm_serial(n, n, s.dv, {dout + h * s.dv, os, 1}, {v + kvh * s.dv, 1, vs}, dscore.data(), n, false);
                for (int64_t i = 0; i < n; ++i) {
                    float* d = dscore.data() + i * n;
                    const float* pi = p + i * n;
                    float weighted = 0;
                    for (int64_t j = 0; j <= i; ++j) weighted += pi[j] * d[j];
                    for (int64_t j = 0; j <= i; ++j) d[j] = pi[j] * (d[j] - weighted) * float(s.scale);
                    std::fill(d + i + 1, d + n, 0.0f);
                }
                gemm_serial(n, s.dk, n, {dscore.data(), n, 1}, {k + kvh * s.dk, ks, 1}, dq + h * s.dk, qs, true);
                gemm_serial(n, s.dk, n, {dscore.data(), 1, n}, {q + h * s.dk, qs, 1}, dk + kvh * s.dk, ks, true);
                gemm_serial(n, s.dv, n, {p, 1, n}, {dout + h * s.dv, os, 1}, dv + kvh * s.dv, vs, true);
            }
    });
}

// double (gradient checks only): the plain loops.
template <>
void attention_forward<double>(const double* q, const double* k, const double* v, const AttentionShape& s,
                               double* probs, double* out, ThreadPool& pool)
{
    attention_forward_loops(q, k, v, s, probs, out, pool);
}

template <>
void attention_backward<double>(const double* q, const double* k, const double* v, const double* probs,
                                const double* dout, const AttentionShape& s, double* dq, double* dk, double* dv,
                                ThreadPool& pool)
{
    attention_backward_loops(q, k, v, probs, dout, s, dq, dk, dv, pool);
}

}  // namespace mariana::train
