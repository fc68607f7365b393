// RMSNorm forward and backward: y = w ⊙ x · r with r = 1 / sqrt(mean(x²) + eps) per row.
// The forward saves r per row; the backward writes dx onto a base (the residual stream's
// gradient, or dx itself to add into it) and adds into dw.
#pragma once

#include "core/thread_pool.h"

#include <cstdint>
#include <type_traits>

namespace mariana {

template <typename T>
void rms_norm_forward(const T* x, const T* w, int64_t rows, int64_t dim, T eps, T* y, T* rstd, ThreadPool& pool);

// dx = base + (r / dim) · (dim · g - x̂ Σ g ⊙ x̂) with g = dy ⊙ w and x̂ = x · r, base null
// for zero or dx itself to add into dx (a residual's gradient passes through this way
// without a copy); dw += Σ_rows dy ⊙ x̂.
template <typename T>
// Rows run in parallel; dw is summed per fixed block of rows, then over the blocks in
// order, so the result does not depend on the thread count.
void rms_norm_backward(const T* x, const T* w, const T* rstd, const T* dy, int64_t rows, int64_t dim,
                       const std::type_identity_t<T>* base, T* dx, T* dw, ThreadPool& pool);

}  // namespace mariana
