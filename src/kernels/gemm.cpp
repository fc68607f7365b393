#include "kernels/gemm.h"

#include "core/error.h"
#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cpu/isa.h"
#include "kernels/prefetch.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <vector>

namespace mariana {

namespace {

// Block sizes: a kKc × tile-columns panel of B (32 KiB at 32 columns) stays in L1 while a
// tile runs; a block of A (rows × kKc) stays in L2, and one of B (kKc × kNc, 2 MiB) in L3
// wide enough that A is packed once for every product a model of this size makes.
constexpr int64_t kKc = 256;
constexpr int64_t kNc = 2048;

// The register tile in use: its shape, how many values of k a packed word holds, and the
// micro-kernel (float32 from the instruction set's table, or AVX-512 BF16).
struct TilePlan {
    const KernelTable* kernels;
    bool bf16;
    int rows, cols, k_step;

    // k_step: values per word to make, or 1 to copy what are already words.
    void pack(int k_step_of_src, const float* src, int64_t vector_stride, int64_t element_stride, int64_t count,
              int64_t kc, int width, float* out) const
    {
        kernels->gemm_pack(k_step_of_src, src, vector_stride, element_stride, count, kc, width, out);
    }
    void pack(const float* src, int64_t vector_stride, int64_t element_stride, int64_t count, int64_t kc, int width,
              float* out) const
    {
        pack(k_step, src, vector_stride, element_stride, count, kc, width, out);
    }
    void pack_bf16(const uint16_t* src, int64_t vector_stride, int64_t count, int64_t kc, int width, float* out) const
    {
        kernels->gemm_pack_bf16(k_step, src, vector_stride, count, kc, width, out);
    }
    // Strides as in KernelTable::gemm_tile (one of them 1).
    void tile(int64_t steps, const float* a, int64_t a_row_stride, int64_t a_step_stride, const float* b, float* c,
              int64_t ldc, int m, int n, bool accumulate) const
    {
        if (bf16) return gemm_tile_bf16_avx512(steps, a, a_row_stride, a_step_stride, b, c, ldc, m, n, accumulate);
        kernels->gemm_tile(steps, a, a_row_stride, a_step_stride, b, c, ldc, m, n, accumulate);
    }
};

// The rows of A one register tile multiplies: element (i, step s) at
// data[i·row_stride + s·step_stride].
struct ATile {
    const float* data;
    int64_t row_stride, step_stride;
};

// Rows [t0·R, t1·R) × k-range [p0, p0 + kc) of A, staged for the micro-kernel. A holds
// float32 values, or with `words` the kernel's own words already (WordsView: column s is
// step s). By how A is stored:
//  - Rows with k contiguous are read in place when they hold float32 values or words
//    (which saves transposing them; that costs most on products with few columns), and so
//    are words in a k-major panel (rows adjacent), all but a last tile that runs past m.
//  - float32 rows adjacent in memory (A a transposed view, as dYᵀ in a weight gradient)
//    are packed for all the tiles at once into one panel [steps, (t1 - t0)·R], a tile
//    reading its R columns of it: each step is a run of memory, read and written in full
//    vectors.
//  - Anything else is packed k-major tile by tile, [steps, R] each (words copied). (float32
//    rows rounded to bfloat16 as they are read measured slower than packed ones, so bf16
//    packs them.)
// Rows past m are zero.
class AStage {
public:
    AStage(const TilePlan& plan, MatrixView a, bool words, int64_t m, int64_t t0, int64_t t1, int64_t p0, int64_t kc,
           std::vector<float>& buffer)
        : plan_(plan), a_(a), m_(m), t0_(t0), steps_((kc + plan.k_step - 1) / plan.k_step),
          width_((t1 - t0) * plan.rows)
    {
        const int R = plan.rows;
        a_.data += (words ? p0 / plan.k_step : p0) * a.col_stride;
        rows_in_place_ = a.col_stride == 1 && (words || !plan.bf16);
        panel_in_place_ = words && a.row_stride == 1 && !rows_in_place_;
        one_panel_ = !words && a.row_stride == 1 && a.col_stride != 1;
        buffer.resize(size_t(width_ * steps_));
        staged_ = buffer.data();
        if (one_panel_) {
            const int64_t r0 = t0 * R;
            plan.pack(a_.data + r0, 1, a.col_stride, std::clamp<int64_t>(m - r0, 0, width_), kc, int(width_), staged_);
            return;
        }
        for (int64_t t = t0; t < t1; ++t) {
            if (in_place(t)) continue;
            const int64_t r = t * R;
            plan.pack(words ? 1 : plan.k_step, a_.data + r * a.row_stride, a.row_stride, a.col_stride,
                      std::clamp<int64_t>(m - r, 0, R), words ? steps_ : kc, R, staged_ + (t - t0) * steps_ * R);
        }
    }

