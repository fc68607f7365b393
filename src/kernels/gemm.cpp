#include "kernels/gemm.h"

#include "kernels/cpu/isa.h"

#include <algorithm>
#include <functional>
#include <vector>

namespace mariana {

namespace {

// Block sizes: a kKc × tile-columns panel of B (32 KiB at 32 columns) stays in L1 while a
// tile runs; a block of A (rows × kKc) stays in L2, and one of B (kKc × kNc, 2 MiB) in L3
// wide enough that A is packed once for every product a model of this size makes.
constexpr int64_t kKc = 256;
constexpr int64_t kNc = 2048;

// Packs `count` vectors of length kc into out[p·width + lane], lane < width, zero-filling
// lanes count..width-1: vector `lane` starts at src + lane·vector_stride and steps by
// element_stride. One routine packs both operands: A's rows and B's columns.
void pack_panel(const float* src, int64_t vector_stride, int64_t element_stride, int64_t count, int64_t kc, int width,
                float* out)
{
    if (element_stride == 1) {  // each vector contiguous: read along it, write strided
        for (int64_t lane = 0; lane < count; ++lane) {
            const float* v = src + lane * vector_stride;
            for (int64_t p = 0; p < kc; ++p) out[p * width + lane] = v[p];
        }
    } else if (vector_stride == 1) {  // the lanes contiguous at each step: copy runs (a
        // plain loop: runs are a few dozen floats, too short for a memmove call to pay)
        for (int64_t p = 0; p < kc; ++p) {
            const float* run = src + p * element_stride;
            float* dst = out + p * width;
            for (int64_t lane = 0; lane < count; ++lane) dst[lane] = run[lane];
        }
    } else {
        for (int64_t p = 0; p < kc; ++p)
            for (int64_t lane = 0; lane < count; ++lane) out[p * width + lane] = src[lane * vector_stride + p * element_stride];
    }
    if (count < width)
        for (int64_t p = 0; p < kc; ++p) std::fill(out + p * width + count, out + (p + 1) * width, 0.0f);
}

// Rows [i0, i0 + rows) × k-range [p0, p0 + kc) of A as panels of R rows: panel q at
// out + q·kc·R. Rows past m are zero.
void pack_a(MatrixView a, int64_t m, int64_t i0, int64_t rows, int64_t p0, int64_t kc, int R, float* out)
{
    for (int64_t r = i0; r < i0 + rows; r += R, out += kc * R)
        pack_panel(a.data + r * a.row_stride + p0 * a.col_stride, a.row_stride, a.col_stride,
                   std::clamp<int64_t>(m - r, 0, R), kc, R, out);
}

// K-range [p0, p0 + kc) × columns [j0, j0 + cols) of B as panels of C columns: panel q at
// out + q·kc·C. Columns past n are zero.
void pack_b(MatrixView b, int64_t n, int64_t p0, int64_t kc, int64_t j0, int64_t cols, int C, float* out)
{
    for (int64_t j = j0; j < j0 + cols; j += C, out += kc * C)
        pack_panel(b.data + p0 * b.row_stride + j * b.col_stride, b.col_stride, b.row_stride,
                   std::clamp<int64_t>(n - j, 0, C), kc, C, out);
}

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

}  // namespace

void gemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate,
          ThreadPool& pool)
{
    gemm_using(active_kernels(), m, n, k, a, b, c, ldc, accumulate, &pool);
}

void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate)
{
    gemm_using(active_kernels(), m, n, k, a, b, c, ldc, accumulate, nullptr);
}

void gemm_using(const KernelTable& kt, int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c,
                int64_t ldc, bool accumulate, ThreadPool* pool)
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
    const int R = kt.gemm_rows, C = kt.gemm_cols;
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
            const int64_t kc = std::min(kKc, k - p0);
            const bool add = accumulate || p0 > 0;
            const int64_t panels = (nc + C - 1) / C;
            parallel_for(panels, std::max<int64_t>(1, panels / (2 * threads)), [&](int64_t q0, int64_t q1) {
                pack_b(b, n, p0, kc, j0 + q0 * C, (q1 - q0) * C, C, packed_b + q0 * kc * C);
            });
            parallel_for(tiles, chunk_tiles, [&](int64_t t0, int64_t t1) {
                thread_local std::vector<float> packed_a;
                const int64_t i0 = t0 * R, rows = (t1 - t0) * R;
                packed_a.resize(size_t(rows * kc));
                pack_a(a, m, i0, rows, p0, kc, R, packed_a.data());
                for (int64_t q = 0; q < panels; ++q) {
                    const int64_t col = j0 + q * C;
                    const int cn = int(std::min<int64_t>(C, n - col));
                    for (int64_t t = t0; t < t1; ++t) {
                        const int rm = int(std::min<int64_t>(R, m - t * R));
                        kt.gemm_tile(kc, packed_a.data() + (t - t0) * kc * R, packed_b + q * kc * C,
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
