// The bf16 GEMM micro-kernel for AVX-512 BF16 (compiled with -mavx512bf16 on top of the
// AVX-512 flags; used only where the CPU reports avx512bf16). vdpbf16ps multiplies pairs
// of bfloat16 and adds both products into float32 lanes: twice the fp32 FMA rate.
#include "kernels/cpu/gemm_bf16.h"

#include <algorithm>
#include <immintrin.h>

namespace mariana {

void gemm_tile_bf16_avx512(int64_t steps, const float* a, int64_t a_step_stride, const float* b, float* c,
                           int64_t ldc, int m, int n, bool accumulate)
{
    constexpr int R = kGemmBf16Rows, W = 16;
    __m512 acc[R][2];
    for (auto& row : acc) row[0] = row[1] = _mm512_setzero_ps();
    for (int64_t s = 0; s < steps; ++s) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_ps(b + s * 2 * W);
        const __m512bh b1 = (__m512bh)_mm512_loadu_ps(b + s * 2 * W + W);
#pragma GCC unroll 16
        for (int i = 0; i < R; ++i) {
            const __m512bh ai = (__m512bh)_mm512_set1_ps(a[s * a_step_stride + i]);  // one pair, every lane
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    const int n0 = std::min(n, W), n1 = std::max(0, std::min(n - W, W));
    const __mmask16 mask0 = __mmask16((1u << n0) - 1u), mask1 = __mmask16((1u << n1) - 1u);
    for (int i = 0; i < m; ++i) {
        float* row = c + i * ldc;
        if (accumulate) {
            acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(mask0, row));
            acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(mask1, row + W));
        }
        _mm512_mask_storeu_ps(row, mask0, acc[i][0]);
        if (n1 > 0) _mm512_mask_storeu_ps(row + W, mask1, acc[i][1]);
    }
}

}  // namespace mariana
