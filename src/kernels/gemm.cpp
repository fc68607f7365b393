#include "kernels/gemm.h"

#include "core/dtype.h"
#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/isa.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <vector>

namespace mariana {

namespace {

// Block sizes: a kKc × tile-columns panel of B (32 KiB at 32 columns) stays in L1 while a
// tile runs; a block of A (rows × kKc) stays in L2, and one of B (kKc × kNc, 2 MiB) in L3
// wide enough that A is packed once for every product a model of this size makes.
constexpr int64_t kKc = 256;
constexpr int64_t kNc = 2048;

// Packs `count` vectors of length kc into 32-bit words out[s·width + lane], zero-filling
// lanes count..width-1: vector `lane` starts at src + lane·vector_stride and steps by
// element_stride. A word holds kStep values of k: one float32 (kStep 1), or two bfloat16,
// k even in the low half (kStep 2, the last pair padded with zero when kc is odd), kept
// in float storage (the bits as they are) so the float32 kernels read it without aliasing.
template <int kStep>
void pack_panel(const float* src, int64_t vector_stride, int64_t element_stride, int64_t count, int64_t kc, int width,
                float* out)
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

// The register tile in use: its shape, how many values of k a packed word holds, and the
// micro-kernel (float32 from the instruction set's table, or AVX-512 BF16).
struct TilePlan {
    const KernelTable* kernels;
    bool bf16;
    int rows, cols, k_step;

    void pack(const float* src, int64_t vector_stride, int64_t element_stride, int64_t count, int64_t kc, int width,
              float* out) const
    {
        if (bf16) pack_panel<2>(src, vector_stride, element_stride, count, kc, width, out);
        else pack_panel<1>(src, vector_stride, element_stride, count, kc, width, out);
    }
    void tile(int64_t steps, const float* a, const float* b, float* c, int64_t ldc, int m, int n, bool accumulate) const
    {
        if (bf16) return gemm_tile_bf16_avx512(steps, a, b, c, ldc, m, n, accumulate);
        kernels->gemm_tile(steps, a, b, c, ldc, m, n, accumulate);
    }
};

// Rows [i0, i0 + rows) × k-range [p0, p0 + kc) of A as panels of `rows` of the tile:
// panel q at out + q·steps·R. Rows past m are zero.
void pack_a(const TilePlan& plan, MatrixView a, int64_t m, int64_t i0, int64_t rows, int64_t p0, int64_t kc,
            float* out)
{
    const int64_t steps = (kc + plan.k_step - 1) / plan.k_step;
    for (int64_t r = i0; r < i0 + rows; r += plan.rows, out += steps * plan.rows)
        plan.pack(a.data + r * a.row_stride + p0 * a.col_stride, a.row_stride, a.col_stride,
                  std::clamp<int64_t>(m - r, 0, plan.rows), kc, plan.rows, out);
}

// K-range [p0, p0 + kc) × columns [j0, j0 + cols) of B as panels of `cols` of the tile:
// panel q at out + q·steps·C. Columns past n are zero.
void pack_b(const TilePlan& plan, MatrixView b, int64_t n, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
            float* out)
{
    const int64_t steps = (kc + plan.k_step - 1) / plan.k_step;
    for (int64_t j = j0; j < j0 + cols; j += plan.cols, out += steps * plan.cols)
        plan.pack(b.data + p0 * b.row_stride + j * b.col_stride, b.col_stride, b.row_stride,
                  std::clamp<int64_t>(n - j, 0, plan.cols), kc, plan.cols, out);
}

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

}  // namespace

bool gemm_bf16_available() { return cpu_has_avx512_bf16(); }

void gemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate,
          ThreadPool& pool, GemmPrecision precision)
{
    gemm_using(active_kernels(), m, n, k, a, b, c, ldc, accumulate, &pool, precision);
}

void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate,
                 GemmPrecision precision)
{
    gemm_using(active_kernels(), m, n, k, a, b, c, ldc, accumulate, nullptr, precision);
}

void gemm_using(const KernelTable& kt, int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c,
                int64_t ldc, bool accumulate, ThreadPool* pool, GemmPrecision precision)
{
    const int threads = pool ? pool->size() : 1;
    auto parallel_for = [&](int64_t count, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
        if (pool) pool->parallel_for(count, grain, fn);
        else fn(0, count);
    };
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!accumulate)
            for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
        return;
    }
    const bool bf16 = precision == GemmPrecision::bf16 && gemm_bf16_available();
    const TilePlan plan = bf16 ? TilePlan{&kt, true, kGemmBf16Rows, kGemmBf16Cols, 2}
                               : TilePlan{&kt, false, kt.gemm_rows, kt.gemm_cols, 1};
    const int R = plan.rows, C = plan.cols;
    // Row chunks of whole tiles: at least two per thread when m allows, at most 16 tiles.
    const int64_t tiles = (m + R - 1) / R;
    const int64_t chunk_tiles = std::clamp<int64_t>(tiles / (2 * threads), 1, 16);
    // The calling thread's buffers, reused across calls; workers reach B's through the pointer.
    thread_local std::vector<float> packed_b_buffer;
    packed_b_buffer.resize(size_t(kKc * round_up(std::min(n, kNc), C)));
    float* const packed_b = packed_b_buffer.data();

    for (int64_t j0 = 0; j0 < n; j0 += kNc) {
        const int64_t nc = std::min(kNc, n - j0);
        for (int64_t p0 = 0; p0 < k; p0 += kKc) {
            const int64_t kc = std::min(kKc, k - p0), steps = (kc + plan.k_step - 1) / plan.k_step;
            const bool add = accumulate || p0 > 0;
            const int64_t panels = (nc + C - 1) / C;
            parallel_for(panels, std::max<int64_t>(1, panels / (2 * threads)), [&](int64_t q0, int64_t q1) {
                pack_b(plan, b, n, p0, kc, j0 + q0 * C, (q1 - q0) * C, packed_b + q0 * steps * C);
            });
            parallel_for(tiles, chunk_tiles, [&](int64_t t0, int64_t t1) {
                thread_local std::vector<float> packed_a;
                const int64_t i0 = t0 * R, rows = (t1 - t0) * R;
                packed_a.resize(size_t(rows * steps));
                pack_a(plan, a, m, i0, rows, p0, kc, packed_a.data());
                for (int64_t q = 0; q < panels; ++q) {
                    const int64_t col = j0 + q * C;
                    const int cn = int(std::min<int64_t>(C, n - col));
                    for (int64_t t = t0; t < t1; ++t) {
                        const int rm = int(std::min<int64_t>(R, m - t * R));
                        plan.tile(steps, packed_a.data() + (t - t0) * steps * R, packed_b + q * steps * C,
                                  c + t * R * ldc + col, ldc, rm, cn, add);
                    }
                }
            });
        }
    }
}

void gemm_reference(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc,
                    bool accumulate)
{
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double sum = accumulate ? c[i * ldc + j] : 0.0;
            for (int64_t p = 0; p < k; ++p) sum += double(a.at(i, p)) * double(b.at(p, j));
            c[i * ldc + j] = float(sum);
        }
}

}  // namespace mariana
