// Exact conversions between stored element types and float32.
#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mariana {
namespace {

TEST(Fp8E4M3, EveryCodeRoundTrips)
{
    for (int code = 0; code < 256; ++code) {
        const float value = fp8_e4m3_to_f32(uint8_t(code));
        if ((code & 0x7f) == 0x7f) {
            EXPECT_TRUE(std::isnan(value)) << code;
            continue;
        }
        EXPECT_EQ(f32_to_fp8_e4m3(value), code == 0x80 ? 0x80 : code) << code << " = " << value;
    }
}

TEST(Fp8E4M3, KnownValuesAndRounding)
{
    EXPECT_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);                    // largest finite
    EXPECT_EQ(fp8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));      // smallest subnormal
    EXPECT_EQ(fp8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));      // smallest normal
    EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);
    EXPECT_EQ(fp8_e4m3_to_f32(0xb8), -1.0f);
    EXPECT_EQ(f32_to_fp8_e4m3(1000.0f), 0x7e);                   // saturates
    EXPECT_EQ(f32_to_fp8_e4m3(1.0625f), 0x38);                   // tie between 1 and 1.125 → even (1)
    EXPECT_EQ(f32_to_fp8_e4m3(1.1875f), 0x3a);                   // tie between 1.125 and 1.25 → even (1.25)
    EXPECT_EQ(f32_to_fp8_e4m3(std::ldexp(1.0f, -10)), 0x00);     // half the smallest subnormal → even (0)
    EXPECT_EQ(f32_to_fp8_e4m3(std::ldexp(3.0f, -10)), 0x02);     // 1.5 subnormal steps → even (2)
    EXPECT_EQ(f32_to_fp8_e4m3(15.5f), 0x58);                     // tie 15|16 → even (16): carries into the next binade
}

TEST(BFloat16, RoundsToNearestEven)
{
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f808000)), 0x3f80);  // tie → even
    EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f818000)), 0x3f82);  // tie → even (up)
    EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f808001)), 0x3f81);
    EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
    for (uint32_t h = 0; h < 0x10000; h += 7) {
        const float f = bf16_to_f32(uint16_t(h));
        if (!std::isnan(f)) {
            EXPECT_EQ(f32_to_bf16(f), h);
        }
    }
}

TEST(Float16, EveryFiniteValueRoundTrips)
{
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = f16_to_f32(uint16_t(h));
        if (std::isnan(f)) continue;
        EXPECT_EQ(f32_to_f16(f), h) << h;
    }
    EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(f32_to_f16(70000.0f), 0x7c00);
}

}  // namespace
}  // namespace mariana