    ATile tile(int64_t t) const
    {
        const int R = plan_.rows;
        if (one_panel_) return {staged_ + (t - t0_) * R, 1, width_};
        if (in_place(t) && rows_in_place_) return {a_.data + t * R * a_.row_stride, a_.row_stride, 1};
        if (in_place(t)) return {a_.data + t * R, 1, a_.col_stride};
        return {staged_ + (t - t0_) * steps_ * R, 1, R};
    }

private:
    bool in_place(int64_t t) const { return (rows_in_place_ || panel_in_place_) && (t + 1) * plan_.rows <= m_; }

    const TilePlan& plan_;
    MatrixView a_;  // from column p0 (or its step)
    int64_t m_, t0_, steps_, width_;  // width_: rows staged, (t1 - t0)·R
    bool rows_in_place_, panel_in_place_, one_panel_;
    float* staged_;
};

// B as the blocked product reads it: float32 values through a view, or the transpose of a
// bfloat16 weight W [n, k] (B(p, j) = W[j·ld + p]) whose rows are packed straight into words.
struct BOperand {
    MatrixView floats;
    const uint16_t* bf16 = nullptr;
    int64_t ld = 0;
};

// K-range [p0, p0 + kc) × columns [j0, j0 + cols) of B as panels of `cols` of the tile:
// panel q at out + q·steps·C. Columns past n are zero.
void pack_b(const TilePlan& plan, const BOperand& b, int64_t n, int64_t p0, int64_t kc, int64_t j0, int64_t cols,
            float* out)
{
    const int64_t steps = (kc + plan.k_step - 1) / plan.k_step;
    const MatrixView& f = b.floats;
    for (int64_t j = j0; j < j0 + cols; j += plan.cols, out += steps * plan.cols) {
        const int64_t count = std::clamp<int64_t>(n - j, 0, plan.cols);
        if (b.bf16) plan.pack_bf16(b.bf16 + j * b.ld + p0, b.ld, count, kc, plan.cols, out);
        else plan.pack(f.data + p0 * f.row_stride + j * f.col_stride, f.col_stride, f.row_stride, count, kc, plan.cols, out);
    }
}

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// An empty C, or an empty sum (C zeroed unless accumulating): done, nothing to multiply.
bool trivial_product(int64_t m, int64_t n, int64_t k, float* c, int64_t ldc, bool accumulate)
{
    if (m > 0 && n > 0 && k > 0) return false;
    if (k == 0 && !accumulate)
        for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    return true;
}

// Where the pooled GEMM's row chunks of whole tiles start (and, last, `tiles`). At most
// 16 tiles, so that a block of A stays in L2; with several threads the chunks shrink
// toward the end, each about 1/(2·threads) of the tiles left, so that the threads, taking
// chunks in turn, finish together instead of one waiting out another's last large chunk.
std::vector<int64_t> chunk_starts(int64_t tiles, int threads)
{
    std::vector<int64_t> starts{0};
    for (int64_t t = 0; t < tiles;) {
        const int64_t left = tiles - t;
        t += threads == 1 ? std::min<int64_t>(left, 16) : std::clamp<int64_t>((left + 2 * threads - 1) / (2 * threads), 1, 16);
        starts.push_back(t);
    }
    return starts;
}

TilePlan plan_for(const KernelTable& kt, GemmPrecision precision)
{
    if (precision == GemmPrecision::bf16 && gemm_bf16_available())
        return TilePlan{&kt, true, kGemmBf16Rows, kGemmBf16Cols, 2};
    return TilePlan{&kt, false, kt.gemm_rows, kt.gemm_cols, 1};
}

// What row tile t needs of a block of k [k0, k0 + kc) under `causal`: its steps [s0, s1)
// (empty when s1 ≤ s0) and C's columns below col_end.
struct TileWork {
    int64_t s0, s1, col_end;
};

TileWork tile_work(const TilePlan& plan, const Causal& causal, int64_t t, int64_t k0, int64_t kc, int64_t n)
{
    const int64_t steps = (kc + plan.k_step - 1) / plan.k_step;
    const int64_t first_row = t * plan.rows, past_row = first_row + plan.rows;
    TileWork work{0, steps, n};
    switch (causal.kind) {
    case Causal::none: break;
    case Causal::lower_c: work.col_end = std::clamp<int64_t>(past_row + causal.diagonal, 0, n); break;
    case Causal::lower_a: {  // p < past_row + d
        const int64_t end = past_row + causal.diagonal - k0;
        work.s1 = std::clamp<int64_t>((end + plan.k_step - 1) / plan.k_step, 0, steps);
        break;
    }
    case Causal::upper_a: {  // p ≥ first_row + d (a step straddling the edge is kept)
        const int64_t begin = first_row + causal.diagonal - k0;
        work.s0 = std::clamp<int64_t>(begin / plan.k_step, 0, steps);
        break;
    }
    }
    return work;
}

// Rows [r0, r1) × columns [c0, c1) of a matrix stored with rows or columns contiguous
// (nothing for other layouts).
Prefetch prefetch_of(MatrixView v, int64_t r0, int64_t r1, int64_t c0, int64_t c1)
{
    if (r1 <= r0 || c1 <= c0) return {};
    if (v.col_stride == 1) return {v.data + r0 * v.row_stride + c0, r1 - r0, v.row_stride, c1 - c0};
    if (v.row_stride == 1) return {v.data + c0 * v.col_stride + r0, c1 - c0, v.col_stride, r1 - r0};
    return {};
}

// B's k-range [p0, p1) × columns [c0, c1): float32 views only (a bf16 weight's rows are read
// in full runs by its packer, which the hardware prefetcher follows).
Prefetch prefetch_of(const BOperand& b, int64_t p0, int64_t p1, int64_t c0, int64_t c1)
{
    return b.bf16 ? Prefetch() : prefetch_of(b.floats, p0, p1, c0, c1);
}

// What a chunk of tiles brings in for the work after it while it computes: its share of
// B's next k block, and the rows of A of a chunk to come.
struct Ahead {
    Prefetch b, a, c;
    int64_t lines() const { return b.lines() + a.lines() + c.lines(); }
    void issue(int64_t count)
    {
        b.issue(count);  // b first: all chunks need it at the next block's start
        a.issue(count);
        c.issue(count);
    }
};

// Tiles [t0, t1) of C's columns [j0, j0 + panels·C) ∩ [0, n), (+)= A's staged rows times
// B's panels over the k block [k0, k0 + kc): panel q at b + q·panel_stride.
void multiply_tiles(const TilePlan& plan, const AStage& stage, int64_t t0, int64_t t1, int64_t m, int64_t n,
                    int64_t j0, int64_t panels, int64_t k0, int64_t kc, const float* b, int64_t panel_stride, float* c,
                    int64_t ldc, bool add, const Causal& causal = {}, Ahead* ahead = nullptr)
{
    const int R = plan.rows, C = plan.cols;
    const int64_t calls = panels * (t1 - t0);
    const int64_t per_call = ahead ? (ahead->lines() + calls - 1) / calls : 0;
    for (int64_t q = 0; q < panels; ++q) {
        const int64_t col = j0 + q * C;
        const int cn = int(std::min<int64_t>(C, n - col));
        for (int64_t t = t0; t < t1; ++t) {
            const TileWork work = tile_work(plan, causal, t, k0, kc, n);
            const int64_t steps = std::max<int64_t>(0, work.s1 - work.s0);
            if (col >= work.col_end || (steps == 0 && add)) continue;  // unwanted, or adds nothing
            const int rm = int(std::min<int64_t>(R, m - t * R));
            const ATile rows = stage.tile(t);
            plan.tile(steps, rows.data + work.s0 * rows.step_stride, rows.row_stride, rows.step_stride,
                      b + q * panel_stride + work.s0 * C, c + t * R * ldc + col, ldc, rm, cn, add);
            if (ahead) ahead->issue(per_call);
        }
    }
}

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

namespace {

void gemm_blocked(const KernelTable& kt, int64_t m, int64_t n, int64_t k, MatrixView a, const BOperand& b, float* c,
                  int64_t ldc, bool accumulate, ThreadPool* pool, GemmPrecision precision)
{
    const int threads = pool ? pool->size() : 1;
    auto parallel_for = [&](int64_t count, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
        if (pool) pool->parallel_for(count, grain, fn);
        else fn(0, count);
    };
    if (trivial_product(m, n, k, c, ldc, accumulate)) return;
    const TilePlan plan = plan_for(kt, precision);
    const int R = plan.rows, C = plan.cols;
    const int64_t tiles = (m + R - 1) / R;
    const std::vector<int64_t> starts = chunk_starts(tiles, threads);
    const int64_t chunks = int64_t(starts.size()) - 1;
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
            if (p0 == 0) {  // the first chunks' rows of A come in while B is packed
                const int64_t first_past = starts[size_t(std::min<int64_t>(chunks, threads))] * R;
                prefetch_of(a, 0, std::min(m, first_past), 0, kc).issue_all();
            }
            parallel_for(panels, std::max<int64_t>(1, panels / (2 * threads)), [&](int64_t q0, int64_t q1) {
                // Nothing brought this k block of B in (the first, or a column block's first).
                if (p0 == 0) prefetch_of(b, 0, kc, j0 + q0 * C, std::min(n, j0 + q1 * C)).issue_all();
                pack_b(plan, b, n, p0, kc, j0 + q0 * C, (q1 - q0) * C, packed_b + q0 * steps * C);
            });
            auto multiply_chunk = [&](int64_t chunk) {
                const int64_t t0 = starts[size_t(chunk)], t1 = starts[size_t(chunk) + 1];
                thread_local std::vector<float> buffer;
                const AStage stage(plan, a, false, m, t0, t1, p0, kc, buffer);
                // This chunk's share of B's next k block, and the rows of A of the chunk a
                // thread count later (threads take chunks in turn), in this k block or the next.
                const int64_t next_p0 = p0 + kc, next_p1 = std::min(k, next_p0 + kKc);
                const int64_t later = chunk + threads;
                const int64_t later_r0 = starts[size_t(later % chunks)] * R;
                const int64_t later_r1 = std::min(m, starts[size_t(later % chunks) + 1] * R);
                Ahead next{prefetch_of(b, next_p0 + (next_p1 - next_p0) * t0 / tiles,
                                       next_p0 + (next_p1 - next_p0) * t1 / tiles, j0, j0 + nc),
                           later < chunks ? prefetch_of(a, later_r0, later_r1, p0, p0 + kc)
                                          : prefetch_of(a, later_r0, later_r1, next_p0, next_p1),
                           // and in the first k block, the rows of C that chunk will write
                           p0 == 0 && later < chunks && later_r1 > later_r0
                               ? Prefetch(c + later_r0 * ldc + j0, later_r1 - later_r0, ldc, nc, true)
                               : Prefetch()};
                multiply_tiles(plan, stage, t0, t1, m, n, j0, panels, p0, kc, packed_b, steps * C, c, ldc, add, {},
                               &next);
            };
            parallel_for(chunks, 1, [&](int64_t first, int64_t past) {
                for (int64_t chunk = first; chunk < past; ++chunk) multiply_chunk(chunk);
            });
        }
    }
}

}  // namespace

