// The bf16 GEMM micro-kernel for AVX-512 BF16 (compiled with -mavx512bf16 on top of the
// AVX-512 flags; used only where the CPU reports avx512bf16). vdpbf16ps multiplies pairs
// of bfloat16 and adds both products into float32 lanes: twice the fp32 FMA rate.
#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/register_tile.h"

#include <immintrin.h>

namespace mariana {

namespace {

struct Zmm {  // the vector operations store_tile needs
    using F = __m512;
    static constexpr int W = 16;
    static F load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, F a) { _mm512_storeu_ps(p, a); }
    static F add(F a, F b) { return _mm512_add_ps(a, b); }
};

// A's word (i, s) at a[s·step + i] in a k-major panel (kPanel), or a[i·rows + s] where
// rows of words are read as a caller wrote them. R rows of accumulators: a tile of fewer
// rows (decoding's one) computes only those; each lane's sum is the same whatever R.
template <bool kPanel, int R>
void tile_of(int64_t steps, const float* a, int64_t rows, int64_t step, const float* b, float* c, int64_t ldc,
             int m, int n, bool accumulate)
{
    constexpr int W = Zmm::W;
    __m512 acc[R][2];
    for_each_index<R>([&](int i) { acc[i][0] = acc[i][1] = _mm512_setzero_ps(); });
    for (int64_t s = 0; s < steps; ++s) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_ps(b + s * 2 * W);
        const __m512bh b1 = (__m512bh)_mm512_loadu_ps(b + s * 2 * W + W);
        for_each_index<R>([&](int i) {
            const float word = kPanel ? a[s * step + i] : a[i * rows + s];
            const __m512bh ai = (__m512bh)_mm512_set1_ps(word);  // one pair, every lane
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        });
    }
    store_tile<Zmm>(acc, c, ldc, m, n, accumulate);
}

}  // namespace

namespace {

template <int R>
void tile_rows(int64_t steps, const float* a, int64_t a_row_stride, int64_t a_step_stride, const float* b, float* c,
               int64_t ldc, int m, int n, bool accumulate)
{
    if (a_row_stride == 1) tile_of<true, R>(steps, a, 1, a_step_stride, b, c, ldc, m, n, accumulate);
    else tile_of<false, R>(steps, a, a_row_stride, 1, b, c, ldc, m, n, accumulate);
}

}  // namespace

void gemm_tile_bf16_avx512(int64_t steps, const float* a, int64_t a_row_stride, int64_t a_step_stride,
                           const float* b, float* c, int64_t ldc, int m, int n, bool accumulate)
{
    static_assert(kGemmBf16Rows == 12);
    if (m <= 1) return tile_rows<1>(steps, a, a_row_stride, a_step_stride, b, c, ldc, m, n, accumulate);
    if (m <= 2) return tile_rows<2>(steps, a, a_row_stride, a_step_stride, b, c, ldc, m, n, accumulate);
    if (m <= 4) return tile_rows<4>(steps, a, a_row_stride, a_step_stride, b, c, ldc, m, n, accumulate);
    if (m <= 8) return tile_rows<8>(steps, a, a_row_stride, a_step_stride, b, c, ldc, m, n, accumulate);
    tile_rows<12>(steps, a, a_row_stride, a_step_stride, b, c, ldc, m, n, accumulate);
}

}  // namespace mariana
