#include "train/gemm.h"

#include "kernels/matmul.h"

namespace mariana::train {

namespace {

// float goes through the vectorised kernels; double (gradient checks only) plain loops.
float dot_of(const float* a, const float* b, int64_t n) { return dot(a, b, n); }
double dot_of(const double* a, const double* b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}
void add_scaled(float* y, float a, const float* x, int64_t n) { axpy(y, a, x, n); }
void add_scaled(double* y, double a, const double* x, int64_t n)
{
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Enough work per chunk that the pool's hand-off stays small next to it.
int64_t grain_for(int64_t work_per_item) { return work_per_item >= 65536 ? 1 : 65536 / (work_per_item + 1) + 1; }

}  // namespace

template <typename T>
void matmul_nt(const T* x, const T* w, int64_t n, int64_t k, int64_t m, T* y, ThreadPool& pool)
{
    pool.parallel_for(m, grain_for(n * k), [&](int64_t begin, int64_t end) {
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = begin; j < end; ++j) y[i * m + j] = dot_of(x + i * k, w + j * k, k);
    });
}

template <typename T>
void matmul_nn_add(const T* dy, const T* w, int64_t n, int64_t m, int64_t k, T* dx, ThreadPool& pool)
{
    pool.parallel_for(n, grain_for(m * k), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
            for (int64_t j = 0; j < m; ++j)
                if (const T g = dy[i * m + j]; g != 0) add_scaled(dx + i * k, g, w + j * k, k);
    });
}

template <typename T>
void matmul_tn_add(const T* dy, const T* x, int64_t n, int64_t m, int64_t k, T* dw, ThreadPool& pool)
{
    pool.parallel_for(m, grain_for(n * k), [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j)
            for (int64_t i = 0; i < n; ++i)
                if (const T g = dy[i * m + j]; g != 0) add_scaled(dw + j * k, g, x + i * k, k);
    });
}

#define MARIANA_INSTANTIATE(T)                                                                   \
    template void matmul_nt<T>(const T*, const T*, int64_t, int64_t, int64_t, T*, ThreadPool&);     \
    template void matmul_nn_add<T>(const T*, const T*, int64_t, int64_t, int64_t, T*, ThreadPool&); \
    template void matmul_tn_add<T>(const T*, const T*, int64_t, int64_t, int64_t, T*, ThreadPool&);
MARIANA_INSTANTIATE(float)
MARIANA_INSTANTIATE(double)
#undef MARIANA_INSTANTIATE

}  // namespace mariana::train
