#include "kernels/activation.h"

#include <algorithm>
#include <cmath>

namespace mariana {

void silu_mul(const float* gate, const float* up, int64_t n, float* h)
{
    for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        h[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

void softmax(float* x, int64_t n)
{
    const float max = *std::max_element(x, x + n);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace mariana
