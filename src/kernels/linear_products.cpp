#include "kernels/linear_products.h"

#include "kernels/gemm.h"

#include <algorithm>

namespace mariana {

// float: the blocked kernel. The views turn each product into C (+)= A·B.
template <>
void matmul_nt<float>(const float* x, const float* w, int64_t n, int64_t k, int64_t m, float* y, ThreadPool& pool,
                      GemmPrecision precision)
{
    gemm(n, m, k, {x, k, 1}, {w, 1, k}, y, m, false, pool, precision);
}

template <>
void matmul_nn<float>(const float* dy, const float* w, int64_t n, int64_t m, int64_t k, float* dx, bool accumulate,
                      ThreadPool& pool, GemmPrecision precision)
{
    gemm(n, k, m, {dy, m, 1}, {w, k, 1}, dx, k, accumulate, pool, precision);
}

template <>
void matmul_tn_add<float>(const float* dy, const float* x, int64_t n, int64_t m, int64_t k, float* dw, ThreadPool& pool,
                          GemmPrecision precision)
{
    gemm(m, k, n, {dy, 1, m}, {x, k, 1}, dw, k, true, pool, precision);
}

// double (gradient checks only): plain loops, every sum in index order.
template <>
void matmul_nt<double>(const double* x, const double* w, int64_t n, int64_t k, int64_t m, double* y, ThreadPool&,
                       GemmPrecision)
{
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < m; ++j) {
            double s = 0;
            for (int64_t p = 0; p < k; ++p) s += x[i * k + p] * w[j * k + p];
            y[i * m + j] = s;
        }
}

template <>
void matmul_nn<double>(const double* dy, const double* w, int64_t n, int64_t m, int64_t k, double* dx, bool accumulate,
                       ThreadPool&, GemmPrecision)
{
    if (!accumulate) std::fill_n(dx, n * k, 0.0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < m; ++j)
            for (int64_t p = 0; p < k; ++p) dx[i * k + p] += dy[i * m + j] * w[j * k + p];
}

template <>
void matmul_tn_add<double>(const double* dy, const double* x, int64_t n, int64_t m, int64_t k, double* dw, ThreadPool&,
                           GemmPrecision)
{
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < m; ++j)
            for (int64_t p = 0; p < k; ++p) dw[j * k + p] += dy[i * m + j] * x[i * k + p];
}

}  // namespace mariana
