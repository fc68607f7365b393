// The CPU kernels for AVX-512 F/BW/VL (compiled with -mavx512f -mavx512bw -mavx512vl
// -mfma -mf16c): 16 floats, masked loads for the tails.
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/register_tile.h"

#include <algorithm>
#include <cmath>
#include <immintrin.h>

namespace mariana {
namespace avx512_isa {

struct V {
    using F = __m512;
    static constexpr int W = 16;
    static constexpr int kGemmRows = 12;  // GEMM tile rows: 24 of the 32 vector registers hold accumulators
    static __mmask16 mask(int n) { return __mmask16((1u << n) - 1u); }
    static F zero() { return _mm512_setzero_ps(); }
    static F set1(float a) { return _mm512_set1_ps(a); }
    static F load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, F a) { _mm512_storeu_ps(p, a); }
    static F load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
    static void store_n(float* p, F a, int n) { _mm512_mask_storeu_ps(p, mask(n), a); }
    static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
    static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
    static float sum(F a) { return _mm512_reduce_add_ps(a); }
    static F add(F a, F b) { return _mm512_add_ps(a, b); }
    static F round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static F scale2(F p, F n)
    {
        const __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23);
        return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
    }
    static F where_below(F x, float limit, float value, F other)
    {
        return _mm512_mask_mov_ps(other, _mm512_cmp_ps_mask(x, set1(limit), _CMP_LT_OQ), set1(value));
    }
    static F where_above(F x, float limit, float value, F other)
    {
        return _mm512_mask_mov_ps(other, _mm512_cmp_ps_mask(x, set1(limit), _CMP_GT_OQ), set1(value));
    }
    static F bf16_bits(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
    static F load_bf16(const uint16_t* p) { return bf16_bits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static F load_bf16_n(const uint16_t* p, int n) { return bf16_bits(_mm256_maskz_loadu_epi16(mask(n), p)); }
    static F load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static F load_f16_n(const uint16_t* p, int n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask(n), p)); }
    // e4m3 → float16 bits (sign to bit 15, exponent and mantissa shifted up by 7) → float32.
    static F fp8_bits(__m128i bytes)
    {
        const __m256i b = _mm256_cvtepu8_epi16(bytes);
        const __m256i sign = _mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi16(0x80)), 8);
        const __m256i rest = _mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi16(0x7f)), 7);
        return _mm512_cvtph_ps(_mm256_or_si256(sign, rest));
    }
    static F load_fp8(const uint8_t* p) { return fp8_bits(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static F load_fp8_n(const uint8_t* p, int n) { return fp8_bits(_mm_maskz_loadu_epi8(mask(n), p)); }
};

#include "kernels/cpu/kernels_impl.h"

}  // namespace avx512_isa

extern const KernelTable kAvx512Kernels = {Isa::avx512, "avx512", avx512_isa::matmul_rows,
                                           avx512_isa::matmul_transposed, avx512_isa::dot, avx512_isa::axpy, avx512_isa::exp_affine, avx512_isa::gemm_tile, avx512_isa::V::kGemmRows, 2 * avx512_isa::V::W, gemm_pack_avx512, gemm_pack_bf16_avx512};

}  // namespace mariana
