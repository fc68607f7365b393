#include "train/rms_norm.h"

#include <cmath>

namespace mariana::train {

template <typename T>
void rms_norm_forward(const T* x, const T* w, int64_t rows, int64_t dim, T eps, T* y, T* rstd)
{
    for (int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * dim;
        T sum = 0;
        for (int64_t i = 0; i < dim; ++i) sum += xr[i] * xr[i];
        const T s = T(1) / std::sqrt(sum / T(dim) + eps);
        rstd[r] = s;
        for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = w[i] * (xr[i] * s);
    }
}

template <typename T>
void rms_norm_backward(const T* x, const T* w, const T* rstd, const T* dy, int64_t rows, int64_t dim, T* dx, T* dw)
{
    for (int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * dim;
        const T* dyr = dy + r * dim;
        const T s = rstd[r];
        T g_dot_xhat = 0;
        for (int64_t i = 0; i < dim; ++i) {
            const T xhat = xr[i] * s;
            g_dot_xhat += dyr[i] * w[i] * xhat;
            dw[i] += dyr[i] * xhat;
        }
        const T mean = g_dot_xhat / T(dim);
        for (int64_t i = 0; i < dim; ++i) dx[r * dim + i] += s * (dyr[i] * w[i] - xr[i] * s * mean);
    }
}

template void rms_norm_forward<float>(const float*, const float*, int64_t, int64_t, float, float*, float*);
template void rms_norm_forward<double>(const double*, const double*, int64_t, int64_t, double, double*, double*);
template void rms_norm_backward<float>(const float*, const float*, const float*, const float*, int64_t, int64_t, float*,
                                       float*);
template void rms_norm_backward<double>(const double*, const double*, const double*, const double*, int64_t, int64_t,
                                        double*, double*);

}  // namespace mariana::train
