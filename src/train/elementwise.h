// Elementwise work over long arrays, split across the pool (on one thread these are pure
// memory traffic; with two they would otherwise leave the second core idle).
#pragma once

#include "core/thread_pool.h"

#include <cstdint>

namespace mariana::train {

// out[i] = a[i] + b[i] for i < n; out may be a or b.
template <typename T>
void add(const T* a, const T* b, int64_t n, T* out, ThreadPool& pool);

// Σ a[i]·b[i] on the calling thread: for float the vector kernel (a plain loop's serial sum
// runs at one add per FP latency; the kernel's order depends on n alone, never on threads),
// for double (gradient checks) in index order.
float sum_of_products(const float* a, const float* b, int64_t n);
double sum_of_products(const double* a, const double* b, int64_t n);

// max_i x[i] over n ≥ 1 values on the calling thread, in sixteen running lanes so that the
// loop vectorises (a NaN may or may not propagate, as with std::max_element).
template <typename T>
T max_of(const T* x, int64_t n);

}  // namespace mariana::train
