// The bf16 GEMM micro-kernel (AVX-512 BF16), used by kernels/gemm.cpp when asked for bf16
// products on a CPU that has avx512bf16. Operands hold 32-bit words (in float storage), each
// two bfloat16 values of consecutive k (the lower half first); a step is two values of k.
// b is a panel [steps, kGemmBf16Cols]; a's kGemmBf16Rows rows are a k-major panel (rows
// adjacent, a_row_stride 1) or rows of words as stored (steps adjacent, a_step_stride 1).
#pragma once

#include <cstdint>

namespace mariana {

inline constexpr int kGemmBf16Rows = 12, kGemmBf16Cols = 32;

bool cpu_has_avx512_bf16();

// Stores (or with accumulate, adds) the first m rows and n columns of the tile, rows ldc apart.
// Only m rows are computed (a one-row tile costs a twelfth of a whole one); each element is
// the same whatever m.
// a's word (row i, step s) is a[i·a_row_stride + s·a_step_stride], i < kGemmBf16Rows.
void gemm_tile_bf16_avx512(int64_t steps, const float* a, int64_t a_row_stride, int64_t a_step_stride,
                           const float* b, float* c, int64_t ldc, int m, int n, bool accumulate);

}  // namespace mariana
