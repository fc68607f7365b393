// Matrix products against stored weights (any dtype, converted inside the kernel).
#pragma once

#include "core/thread_pool.h"
#include "kernels/weight.h"

namespace mariana {

// y[t, r] = Σ_c x[t, c] · w[r, c]; x is [n_tokens, w.cols], y is [n_tokens, w.rows].
// Rows are split across the pool. Uses the fastest kernels the CPU supports.
void matmul(const Weight& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// The same product on one thread (for callers that already run inside a parallel loop).
void matmul_serial(const Weight& w, const float* x, int64_t n_tokens, float* y);

// y[c] = Σ_r x[r] · w[r, c] on one thread: x is [w.rows], y is [w.cols].
void matmul_transposed(const Weight& w, const float* x, float* y);

float dot(const float* a, const float* b, int64_t n);
void axpy(float* y, float a, const float* x, int64_t n);  // y += a · x

// Plain twins for tests: one element at a time, double accumulation.
void matmul_reference(const Weight& w, const float* x, int64_t n_tokens, float* y);
void matmul_transposed_reference(const Weight& w, const float* x, float* y);

}  // namespace mariana
