#include "kernels/rope.h"

#include <cmath>

namespace mariana {

void rope_angles(int64_t position, const float* inv_freq, int64_t dim, float* cos_sin)
{
    const int64_t half = dim / 2;
    for (int64_t i = 0; i < half; ++i) {
        const float angle = float(position) * inv_freq[i];  // fp32, as the references do
        cos_sin[i] = std::cos(angle);
        cos_sin[half + i] = std::sin(angle);
    }
}

void apply_rope(float* x, int64_t n_vectors, int64_t stride, int64_t dim, const float* cos_sin, RopeLayout layout)
{
    const int64_t half = dim / 2;
    const float* cos = cos_sin;
    const float* sin = cos_sin + half;
    for (int64_t v = 0; v < n_vectors; ++v) {
        float* p = x + v * stride;
        for (int64_t i = 0; i < half; ++i) {
            float& a = layout == RopeLayout::interleaved ? p[2 * i] : p[i];
            float& b = layout == RopeLayout::interleaved ? p[2 * i + 1] : p[i + half];
            const float a0 = a, b0 = b;
            a = a0 * cos[i] - b0 * sin[i];
            b = a0 * sin[i] + b0 * cos[i];
        }
    }
}

}  // namespace mariana
