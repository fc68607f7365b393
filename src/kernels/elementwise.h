// Elementwise work over long arrays, split across the pool (on one thread these are pure
// memory traffic; with two they would otherwise leave the second core idle).
#pragma once

#include "core/thread_pool.h"

#include <cstdint>
#include <initializer_list>
#include <utility>

namespace mariana {

// Rows of `width` values per parallel chunk of a row-wise loop: about 16K values, at least
// one row (the split never changes a result, only how work is shared).
int64_t rows_per_chunk(int64_t width);

// out[i] = a[i] + b[i] for i < n; out may be a or b.
template <typename T>
void add(const T* a, const T* b, int64_t n, T* out, ThreadPool& pool);

// x[i] = 0 for i < n.
template <typename T>
void fill_zero(T* x, int64_t n, ThreadPool& pool);

// The column blocks of a [rows, Σ widths] matrix (a fused projection's output) to their
// own [rows, width] arrays, and back: parts are {array, width} in column order.
template <typename T>
void split_columns(const T* all, int64_t rows, std::initializer_list<std::pair<T*, int64_t>> parts, ThreadPool& pool);
template <typename T>
void join_columns(std::initializer_list<std::pair<const T*, int64_t>> parts, int64_t rows, T* all, ThreadPool& pool);

// Σ a[i]·b[i] on the calling thread: for float the vector kernel (a plain loop's serial sum
// runs at one add per FP latency; the kernel's order depends on n alone, never on threads),
// for double (gradient checks) in index order.
float sum_of_products(const float* a, const float* b, int64_t n);
double sum_of_products(const double* a, const double* b, int64_t n);

// max_i x[i] over n ≥ 1 values on the calling thread, in sixteen running lanes so that the
// loop vectorises (a NaN may or may not propagate, as with std::max_element).
template <typename T>
T max_of(const T* x, int64_t n);

}  // namespace mariana
