#include "kernels/norm.h"

#include <cmath>

namespace mariana {

void rmsnorm(const float* x, const float* w, int64_t n_rows, int64_t dim, float eps, float* y)
{
    for (int64_t r = 0; r < n_rows; ++r) {
        const float* xr = x + r * dim;
        float* yr = y + r * dim;
        float sum_sq = 0.0f;
        for (int64_t i = 0; i < dim; ++i) sum_sq += xr[i] * xr[i];
        const float inv_rms = 1.0f / std::sqrt(sum_sq / float(dim) + eps);
        for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * inv_rms * w[i];
    }
}

}  // namespace mariana
