#include "kernels/swiglu.h"

#include "kernels/activation.h"
#include "kernels/elementwise.h"

#include <vector>

namespace mariana {

template <typename T>
void swiglu_forward(const T* gate_up, int64_t rows, int64_t width, T* h, ThreadPool& pool)
{
    pool.parallel_for(rows, rows_per_chunk(width), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const T* g = gate_up + r * 2 * width;
            silu_mul(g, g + width, width, h + r * width);
        }
    });
}

template <typename T>
void swiglu_backward(const T* gate_up, const T* dh, int64_t rows, int64_t width, T* dgate_up, ThreadPool& pool)
{
    pool.parallel_for(rows, rows_per_chunk(width), [&](int64_t r0, int64_t r1) {
        thread_local std::vector<T> e;
        e.resize(size_t(width));
        for (int64_t r = r0; r < r1; ++r) {
            const T *g = gate_up + r * 2 * width, *u = g + width, *d = dh + r * width;
            T *dg = dgate_up + r * 2 * width, *du = dg + width;
            exp_affine(g, T(-1), T(0), width, e.data());
            for (int64_t i = 0; i < width; ++i) {
                const T sigma = T(1) / (T(1) + e[size_t(i)]);
                dg[i] = d[i] * u[i] * sigma * (T(1) + g[i] * (T(1) - sigma));
                du[i] = d[i] * g[i] * sigma;
            }
        }
    });
}

template void swiglu_forward<float>(const float*, int64_t, int64_t, float*, ThreadPool&);
template void swiglu_forward<double>(const double*, int64_t, int64_t, double*, ThreadPool&);
template void swiglu_backward<float>(const float*, const float*, int64_t, int64_t, float*, ThreadPool&);
template void swiglu_backward<double>(const double*, const double*, int64_t, int64_t, double*, ThreadPool&);

}  // namespace mariana
