#include "train/attention.h"

#include "kernels/activation.h"
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

// Causal softmax of row i: raw scores q·k in row[0, i] become the probabilities of
// scale · q·k. Returns the row's lse, log Σ_j exp(scale · q·k_j).
template <typename T>
T softmax_row(T* row, int64_t i, T scale)
{
    T max = -INFINITY;
    for (int64_t j = 0; j <= i; ++j) max = std::max(max, row[j] *= scale);
    const T sum = exp_affine(row, T(1), -max, i + 1, row);
    const T inv = T(1) / sum;
    for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
    return max + std::log(sum);
}

// The same probabilities from raw scores and a saved lse: exp(scale · q·k - lse).
template <typename T>
void probabilities_from_lse(T* row, int64_t i, T scale, T lse)
{
    exp_affine(row, scale, -lse, i + 1, row);
}

// The double loops (gradient checks): every product a plain sum in index order.
template <typename T>
void attention_forward_loops(const T* q, const T* k, const T* v, const AttentionShape& s, T* lse, T* out,
                             ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.heads, 1, [&](int64_t h0, int64_t h1) {
        std::vector<T> p(static_cast<size_t>(n));
        for (int64_t h = h0; h < h1; ++h) {
            const int64_t kvh = h / group;
            for (int64_t i = 0; i < n; ++i) {
                for (int64_t j = 0; j <= i; ++j) p[size_t(j)] = dot_n(q + i * qs + h * s.dk, k + j * ks + kvh * s.dk, s.dk);
                lse[h * n + i] = softmax_row(p.data(), i, T(s.scale));
                T* o = out + i * os + h * s.dv;
                std::fill(o, o + s.dv, T(0));
                for (int64_t j = 0; j <= i; ++j)
                    for (int64_t d = 0; d < s.dv; ++d) o[d] += p[size_t(j)] * v[j * vs + kvh * s.dv + d];
            }
        }
    });
}

template <typename T>
void attention_backward_loops(const T* q, const T* k, const T* v, const T* lse, const T* dout, const AttentionShape& s,
                              T* dq, T* dk, T* dv, ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.kv_heads, 1, [&](int64_t g0, int64_t g1) {
        std::vector<T> p(static_cast<size_t>(n)), dscore(static_cast<size_t>(n));
        for (int64_t kvh = g0; kvh < g1; ++kvh)
            for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h)
                for (int64_t i = 0; i < n; ++i) {
                    const T* qi = q + i * qs + h * s.dk;
                    const T* doi = dout + i * os + h * s.dv;
                    for (int64_t j = 0; j <= i; ++j) p[size_t(j)] = dot_n(qi, k + j * ks + kvh * s.dk, s.dk);
                    probabilities_from_lse(p.data(), i, T(s.scale), lse[h * n + i]);
                    // dP[j] = dO_i · v_j; dS = P ⊙ (dP - Σ P ⊙ dP).
                    T weighted = 0;
                    for (int64_t j = 0; j <= i; ++j) {
                        dscore[size_t(j)] = dot_n(doi, v + j * vs + kvh * s.dv, s.dv);
                        weighted += p[size_t(j)] * dscore[size_t(j)];
                        T* dvj = dv + j * vs + kvh * s.dv;
                        for (int64_t d = 0; d < s.dv; ++d) dvj[d] += p[size_t(j)] * doi[d];
                    }
                    T* dqi = dq + i * qs + h * s.dk;
                    for (int64_t j = 0; j <= i; ++j) {
                        const T g = p[size_t(j)] * (dscore[size_t(j)] - weighted) * T(s.scale);
                        const T* kj = k + j * ks + kvh * s.dk;
                        T* dkj = dk + j * ks + kvh * s.dk;
                        for (int64_t d = 0; d < s.dk; ++d) {
                            dqi[d] += g * kj[d];
                            dkj[d] += g * qi[d];
                        }
                    }
                }
    });
}

}  // namespace

