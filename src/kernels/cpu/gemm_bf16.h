// The bf16 GEMM micro-kernel (AVX-512 BF16), used by kernels/gemm.cpp when asked for bf16
// products on a CPU that has avx512bf16. Panels hold 32-bit words (in float storage), each
// two bfloat16 values of consecutive k (the lower half first): a's kGemmBf16Rows words of a
// step adjacent, steps a_step_stride words apart, and b [steps, kGemmBf16Cols]; a step is two
// values of k.
#pragma once

#include <cstdint>

namespace mariana {

inline constexpr int kGemmBf16Rows = 12, kGemmBf16Cols = 32;

bool cpu_has_avx512_bf16();

// Stores (or with accumulate, adds) the first m rows and n columns of the tile, rows ldc apart.
// a's words for step s are a[s·a_step_stride + i], i < kGemmBf16Rows.
void gemm_tile_bf16_avx512(int64_t steps, const float* a, int64_t a_step_stride, const float* b, float* c,
                           int64_t ldc, int m, int n, bool accumulate);

}  // namespace mariana
