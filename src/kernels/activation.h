// Element-wise activations.
#pragma once

#include <cstdint>

namespace mariana {

// SwiGLU gate: h[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^-g). h may alias gate.
void silu_mul(const float* gate, const float* up, int64_t n, float* h);

// In-place softmax over n values (max-subtracted, fp32).
void softmax(float* x, int64_t n);

}  // namespace mariana