void gemm_using(const KernelTable& kt, int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c,
                int64_t ldc, bool accumulate, ThreadPool* pool, GemmPrecision precision)
{
    gemm_blocked(kt, m, n, k, a, {b}, c, ldc, accumulate, pool, precision);
}

struct PackedB::Source {
    BOperand b;
};

void PackedB::pack(int64_t k, int64_t n, MatrixView b, GemmPrecision precision)
{
    pack_source(k, n, {{b}}, precision, nullptr);
}

void PackedB::pack_transposed(int64_t k, int64_t n, const float* w, int64_t ldw, GemmPrecision precision,
                              ThreadPool& pool)
{
    pack_source(k, n, {{{w, 1, ldw}}}, precision, &pool);
}

void PackedB::pack_transposed(int64_t k, int64_t n, const uint16_t* w, int64_t ldw, GemmPrecision precision,
                              ThreadPool& pool)
{
    pack_source(k, n, {{{nullptr, 0, 0}, w, ldw}}, precision, &pool);
}

void PackedB::pack_source(int64_t k, int64_t n, const Source& source, GemmPrecision precision, ThreadPool* pool)
{
    const TilePlan plan = plan_for(active_kernels(), precision);
    k_ = k, n_ = n, precision_ = precision;
    const int64_t width = round_up(n, plan.cols), block_steps = (kKc + plan.k_step - 1) / plan.k_step;
    const int64_t blocks = (k + kKc - 1) / kKc;
    words_.resize(size_t(blocks * block_steps * width));
    // Block b (rows [b·kKc, ..)) starts at b·block_steps·width: only the last may be shorter.
    const auto pack_blocks = [&](int64_t b0, int64_t b1) {
        for (int64_t block = b0; block < b1; ++block) {
            const int64_t p0 = block * kKc, kc = std::min(kKc, k - p0);
            pack_b(plan, source.b, n, p0, kc, 0, width, words_.data() + block * block_steps * width);
        }
    };
    if (pool) pool->parallel_for(blocks, 1, pack_blocks);
    else pack_blocks(0, blocks);
}

