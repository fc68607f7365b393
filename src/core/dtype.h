// Element types of stored tensors and their exact conversions to and from float32.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace mariana {

enum class DType : uint8_t { f32, bf16, f16, f8_e4m3 };

int dtype_size(DType dtype);
// The safetensors spelling: "F32", "BF16", "F16", "F8_E4M3".
std::string_view dtype_name(DType dtype);
std::optional<DType> parse_dtype(std::string_view safetensors_name);

inline float bits_to_f32(uint32_t bits)
{
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline uint32_t f32_to_bits(float f)
{
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

inline float bf16_to_f32(uint16_t h) { return bits_to_f32(uint32_t(h) << 16); }

// Round to nearest, ties to even; NaN stays NaN.
inline uint16_t f32_to_bf16(float f)
{
    uint32_t bits = f32_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return uint16_t(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // round to nearest even, overflow to infinity

// FP8 E4M3 "fn" (as in DeepSeek-V3): bias 7, subnormals, max 448, no infinities,
// 0x7f and 0xff are NaN.
float fp8_e4m3_to_f32(uint8_t code);
uint8_t f32_to_fp8_e4m3(float f);  // round to nearest even, saturating at ±448

}  // namespace mariana
