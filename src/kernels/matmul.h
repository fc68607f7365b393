// Matrix products against stored weights (any dtype, converted inside the kernel).
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/weight.h"

namespace mariana {

// y[t, r] = Σ_c x[t, c] · w[r, c]; x is [n_tokens, w.cols], y is [n_tokens, w.rows].
// Rows are split across the pool. Uses the fastest kernels the CPU supports.
//
// `precision` is the run's compute setting. float32: every weight converted exactly and
// multiplied in float32, each row on its own (a row's result does not depend on the other
// rows). bf16, on CPUs with AVX-512 BF16: a product of kGemmMinRows rows or more with an F32
// or BF16 weight goes through the blocked GEMM (kernels/gemm.h), x rounded to bfloat16 and
// the products summed in float32 (twice the arithmetic rate on AMD Zen 4); fewer rows
// (decoding, short prompts, most MoE experts), FP8 and F16 weights take the float32 path.
// Packing the weights costs the GEMM as much as the float32 path's whole product at a few
// rows: measured on an Intel Xeon with AVX-512 BF16, 16 rows ran at 0.6x and 128 rows at
// 1.05x the float32 path, hence the threshold. Within the GEMM a row's result does not
// depend on the other rows either, but it differs in its last bits from the float32 path's.
void matmul(const Weight& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            GemmPrecision precision = GemmPrecision::f32);
inline constexpr int64_t kGemmMinRows = 64;

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