void PackedB::multiply_block(int64_t m, MatrixView a, float* c, int64_t ldc, int64_t t0, int64_t t1, int64_t q0,
                             int64_t q1) const
{
    const TilePlan plan = plan_for(active_kernels(), precision_);
    const int64_t width = round_up(n_, plan.cols), block_steps = (kKc + plan.k_step - 1) / plan.k_step;
    thread_local std::vector<float> buffer;
    for (int64_t p0 = 0; p0 < k_; p0 += kKc) {
        const int64_t kc = std::min(kKc, k_ - p0), steps = (kc + plan.k_step - 1) / plan.k_step;
        const float* panel = words_.data() + p0 / kKc * block_steps * width + q0 * steps * plan.cols;
        const AStage stage(plan, a, false, m, t0, t1, p0, kc, buffer);
        multiply_tiles(plan, stage, t0, t1, m, n_, q0 * plan.cols, q1 - q0, p0, kc, panel, steps * plan.cols, c, ldc,
                       p0 > 0);
    }
}

void gemm_packed(int64_t m, MatrixView a, const PackedB& b, float* c, int64_t ldc, ThreadPool& pool)
{
    if (trivial_product(m, b.n_, b.k_, c, ldc, false)) return;
    const TilePlan plan = plan_for(active_kernels(), b.precision_);
    const int64_t tiles = (m + plan.rows - 1) / plan.rows, panels = (b.n_ + plan.cols - 1) / plan.cols;
    // Items of at most 16 row tiles (A's block stays in L2) by a share of the columns: when
    // the rows are few (decoding splits the columns alone), 16 items per thread, so that
    // threads taking them in turn finish within a sixteenth of each other; when they are
    // many, whole kNc-wide column blocks (B's block stays in L3).
    constexpr int64_t kTilesPerItem = 16;
    const int64_t row_items = (tiles + kTilesPerItem - 1) / kTilesPerItem;
    const int64_t wanted = 16 * int64_t(pool.size());
    const int64_t col_items = std::clamp<int64_t>((wanted + row_items - 1) / row_items,
                                                  (panels * plan.cols + kNc - 1) / kNc, panels);
    const int64_t panels_per_item = (panels + col_items - 1) / col_items;
    const int64_t col_chunks = (panels + panels_per_item - 1) / panels_per_item;
    pool.parallel_for(row_items * col_chunks, 1, [&](int64_t i0, int64_t i1) {
        for (int64_t item = i0; item < i1; ++item) {
            const int64_t t0 = item / col_chunks * kTilesPerItem, q0 = item % col_chunks * panels_per_item;
            b.multiply_block(m, a, c, ldc, t0, std::min(tiles, t0 + kTilesPerItem), q0,
                             std::min(panels, q0 + panels_per_item));
        }
    });
}

