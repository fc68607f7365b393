// RMSNorm: y = w ⊙ x / sqrt(mean(x²) + eps), in float32.
#pragma once

#include <cstdint>

namespace mariana {

// x and y are [n_rows, dim] (may alias); w is [dim].
void rmsnorm(const float* x, const float* w, int64_t n_rows, int64_t dim, float eps, float* y);

}  // namespace mariana
