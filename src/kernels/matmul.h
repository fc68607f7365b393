// Matrix products against stored weights (any dtype, converted inside the kernel).
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/weight.h"

namespace mariana {

// y[t, r] = Σ_c x[t, c] · w[r, c]; x is [n_tokens, w.cols], y is [n_tokens, w.rows].
// Every weight converted exactly and multiplied in float32, rows split across the pool,
// with the fastest kernels the CPU supports. Each row's result is summed in one order,
// whatever the other rows and the threads. (bf16 products go through a weight packed once:
// gemm_packed in kernels/gemm.h.)
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
