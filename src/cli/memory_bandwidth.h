// Measures this machine's limits inside the process that is being benchmarked: memory read
// bandwidth, and the fp32 FMA peak. Bandwidth on a shared host swings by up to 2x from
// minute to minute, so a decode speed is only meaningful beside a bandwidth measured just
// before and after it, with the same threads (see ../shared/BENCHMARKS.md).
#pragma once

#include "core/thread_pool.h"

#include <cstddef>
#include <vector>

namespace mariana {

struct BandwidthResult {
    double best_gb_per_s = 0;          // 1e9 bytes per second, the fastest pass
    std::vector<double> pass_gb_per_s;  // every pass, in order
};

// Sums a `bytes` float buffer (2 MiB aligned, madvise(MADV_HUGEPAGE), pre-touched by the
// pool's threads) split across the pool, `passes` times; the buffer is freed on return.
// Throws Error if the buffer cannot be allocated.
BandwidthResult measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t(1) << 30, int passes = 3);

struct FmaPeakResult {
    double best_gflop_per_s = 0;  // 0 when the CPU has neither AVX-512F nor AVX2+FMA
    const char* isa = "none";     // "avx512" (zmm) or "avx2" (ymm)
    // vdpbf16ps, the bf16 products' peak (training's --compute bf16); 0 without AVX-512 BF16.
    double bf16_gflop_per_s = 0;
};

// Independent fused multiply-adds on every thread of the pool (no memory traffic), best of
// `passes`. Counts 2 FLOP per lane per FMA, and 4 per lane per vdpbf16ps (two products).
FmaPeakResult measure_fma_peak(ThreadPool& pool, int passes = 3);

}  // namespace mariana