// C (+)= A · B's rows [b_row0, b_row0 + k) for gemm_serial's two forms of A.
void PackedB::multiply(int64_t m, int64_t n, int64_t k, MatrixView a, bool words, float* c, int64_t ldc,
                       bool accumulate, int64_t b_row0, Causal causal) const
{
    const TilePlan plan = plan_for(active_kernels(), precision_);
    MARIANA_CHECK(b_row0 >= 0 && b_row0 % 2 == 0 && b_row0 + k <= k_ && n <= n_,
                  "gemm_serial: rows [{}, {}) and {} columns of a packed {}x{}", b_row0, b_row0 + k, n, k_, n_);
    if (trivial_product(m, n, k, c, ldc, accumulate)) return;
    const int64_t width = round_up(n_, plan.cols), tiles = (m + plan.rows - 1) / plan.rows;
    const int64_t panels = (n + plan.cols - 1) / plan.cols, block_steps = kKc / plan.k_step;
    thread_local std::vector<float> buffer;
    // Chunks of B's rows that stay within one of its kKc-row blocks; a block holds `stored`
    // steps per panel, of which this chunk reads from step `first` on.
    for (int64_t row = b_row0; row < b_row0 + k;) {
        const int64_t block = row / kKc, block_end = std::min(k_, (block + 1) * kKc);
        const int64_t kc = std::min(block_end, b_row0 + k) - row;
        const int64_t stored = (block_end - block * kKc + plan.k_step - 1) / plan.k_step;
        const int64_t first = (row - block * kKc) / plan.k_step;
        const float* panel = words_.data() + block * block_steps * width + first * plan.cols;
        for (int64_t t0 = 0; t0 < tiles; t0 += 16) {  // A's block stays in L2
            const int64_t t1 = std::min(tiles, t0 + 16);
            const AStage stage(plan, a, words, m, t0, t1, row - b_row0, kc, buffer);
            multiply_tiles(plan, stage, t0, t1, m, n, 0, panels, row - b_row0, kc, panel, stored * plan.cols, c, ldc,
                           accumulate || row > b_row0, causal);
        }
        row += kc;
    }
}

