// The three matrix products of a linear layer's forward and backward, row-major, with W
// stored [out, in] as checkpoints store projections. Templated on the scalar: float for
// training, double for the finite-difference gradient checks. The weight gradient adds into
// its output (gradients accumulate over uses and micro-batches), dx adds or overwrites.
// `precision` applies to float (double is always exact).
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"

#include <cstdint>

namespace mariana {

// y[n, m] = x[n, k] · w[m, k]ᵀ (overwrites y).
template <typename T>
void matmul_nt(const T* x, const T* w, int64_t n, int64_t k, int64_t m, T* y, ThreadPool& pool,
               GemmPrecision precision = GemmPrecision::f32);

// dx[n, k] += dy[n, m] · w[m, k], or with accumulate false dx = dy · w.
template <typename T>
void matmul_nn(const T* dy, const T* w, int64_t n, int64_t m, int64_t k, T* dx, bool accumulate, ThreadPool& pool,
               GemmPrecision precision = GemmPrecision::f32);

// dw[m, k] += dy[n, m]ᵀ · x[n, k].
template <typename T>
void matmul_tn_add(const T* dy, const T* x, int64_t n, int64_t m, int64_t k, T* dw, ThreadPool& pool,
                   GemmPrecision precision = GemmPrecision::f32);

}  // namespace mariana
