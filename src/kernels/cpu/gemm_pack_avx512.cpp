// GEMM packing with AVX-512 (see gemm_pack.h): the two layouts a linear layer's products
// pack, sixteen lanes at a time. Vectors stored contiguously (a row-major A, or Wᵀ as B)
// go through 16×16 register transposes; lanes stored contiguously (runs) are copied, or
// converted, a vector at a time. bfloat16 rounding is done on the integer bits exactly as
// f32_to_bf16 does it (nearest even, NaN kept quiet, subnormals kept), so every path packs
// the same words.
#include "kernels/cpu/gemm_pack.h"

#include <immintrin.h>

namespace mariana {

namespace {

__mmask16 first(int64_t n) { return __mmask16(n >= 16 ? 0xffffu : (1u << std::max<int64_t>(n, 0)) - 1u); }

// The float's bits with its bfloat16 rounding in the upper half (the lower half is junk).
__m512i bf16_rounded(__m512 x)
{
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff)),
                                                  _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(bits, _mm512_set1_epi32(0x00400000)));
}

// Words (lo[i] in the low half, hi[i] in the high half) for 16 lanes.
__m512 bf16_words(__m512 lo, __m512 hi)
{
    const __m512i low = _mm512_srli_epi32(bf16_rounded(lo), 16);
    const __m512i high = _mm512_and_si512(bf16_rounded(hi), _mm512_set1_epi32(int(0xffff0000u)));
    return _mm512_castsi512_ps(_mm512_or_si512(low, high));
}

// Words of 32 consecutive values v[0..31] (zero past n): word i holds v[2i] and v[2i+1].
__m512 bf16_words_along(const float* v, int64_t n)
{
    const __m512i r0 = bf16_rounded(_mm512_maskz_loadu_ps(first(n), v));
    const __m512i r1 = bf16_rounded(_mm512_maskz_loadu_ps(first(n - 16), v + 16));
    // The upper halves in order: 16-bit element 2j + 1 of r0:r1 for j = 0..31.
    const __m512i odd = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27,
                                         25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_castsi512_ps(_mm512_permutex2var_epi16(r0, odd, r1));
}

// r[i][j] ← r[j][i].
void transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4g + c], 128-bit lane L: column 4L + c of rows 4g..4g+3.
    for (int g = 0; g < 4; ++g) {
        u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xee);
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xee);
    }
    for (int c = 0; c < 4; ++c) {
        const __m512 s0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), s1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);
        const __m512 s2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88),
                     s3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
        r[c] = _mm512_shuffle_f32x4(s0, s2, 0x88);
        r[c + 8] = _mm512_shuffle_f32x4(s0, s2, 0xdd);
        r[c + 4] = _mm512_shuffle_f32x4(s1, s3, 0x88);
        r[c + 12] = _mm512_shuffle_f32x4(s1, s3, 0xdd);
    }
}

// Vectors contiguous: per block of 16 lanes × 16 steps, load each lane's words as a row,
// transpose, and store a row per step.
template <int kStep>
void pack_along(const float* src, int64_t vector_stride, int64_t count, int64_t kc, int width, float* out)
{
    const int64_t steps = (kc + kStep - 1) / kStep;
    if (width == 1 && count == 1) {  // one vector: its words are consecutive, nothing to transpose
        for (int64_t s0 = 0; s0 < steps; s0 += 16) {
            const __m512 words = kStep == 1 ? _mm512_maskz_loadu_ps(first(kc - s0), src + s0)
                                            : bf16_words_along(src + 2 * s0, kc - 2 * s0);
            _mm512_mask_storeu_ps(out + s0, first(steps - s0), words);
        }
        return;
    }
    for (int lane0 = 0; lane0 < width; lane0 += 16) {
        const __mmask16 store = first(width - lane0);
        for (int64_t s0 = 0; s0 < steps; s0 += 16) {
            __m512 r[16];
            for (int l = 0; l < 16; ++l) {
                if (lane0 + l >= count) {
                    r[l] = _mm512_setzero_ps();
                    continue;
                }
                const float* v = src + (lane0 + l) * vector_stride + s0 * kStep;
                if constexpr (kStep == 1) r[l] = _mm512_maskz_loadu_ps(first(kc - s0), v);
                else r[l] = bf16_words_along(v, kc - 2 * s0);
            }
            transpose16(r);
            for (int64_t s = s0; s < std::min(steps, s0 + 16); ++s) _mm512_mask_storeu_ps(out + s * width + lane0, store, r[s - s0]);
        }
    }
}

