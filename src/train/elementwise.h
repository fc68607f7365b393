// Elementwise work over long arrays, split across the pool (on one thread these are pure
// memory traffic; with two they would otherwise leave the second core idle).
#pragma once

#include "core/thread_pool.h"

#include <cstdint>

namespace mariana::train {

// out[i] = a[i] + b[i] for i < n; out may be a or b.
template <typename T>
void add(const T* a, const T* b, int64_t n, T* out, ThreadPool& pool);

}  // namespace mariana::train
