#include "kernels/cpu/isa.h"

#include "kernels/cpu/gemm_bf16.h"

#include "core/error.h"

#include <cpuid.h>
#include <cstdlib>
#include <string>

namespace mariana {

// Defined in kernels_<isa>.cpp, each compiled with its own -m flags.
extern const KernelTable kScalarKernels;
extern const KernelTable kAvx2Kernels;
extern const KernelTable kAvx512Kernels;

namespace {

// Read from CPUID directly: clang's __builtin_cpu_supports does not know "f16c".
bool cpu_has_f16c()
{
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

}  // namespace

bool cpu_has_avx512_bf16()
{
    // CPUID leaf 7, sub-leaf 1, EAX bit 5; and the AVX-512 state the other kernels need.
    // Asked once: every GEMM asks.
    static const bool has = [] {
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        return isa_supported(Isa::avx512) && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 5)) != 0;
    }();
    return has;
}

bool isa_supported(Isa isa)
{
    switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    case Isa::avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && isa_supported(Isa::avx2);
    }
    return false;
}

const KernelTable& kernel_table(Isa isa)
{
    switch (isa) {
    case Isa::scalar: return kScalarKernels;
    case Isa::avx2: return kAvx2Kernels;
    case Isa::avx512: return kAvx512Kernels;
    }
    return kScalarKernels;
}

std::vector<const KernelTable*> supported_kernel_tables()
{
    std::vector<const KernelTable*> tables;
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
        if (isa_supported(isa)) tables.push_back(&kernel_table(isa));
    return tables;
}

namespace {

const KernelTable& choose_kernels()
{
    if (const char* forced = std::getenv("MARIANA_ISA"); forced && *forced) {
        for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
            if (std::string(kernel_table(isa).name) != forced) continue;
            if (!isa_supported(isa)) fail("MARIANA_ISA={}: this CPU does not support it", forced);
            return kernel_table(isa);
        }
        fail("MARIANA_ISA={}: unknown; use scalar, avx2 or avx512", forced);
    }
    return *supported_kernel_tables().back();
}

}  // namespace

const KernelTable& active_kernels()
{
    static const KernelTable& table = choose_kernels();
    return table;
}

}  // namespace mariana