// float: each head's products as GEMMs over strided views of the token-major rows, into
// per-thread T × T scratch (the full block; entries above the diagonal are not used).
template <>
void attention_forward<float>(const float* q, const float* k, const float* v, const AttentionShape& s, float* lse,
                              float* out, ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.heads, 1, [&](int64_t h0, int64_t h1) {
        thread_local std::vector<float> scores;
        scores.resize(size_t(n * n));
        float* p = scores.data();
        for (int64_t h = h0; h < h1; ++h) {
            const int64_t kvh = h / group;
            gemm_serial(n, n, s.dk, {q + h * s.dk, qs, 1}, {k + kvh * s.dk, 1, ks}, p, n, false);
            for (int64_t i = 0; i < n; ++i) {
                lse[h * n + i] = softmax_row(p + i * n, i, float(s.scale));
                std::fill(p + i * n + i + 1, p + (i + 1) * n, 0.0f);
            }
            gemm_serial(n, s.dv, n, {p, n, 1}, {v + kvh * s.dv, vs, 1}, out + h * s.dv, os, false);
        }
    });
}

template <>
void attention_backward<float>(const float* q, const float* k, const float* v, const float* lse, const float* dout,
                               const AttentionShape& s, float* dq, float* dk, float* dv, ThreadPool& pool)
{
    const int64_t n = s.tokens, group = s.heads / s.kv_heads;
    const int64_t qs = s.heads * s.dk, ks = s.kv_heads * s.dk, vs = s.kv_heads * s.dv, os = s.heads * s.dv;
    pool.parallel_for(s.kv_heads, 1, [&](int64_t g0, int64_t g1) {
        thread_local std::vector<float> scratch;
        scratch.resize(size_t(2 * n * n));
        float* p = scratch.data();
        float* dscore = p + n * n;
        for (int64_t kvh = g0; kvh < g1; ++kvh)
            for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
                // P again from Q·Kᵀ and the saved lse; dP = dO·Vᵀ; dS = P ⊙ (dP - Σ_j P ⊙ dP) · scale.
                gemm_serial(n, n, s.dk, {q + h * s.dk, qs, 1}, {k + kvh * s.dk, 1, ks}, p, n, false);
                gemm_serial(n, n, s.dv, {dout + h * s.dv, os, 1}, {v + kvh * s.dv, 1, vs}, dscore, n, false);
                for (int64_t i = 0; i < n; ++i) {
                    float* pi = p + i * n;
                    float* d = dscore + i * n;
                    probabilities_from_lse(pi, i, float(s.scale), lse[h * n + i]);
                    float weighted = 0;
                    for (int64_t j = 0; j <= i; ++j) weighted += pi[j] * d[j];
                    for (int64_t j = 0; j <= i; ++j) d[j] = pi[j] * (d[j] - weighted) * float(s.scale);
                    std::fill(pi + i + 1, pi + n, 0.0f);
                    std::fill(d + i + 1, d + n, 0.0f);
                }
                gemm_serial(n, s.dk, n, {dscore, n, 1}, {k + kvh * s.dk, ks, 1}, dq + h * s.dk, qs, true);
                gemm_serial(n, s.dk, n, {dscore, 1, n}, {q + h * s.dk, qs, 1}, dk + kvh * s.dk, ks, true);
                gemm_serial(n, s.dv, n, {p, 1, n}, {dout + h * s.dv, os, 1}, dv + kvh * s.dv, vs, true);
            }
    });
}

template <>
void attention_forward<double>(const double* q, const double* k, const double* v, const AttentionShape& s,
                               double* lse, double* out, ThreadPool& pool)
{
    attention_forward_loops(q, k, v, s, lse, out, pool);
}

template <>
void attention_backward<double>(const double* q, const double* k, const double* v, const double* lse,
                                const double* dout, const AttentionShape& s, double* dq, double* dk, double* dv,
                                ThreadPool& pool)
{
    attention_backward_loops(q, k, v, lse, dout, s, dq, dk, dv, pool);
}

}  // namespace mariana::train
