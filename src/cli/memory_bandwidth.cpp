#include "cli/memory_bandwidth.h"

#include "core/error.h"
#include "kernels/cpu/gemm_bf16.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sys/mman.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mariana {

namespace {

constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kChunkBytes = size_t(4) << 20;  // one parallel_for item: small enough to balance threads

// 32 float lanes at a time with two independent accumulators (GCC/Clang vector types: SSE
// on the x86-64 baseline, which is far more than one core's share of memory bandwidth).
using Floats16 = float __attribute__((vector_size(64)));

double sum_floats(const float* p, size_t n)  // n a multiple of 32, p 64-byte aligned
{
    Floats16 a{}, b{};
    for (size_t i = 0; i < n; i += 32) {
        Floats16 x, y;
        std::memcpy(&x, p + i, sizeof x);
        std::memcpy(&y, p + i + 16, sizeof y);
        a += x;
        b += y;
    }
    a += b;
    double total = 0;
    for (int i = 0; i < 16; ++i) total += double(a[i]);
    return total;
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

#if defined(__x86_64__)
constexpr int kFmaChains = 12;  // independent accumulators: more than latency × FMA pipes

// The sum of every lane of the chains, so the compiler keeps them.
__attribute__((target("avx512f"))) float total_of(const __m512 (&acc)[kFmaChains])
{
    __m512 sum = acc[0];
    for (int j = 1; j < kFmaChains; ++j) sum = _mm512_add_ps(sum, acc[j]);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, sum);
    float total = 0;
    for (float v : lanes) total += v;
    return total;
}

__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t iterations)
{
    __m512 acc[kFmaChains];
    for (int j = 0; j < kFmaChains; ++j) acc[j] = _mm512_set1_ps(float(j) * 1e-3f);
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; ++i)
        for (int j = 0; j < kFmaChains; ++j) acc[j] = _mm512_fmadd_ps(acc[j], m, a);
    return total_of(acc);
}

__attribute__((target("avx512f,avx512bf16"))) float bf16_dot_chains_avx512(int64_t iterations)
{
    __m512 acc[kFmaChains];
    for (int j = 0; j < kFmaChains; ++j) acc[j] = _mm512_set1_ps(float(j) * 1e-3f);
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3a833a83);  // bf16 pairs of about 1e-3
    for (int64_t i = 0; i < iterations; ++i)
        for (int j = 0; j < kFmaChains; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], x, x);
    return total_of(acc);
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t iterations)
{
    __m256 acc[kFmaChains];
    for (int j = 0; j < kFmaChains; ++j) acc[j] = _mm256_set1_ps(float(j) * 1e-3f);
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; ++i)
        for (int j = 0; j < kFmaChains; ++j) acc[j] = _mm256_fmadd_ps(acc[j], m, a);
    for (int j = 1; j < kFmaChains; ++j) acc[0] = _mm256_add_ps(acc[0], acc[j]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, acc[0]);
    float total = 0;
    for (float v : lanes) total += v;
    return total;
}
#endif

}  // namespace

BandwidthResult measure_read_bandwidth(ThreadPool& pool, size_t bytes, int passes)
{
    bytes = std::max(kChunkBytes, (bytes + kChunkBytes - 1) / kChunkBytes * kChunkBytes);
    std::unique_ptr<float, decltype(&std::free)> buffer(static_cast<float*>(std::aligned_alloc(kHugePage, bytes)), &std::free);
    if (!buffer) fail("cannot allocate {} MiB for the memory bandwidth test", bytes >> 20);
    ::madvise(buffer.get(), bytes, MADV_HUGEPAGE);  // advice only: 4 KiB pages if refused

    const int64_t n_chunks = int64_t(bytes / kChunkBytes);
    const size_t floats_per_chunk = kChunkBytes / sizeof(float);
    float* data = buffer.get();
    // Pre-touch (first write) from the pool, so page faults stay out of the timed passes.
    pool.parallel_for(n_chunks, 1, [&](int64_t begin, int64_t end) {
        std::fill(data + size_t(begin) * floats_per_chunk, data + size_t(end) * floats_per_chunk, 1.0f);
    });

    BandwidthResult result;
    std::vector<double> partial(static_cast<size_t>(n_chunks));
    for (int pass = 0; pass < std::max(passes, 1); ++pass) {
        const auto start = std::chrono::steady_clock::now();
        pool.parallel_for(n_chunks, 1, [&](int64_t begin, int64_t end) {
            for (int64_t c = begin; c < end; ++c)
                partial[size_t(c)] = sum_floats(data + size_t(c) * floats_per_chunk, floats_per_chunk);
        });
        const double seconds = seconds_since(start);
        double total = 0;
        for (double v : partial) total += v;
        // Every element is 1.0 and every partial sum is exact, so this also keeps the reads.
        MARIANA_CHECK(total == double(bytes / sizeof(float)), "bandwidth test summed {}", total);
        result.pass_gb_per_s.push_back(double(bytes) / seconds / 1e9);
        result.best_gb_per_s = std::max(result.best_gb_per_s, result.pass_gb_per_s.back());
    }
    return result;
}

FmaPeakResult measure_fma_peak(ThreadPool& pool, int passes)
{
    FmaPeakResult result;
#if defined(__x86_64__)
    __builtin_cpu_init();
    // Best of `passes` runs of `chains` on every thread; flop_per_op counts one lane.
    auto best_gflop_per_s = [&](float (*chains)(int64_t), double flop_per_op) {
        constexpr int64_t kIterations = int64_t(1) << 18;  // ~1 ms of FMAs per item at 3.6 GHz
        const int64_t n_items = 48 * int64_t(pool.size());
        std::vector<float> sink(static_cast<size_t>(n_items));
        double best = 0;
        for (int pass = 0; pass < std::max(passes, 1); ++pass) {
            const auto start = std::chrono::steady_clock::now();
            pool.parallel_for(n_items, 1, [&](int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i) sink[size_t(i)] = chains(kIterations);
            });
            const double seconds = seconds_since(start);
            best = std::max(best, double(n_items) * double(kIterations) * kFmaChains * flop_per_op / seconds / 1e9);
        }
        volatile float keep = 0;
        for (float v : sink) keep = keep + v;
        return best;
    };
    if (__builtin_cpu_supports("avx512f")) {
        result.isa = "avx512";
        result.best_gflop_per_s = best_gflop_per_s(fma_chains_avx512, 16 * 2.0);
        if (cpu_has_avx512_bf16()) result.bf16_gflop_per_s = best_gflop_per_s(bf16_dot_chains_avx512, 16 * 4.0);
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        result.isa = "avx2";
        result.best_gflop_per_s = best_gflop_per_s(fma_chains_avx2, 8 * 2.0);
    }
#else
    (void)pool, (void)passes;
#endif
    return result;
}

}  // namespace mariana
