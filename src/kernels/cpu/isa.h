// The instruction sets the CPU kernels are compiled for, and the table of kernels for
// each. The fastest one the CPU supports is picked at run time (MARIANA_ISA=scalar|avx2|
// avx512 forces one, for tests and comparisons).
#pragma once

#include "kernels/weight.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace mariana {

enum class Isa { scalar, avx2, avx512 };

struct KernelTable {
    Isa isa;
    const char* name;
    // y[t, r] = Σ_c x[t, c] · w[r, c] for rows [row_begin, row_end) and t < n_tokens.
    // x is [n_tokens, w.cols], y is [n_tokens, w.rows].
    void (*matmul_rows)(const Weight& w, const float* x, int64_t n_tokens, float* y, int64_t row_begin,
                        int64_t row_end);
    // y[c] = Σ_r x[r] · w[r, c]: x is [w.rows], y is [w.cols] (overwritten).
    void (*matmul_transposed)(const Weight& w, const float* x, float* y);
    float (*dot)(const float* a, const float* b, int64_t n);
    // y += a · x
    void (*axpy)(float* y, float a, const float* x, int64_t n);
    // y[i] = e^(a·x[i] + b) for i < n (y may be x, or null to keep only the sum); returns
    // Σ y[i], summed in an order fixed by n alone.
    float (*exp_affine)(const float* x, float a, float b, int64_t n, float* y);
    // The GEMM micro-kernel (kernels/gemm.h): a gemm_rows × gemm_cols tile of C from a
    // k-major packed panel b [k, gemm_cols] and gemm_rows rows of A, element (i, p) at
    // a[i·a_row_stride + p·a_step_stride] with one of the strides 1: a k-major panel (rows
    // adjacent, steps a_step_stride apart) or rows as stored (k contiguous). Stores (or with
    // accumulate, adds) its first m rows and n columns, rows ldc apart.
    void (*gemm_tile)(int64_t k, const float* a, int64_t a_row_stride, int64_t a_step_stride, const float* b,
                      float* c, int64_t ldc, int m, int n, bool accumulate);
    int gemm_rows, gemm_cols;
    // Packs an operand for gemm_tile (kernels/cpu/gemm_pack.h).
    void (*gemm_pack)(int k_step, const float* src, int64_t vector_stride, int64_t element_stride, int64_t count,
                      int64_t kc, int width, float* out);
    // The same from vectors of bfloat16 stored contiguously (a BF16 weight's rows as B).
    void (*gemm_pack_bf16)(int k_step, const uint16_t* src, int64_t vector_stride, int64_t count, int64_t kc,
                           int width, float* out);
};

bool isa_supported(Isa isa);
const KernelTable& kernel_table(Isa isa);
// Every table compiled in and supported by this CPU, slowest first.
std::vector<const KernelTable*> supported_kernel_tables();
// The table the engine uses: the fastest supported, or the one MARIANA_ISA names.
const KernelTable& active_kernels();

}  // namespace mariana
