// Element-wise activations.
#pragma once

#include <cstdint>

namespace mariana {

// y[i] = e^(a·x[i] + b) for i < n, returning Σ y[i]: the exponentials of softmax and of
// its gradient, with a vector exp within 2 ulp of e^x. y may be x, or null when only the
// sum is wanted. The sum's order depends on n alone, never on threads.
float exp_affine(const float* x, float a, float b, int64_t n, float* y);
// The plain twin in double (std::exp, summed in index order), for gradient checks.
double exp_affine(const double* x, double a, double b, int64_t n, double* y);

// SwiGLU gate: h[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g). h may alias gate.
// The double one (training's gradient checks) goes through the double exp_affine.
void silu_mul(const float* gate, const float* up, int64_t n, float* h);
void silu_mul(const double* gate, const double* up, int64_t n, double* h);

// In-place softmax over n values (max-subtracted, fp32).
void softmax(float* x, int64_t n);

}  // namespace mariana
