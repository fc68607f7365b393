#include "kernels/rms_norm.h"

#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mariana {

template <typename T>
void rms_norm_forward(const T* x, const T* w, int64_t rows, int64_t dim, T eps, T* y, T* rstd, ThreadPool& pool)
{
    pool.parallel_for(rows, rows_per_chunk(dim), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const T* xr = x + r * dim;
            const T s = T(1) / std::sqrt(sum_of_products(xr, xr, dim) / T(dim) + eps);
            rstd[r] = s;
            for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = w[i] * (xr[i] * s);
        }
    });
}

template <typename T>
void rms_norm_backward(const T* x, const T* w, const T* rstd, const T* dy, int64_t rows, int64_t dim,
                       const std::type_identity_t<T>* base, T* dx, T* dw, ThreadPool& pool)
{
    constexpr int64_t kBlock = 64;  // rows per partial dw: fixed, so sums never depend on threads
    const int64_t blocks = (rows + kBlock - 1) / kBlock;
    std::vector<T> partial(size_t(blocks * dim), T(0));
    pool.parallel_for(blocks, std::max<int64_t>(1, rows_per_chunk(dim) / kBlock), [&](int64_t b0, int64_t b1) {
        thread_local std::vector<T> g;  // dy ⊙ w of a row
        g.resize(size_t(dim));
        for (int64_t b = b0; b < b1; ++b) {
            T* pdw = partial.data() + b * dim;
            for (int64_t r = b * kBlock; r < std::min(rows, (b + 1) * kBlock); ++r) {
                const T* xr = x + r * dim;
                const T* dyr = dy + r * dim;
                const T s = rstd[r];
                for (int64_t i = 0; i < dim; ++i) {
                    g[size_t(i)] = dyr[i] * w[i];
                    pdw[i] += dyr[i] * (xr[i] * s);
                }
                const T mean = s * sum_of_products(g.data(), xr, dim) / T(dim);  // mean of g ⊙ x̂
                const T* br = base ? base + r * dim : nullptr;
                for (int64_t i = 0; i < dim; ++i)
                    dx[r * dim + i] = (br ? br[i] : T(0)) + s * (g[size_t(i)] - xr[i] * s * mean);
            }
        }
    });
    for (int64_t b = 0; b < blocks; ++b)
        for (int64_t i = 0; i < dim; ++i) dw[i] += partial[size_t(b * dim + i)];
}

template void rms_norm_forward<float>(const float*, const float*, int64_t, int64_t, float, float*, float*, ThreadPool&);
template void rms_norm_forward<double>(const double*, const double*, int64_t, int64_t, double, double*, double*,
                                       ThreadPool&);
template void rms_norm_backward<float>(const float*, const float*, const float*, const float*, int64_t, int64_t,
                                       const float*, float*, float*, ThreadPool&);
template void rms_norm_backward<double>(const double*, const double*, const double*, const double*, int64_t, int64_t,
                                        const double*, double*, double*, ThreadPool&);

}  // namespace mariana