// Lanes contiguous: each step's lanes are a run of memory.
template <int kStep>
void pack_runs(const float* src, int64_t element_stride, int64_t count, int64_t kc, int width, float* out)
{
    const int64_t steps = (kc + kStep - 1) / kStep;
    for (int64_t s = 0; s < steps; ++s)
        for (int lane0 = 0; lane0 < width; lane0 += 16) {
            const __mmask16 load = first(count - lane0), store = first(width - lane0);
            const float* v = src + lane0 + s * kStep * element_stride;
            __m512 word = _mm512_maskz_loadu_ps(load, v);
            if constexpr (kStep == 2) {
                const __m512 hi = 2 * s + 1 < kc ? _mm512_maskz_loadu_ps(load, v + element_stride) : _mm512_setzero_ps();
                word = bf16_words(word, hi);
            }
            _mm512_mask_storeu_ps(out + s * width + lane0, store, word);
        }
}

template <int kStep>
void pack(const float* src, int64_t vector_stride, int64_t element_stride, int64_t count, int64_t kc, int width,
          float* out)
{
    if (element_stride == 1) pack_along<kStep>(src, vector_stride, count, kc, width, out);
    else if (vector_stride == 1) pack_runs<kStep>(src, element_stride, count, kc, width, out);
    else gemm_pack_panel<kStep>(src, vector_stride, element_stride, count, kc, width, out);
}

// Words of one bfloat16 vector v from step s0 on, 16 of them (zero past kc): float32 values
// (kStep 1), or the stored pairs themselves (kStep 2; masked per value, so an odd kc's last
// word has a zero upper half and nothing past v[kc - 1] is read).
template <int kStep>
__m512 bf16_vector_words(const uint16_t* v, int64_t s0, int64_t kc)
{
    if constexpr (kStep == 1) {
        const __m256i halves = _mm256_maskz_loadu_epi16(first(kc - s0), v + s0);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
    }
    const int64_t left = kc - 2 * s0;
    const __mmask32 values = left >= 32 ? __mmask32(0xffffffffu) : __mmask32((1u << std::max<int64_t>(left, 0)) - 1u);
    return _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(values, v + 2 * s0));
}

template <int kStep>
void pack_bf16(const uint16_t* src, int64_t vector_stride, int64_t count, int64_t kc, int width, float* out)
{
    const int64_t steps = (kc + kStep - 1) / kStep;
    for (int lane0 = 0; lane0 < width; lane0 += 16) {
        const __mmask16 store = first(width - lane0);
        for (int64_t s0 = 0; s0 < steps; s0 += 16) {
            __m512 r[16];
            for (int l = 0; l < 16; ++l)
                r[l] = lane0 + l < count ? bf16_vector_words<kStep>(src + (lane0 + l) * vector_stride, s0, kc)
                                         : _mm512_setzero_ps();
            transpose16(r);
            for (int64_t s = s0; s < std::min(steps, s0 + 16); ++s)
                _mm512_mask_storeu_ps(out + s * width + lane0, store, r[s - s0]);
        }
    }
}

}  // namespace

void gemm_pack_bf16_avx512(int k_step, const uint16_t* src, int64_t vector_stride, int64_t count, int64_t kc,
                           int width, float* out)
{
    if (k_step == 2) pack_bf16<2>(src, vector_stride, count, kc, width, out);
    else pack_bf16<1>(src, vector_stride, count, kc, width, out);
}

void gemm_pack_avx512(int k_step, const float* src, int64_t vector_stride, int64_t element_stride, int64_t count,
                      int64_t kc, int width, float* out)
{
    if (k_step == 2) pack<2>(src, vector_stride, element_stride, count, kc, width, out);
    else pack<1>(src, vector_stride, element_stride, count, kc, width, out);
}

}  // namespace mariana
