#include "kernels/activation.h"

#include "kernels/cpu/isa.h"

#include <algorithm>
#include <cmath>

namespace mariana {

float exp_affine(const float* x, float a, float b, int64_t n, float* y)
{
    return active_kernels().exp_affine(x, a, b, n, y);
}

double exp_affine(const double* x, double a, double b, int64_t n, double* y)
{
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double e = std::exp(a * x[i] + b);
        if (y) y[i] = e;
        sum += e;
    }
    return sum;
}

namespace {

template <typename T>
void silu_mul_of(const T* gate, const T* up, int64_t n, T* h)
{
    constexpr int64_t kBlock = 256;  // e^-g goes through a block on the stack: h may be gate
    T e[kBlock];
    for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
        const int64_t m = std::min(kBlock, n - i0);
        exp_affine(gate + i0, T(-1), T(0), m, e);
        for (int64_t i = 0; i < m; ++i) h[i0 + i] = gate[i0 + i] / (T(1) + e[i]) * up[i0 + i];
    }
}

}  // namespace

void silu_mul(const float* gate, const float* up, int64_t n, float* h) { silu_mul_of(gate, up, n, h); }
void silu_mul(const double* gate, const double* up, int64_t n, double* h) { silu_mul_of(gate, up, n, h); }

void softmax(float* x, int64_t n)
{
    const float max = *std::max_element(x, x + n);
    const float inv = 1.0f / exp_affine(x, 1.0f, -max, n, x);
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace mariana
