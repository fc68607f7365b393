// The CPU kernels for any x86-64 (or other) CPU: vectors of one float.
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/register_tile.h"

#include <algorithm>
#include <cmath>

namespace mariana {
namespace scalar_isa {

struct V {
    using F = float;
    static constexpr int W = 1;
    static constexpr int kGemmRows = 4;  // GEMM tile rows: 8 scalar accumulators
    static F zero() { return 0.0f; }
    static F set1(float a) { return a; }
    static F load(const float* p) { return *p; }
    static void store(float* p, F a) { *p = a; }
    static F load_n(const float* p, int) { return *p; }
    static void store_n(float* p, F a, int) { *p = a; }
    static F fma(F a, F b, F c) { return a * b + c; }
    static F mul(F a, F b) { return a * b; }
    static float sum(F a) { return a; }
    static F add(F a, F b) { return a + b; }
    static F round(F a) { return std::nearbyint(a); }
    static F scale2(F p, F n) { return std::fabs(n) < 256.0f ? std::ldexp(p, int(n)) : p; }
    static F where_below(F x, float limit, float value, F other) { return x < limit ? value : other; }
    static F where_above(F x, float limit, float value, F other) { return x > limit ? value : other; }
    static F load_bf16(const uint16_t* p) { return bf16_to_f32(*p); }
    static F load_bf16_n(const uint16_t* p, int) { return bf16_to_f32(*p); }
    static F load_f16(const uint16_t* p) { return f16_to_f32(*p); }
    static F load_f16_n(const uint16_t* p, int) { return f16_to_f32(*p); }
    static F load_fp8(const uint8_t* p) { return fp8_e4m3_to_f32(*p) * (1.0f / 256.0f); }
    static F load_fp8_n(const uint8_t* p, int) { return load_fp8(p); }
};

#include "kernels/cpu/kernels_impl.h"

}  // namespace scalar_isa

extern const KernelTable kScalarKernels = {Isa::scalar, "scalar", scalar_isa::matmul_rows,
                                           scalar_isa::matmul_transposed, scalar_isa::dot, scalar_isa::axpy, scalar_isa::exp_affine, scalar_isa::gemm_tile, scalar_isa::V::kGemmRows, 2 * scalar_isa::V::W, gemm_pack_generic, gemm_pack_bf16_generic};

}  // namespace mariana
