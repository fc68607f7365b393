// The CPU kernels for AVX2 + FMA + F16C (compiled with -mavx2 -mfma -mf16c): 8 floats.
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/register_tile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <immintrin.h>

namespace mariana {
namespace avx2_isa {

struct V {
    using F = __m256;
    static constexpr int W = 8;
    static constexpr int kGemmRows = 6;  // GEMM tile rows: 12 of the 16 vector registers hold accumulators
    static F zero() { return _mm256_setzero_ps(); }
    static F set1(float a) { return _mm256_set1_ps(a); }
    static F load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, F a) { _mm256_storeu_ps(p, a); }
    static F load_n(const float* p, int n)
    {
        alignas(32) float tmp[8] = {};
        std::memcpy(tmp, p, size_t(n) * sizeof(float));
        return _mm256_load_ps(tmp);
    }
    static void store_n(float* p, F a, int n)
    {
        if (n == W) return _mm256_storeu_ps(p, a);
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, a);
        std::memcpy(p, tmp, size_t(n) * sizeof(float));
    }
    static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
    static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
    static float sum(F a)
    {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static F add(F a, F b) { return _mm256_add_ps(a, b); }
    static F round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static F scale2(F p, F n)
    {
        const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
        return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
    }
    static F where_below(F x, float limit, float value, F other)
    {
        return _mm256_blendv_ps(other, set1(value), _mm256_cmp_ps(x, set1(limit), _CMP_LT_OQ));
    }
    static F where_above(F x, float limit, float value, F other)
    {
        return _mm256_blendv_ps(other, set1(value), _mm256_cmp_ps(x, set1(limit), _CMP_GT_OQ));
    }
    static F bf16_bits(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
    static F load_bf16(const uint16_t* p) { return bf16_bits(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static F load_bf16_n(const uint16_t* p, int n)
    {
        alignas(16) uint16_t tmp[8] = {};
        std::memcpy(tmp, p, size_t(n) * 2);
        return load_bf16(tmp);
    }
    static F load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static F load_f16_n(const uint16_t* p, int n)
    {
        alignas(16) uint16_t tmp[8] = {};
        std::memcpy(tmp, p, size_t(n) * 2);
        return load_f16(tmp);
    }
    // e4m3 → float16 bits (sign to bit 15, exponent and mantissa shifted up by 7) → float32.
    static F load_fp8(const uint8_t* p)
    {
        const __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
        const __m128i sign = _mm_slli_epi16(_mm_and_si128(b, _mm_set1_epi16(0x80)), 8);
        const __m128i rest = _mm_slli_epi16(_mm_and_si128(b, _mm_set1_epi16(0x7f)), 7);
        return _mm256_cvtph_ps(_mm_or_si128(sign, rest));
    }
    static F load_fp8_n(const uint8_t* p, int n)
    {
        alignas(16) uint8_t tmp[16] = {};
        std::memcpy(tmp, p, size_t(n));
        return load_fp8(tmp);
    }
};

#include "kernels/cpu/kernels_impl.h"

}  // namespace avx2_isa

extern const KernelTable kAvx2Kernels = {Isa::avx2, "avx2", avx2_isa::matmul_rows, avx2_isa::matmul_transposed,
                                         avx2_isa::dot, avx2_isa::axpy, avx2_isa::exp_affine, avx2_isa::gemm_tile, avx2_isa::V::kGemmRows, 2 * avx2_isa::V::W, gemm_pack_generic, gemm_pack_bf16_generic};

}  // namespace mariana
