#include "core/dtype.h"

#include <cmath>

namespace mariana {

int dtype_size(DType dtype)
{
    switch (dtype) {
    case DType::f32: return 4;
    case DType::bf16: return 2;
    case DType::f16: return 2;
    case DType::f8_e4m3: return 1;
    }
    return 0;
}

std::string_view dtype_name(DType dtype)
{
    switch (dtype) {
    case DType::f32: return "F32";
    case DType::bf16: return "BF16";
    case DType::f16: return "F16";
    case DType::f8_e4m3: return "F8_E4M3";
    }
    return "?";
}

std::optional<DType> parse_dtype(std::string_view name)
{
    if (name == "F32") return DType::f32;
    if (name == "BF16") return DType::bf16;
    if (name == "F16") return DType::f16;
    if (name == "F8_E4M3") return DType::f8_e4m3;
    return std::nullopt;
}

float f16_to_f32(uint16_t h)
{
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    const uint32_t exponent = (h >> 10) & 0x1f;
    const uint32_t mantissa = h & 0x3ff;
    if (exponent == 0x1f) return bits_to_f32(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        // Subnormal: mantissa · 2^-24, exact in float32.
        const float magnitude = std::ldexp(float(mantissa), -24);
        return sign ? -magnitude : magnitude;
    }
    return bits_to_f32(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t f32_to_f16(float f)
{
    const uint32_t bits = f32_to_bits(f);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000);
    const float magnitude = std::fabs(f);
    if (std::isnan(f)) return sign | 0x7e00;
    if (magnitude >= 65520.0f) return sign | 0x7c00;  // rounds past the largest finite value
    if (magnitude < 6.103515625e-05f) {
        // Subnormal range: the value in units of 2^-24, rounded to nearest even.
        return sign | uint16_t(std::nearbyint(std::ldexp(magnitude, 24)));
    }
    uint32_t m = f32_to_bits(magnitude);
    m += 0xfffu + ((m >> 13) & 1u);  // round the 13 dropped bits to nearest even
    return sign | uint16_t(((m >> 23) - 112) << 10 | ((m >> 13) & 0x3ff));
}

float fp8_e4m3_to_f32(uint8_t code)
{
    const bool negative = code & 0x80;
    const int exponent = (code >> 3) & 0xf;
    const int mantissa = code & 0x7;
    float magnitude;
    if (exponent == 0xf && mantissa == 0x7) {
        magnitude = NAN;
    } else if (exponent == 0) {
        magnitude = std::ldexp(float(mantissa), -9);  // subnormal: mantissa/8 · 2^-6
    } else {
        magnitude = std::ldexp(float(8 + mantissa), exponent - 10);
    }
    return negative ? -magnitude : magnitude;
}

uint8_t f32_to_fp8_e4m3(float f)
{
    if (std::isnan(f)) return 0x7f;
    const uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
    float magnitude = std::fabs(f);
    if (magnitude >= 448.0f) return sign | 0x7e;  // saturate: 448 is the largest finite code
    if (magnitude < std::ldexp(1.0f, -6)) {
        // Subnormal range: steps of 2^-9, rounded to nearest even (may round up to the
        // smallest normal, code 0x08, which the same formula yields).
        return sign | uint8_t(std::nearbyint(std::ldexp(magnitude, 9)));
    }
    int exponent;
    std::frexp(magnitude, &exponent);  // magnitude = m · 2^exponent, m in [0.5, 1)
    // 3 mantissa bits: the step in this binade is 2^(exponent-4).
    const float steps = std::nearbyint(std::ldexp(magnitude, 4 - exponent));  // in [8, 16]
    int biased = exponent - 1 + 7;
    int code_mantissa = int(steps) - 8;
    if (code_mantissa == 8) {  // rounded up into the next binade
        code_mantissa = 0;
        ++biased;
    }
    if (biased > 15 || (biased == 15 && code_mantissa == 7)) return sign | 0x7e;
    return sign | uint8_t(biased << 3 | code_mantissa);
}

}  // namespace mariana
