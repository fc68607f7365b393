// Packing GEMM operands for the micro-kernels (kernels/gemm.cpp): `count` vectors of
// length kc become 32-bit words out[s·width + lane], lanes count..width-1 zero. Vector
// `lane` starts at src + lane·vector_stride and steps by element_stride. A word holds
// k_step values of k: one float32 (k_step 1), or two bfloat16 rounded to nearest even,
// the even k in the low half (k_step 2; the last pair padded with zero when kc is odd),
// kept in float storage (the bits as they are) so the float32 kernels read it without
// aliasing.
#pragma once

#include "core/dtype.h"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace mariana {

// One element at a time, any strides: every instruction set's fallback.
template <int kStep>
void gemm_pack_panel(const float* src, int64_t vector_stride, int64_t element_stride, int64_t count, int64_t kc,
                     int width, float* out)
{
    const int64_t steps = (kc + kStep - 1) / kStep;
    auto word = [&](const float* v, int64_t s, int64_t stride) -> float {
        if constexpr (kStep == 1) return v[s * stride];
        const float hi = 2 * s + 1 < kc ? v[(2 * s + 1) * stride] : 0.0f;
        return std::bit_cast<float>(uint32_t(f32_to_bf16(v[2 * s * stride])) | uint32_t(f32_to_bf16(hi)) << 16);
    };
    if (element_stride == 1) {  // each vector contiguous: read along it, write strided
        for (int64_t lane = 0; lane < count; ++lane) {
            const float* v = src + lane * vector_stride;
            for (int64_t s = 0; s < steps; ++s) out[s * width + lane] = word(v, s, 1);
        }
    } else if (vector_stride == 1) {  // the lanes contiguous at each step: runs
        for (int64_t s = 0; s < steps; ++s)
            for (int64_t lane = 0; lane < count; ++lane) out[s * width + lane] = word(src + lane, s, element_stride);
    } else {
        for (int64_t lane = 0; lane < count; ++lane)
            for (int64_t s = 0; s < steps; ++s)
                out[s * width + lane] = word(src + lane * vector_stride, s, element_stride);
    }
    if (count < width)
        for (int64_t s = 0; s < steps; ++s) std::fill(out + s * width + count, out + (s + 1) * width, 0.0f);
}

inline void gemm_pack_generic(int k_step, const float* src, int64_t vector_stride, int64_t element_stride,
                              int64_t count, int64_t kc, int width, float* out)
{
    if (k_step == 2) gemm_pack_panel<2>(src, vector_stride, element_stride, count, kc, width, out);
    else gemm_pack_panel<1>(src, vector_stride, element_stride, count, kc, width, out);
}

// The same panel from vectors of bfloat16 stored contiguously (the rows of a BF16 weight W
// as the columns of B = Wᵀ): k_step 1 widens each value to float32 exactly; k_step 2 copies
// pairs of bfloat16 as they are stored, which are already the words (odd kc: the last
// pair's upper half 0). One element at a time: every instruction set's fallback.
inline void gemm_pack_bf16_generic(int k_step, const uint16_t* src, int64_t vector_stride, int64_t count, int64_t kc,
                                   int width, float* out)
{
    const int64_t steps = (kc + k_step - 1) / k_step;
    for (int64_t lane = 0; lane < count; ++lane) {
        const uint16_t* v = src + lane * vector_stride;
        for (int64_t s = 0; s < steps; ++s) {
            if (k_step == 1) {
                out[s * width + lane] = bf16_to_f32(v[s]);
                continue;
            }
            const uint32_t hi = 2 * s + 1 < kc ? v[2 * s + 1] : 0;
            out[s * width + lane] = std::bit_cast<float>(uint32_t(v[2 * s]) | hi << 16);
        }
    }
    for (int64_t s = 0; s < steps; ++s) std::fill(out + s * width + count, out + (s + 1) * width, 0.0f);
}

// Vectors contiguous or lanes contiguous with AVX-512 F/BW, the rest through the fallback
// (kernels/cpu/gemm_pack_avx512.cpp).
void gemm_pack_avx512(int k_step, const float* src, int64_t vector_stride, int64_t element_stride, int64_t count,
                      int64_t kc, int width, float* out);
// gemm_pack_bf16_generic with AVX-512 F/BW: 16 vectors' words at a time through a register
// transpose.
void gemm_pack_bf16_avx512(int k_step, const uint16_t* src, int64_t vector_stride, int64_t count, int64_t kc,
                           int width, float* out);

}  // namespace mariana