void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixView a, const PackedB& b, float* c, int64_t ldc,
                 bool accumulate, int64_t b_row0, Causal causal)
{
    b.multiply(m, n, k, a, false, c, ldc, accumulate, b_row0, causal);
}

void gemm_serial_words(int64_t m, int64_t n, int64_t k, WordsView a, const PackedB& b, float* c, int64_t ldc,
                       bool accumulate, int64_t b_row0, Causal causal)
{
    MARIANA_CHECK(a.row_stride == 1 || a.step_stride == 1, "gemm_serial_words: words {} and {} apart, neither 1",
                  a.row_stride, a.step_stride);
    b.multiply(m, n, k, {a.data, a.row_stride, a.step_stride}, true, c, ldc, accumulate, b_row0, causal);
}

int gemm_k_step(GemmPrecision precision) { return plan_for(active_kernels(), precision).k_step; }

void gemm_words_along(const float* x, int64_t n, float* out, GemmPrecision precision)
{
    const TilePlan plan = plan_for(active_kernels(), precision);
    plan.pack(x, 0, 1, 1, n, 1, out);
}

void gemm_words_across(const float* lo, const float* hi, int64_t n, float* out)
{
    const TilePlan plan = plan_for(active_kernels(), GemmPrecision::bf16);
    MARIANA_CHECK(plan.k_step == 2, "gemm_words_across: bf16 products are not available");
    MARIANA_CHECK(n <= std::numeric_limits<int>::max(), "gemm_words_across: {} words", n);
    plan.pack(lo, 1, hi ? hi - lo : 0, n, hi ? 2 : 1, int(n), out);
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
