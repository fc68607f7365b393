// Every fast kernel against its plain twin, for every instruction set this CPU supports,
// every weight dtype, and sizes that hit the vector tails (odd rows, columns and tokens).
// To add a kernel: give it a reference twin in its header and a case here.
#include "core/dtype.h"
#include "kernels/cpu/gemm_pack.h"
#include "kernels/cpu/isa.h"
#include "kernels/gemm.h"
#include "kernels/matmul.h"
#include "kernels/prefetch.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <random>
#include <vector>

namespace mariana {
namespace {

// A random weight stored in `dtype` (FP8 with random block scales), owning its bytes.
struct TestWeight {
    std::vector<uint8_t> bytes;
    std::vector<float> scales;
    Weight weight;

    TestWeight(DType dtype, int64_t rows, int64_t cols, std::mt19937& rng)
    {
        std::normal_distribution<float> normal(0.0f, 1.0f);
        bytes.resize(size_t(rows * cols * dtype_size(dtype)) + 64);
        for (int64_t i = 0; i < rows * cols; ++i) {
            const float v = normal(rng);
            switch (dtype) {
            case DType::f32: std::memcpy(&bytes[size_t(i) * 4], &v, 4); break;
            case DType::bf16: {
                const uint16_t h = f32_to_bf16(v);
                std::memcpy(&bytes[size_t(i) * 2], &h, 2);
                break;
            }
            case DType::f16: {
                const uint16_t h = f32_to_f16(v);
                std::memcpy(&bytes[size_t(i) * 2], &h, 2);
                break;
            }
            case DType::f8_e4m3: bytes[size_t(i)] = f32_to_fp8_e4m3(v * 100.0f); break;
            }
        }
        weight = Weight{dtype, rows, cols, bytes.data()};
        if (dtype == DType::f8_e4m3) {
            const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
            std::uniform_real_distribution<float> scale(0.001f, 0.02f);
            for (int64_t i = 0; i < sr * sc; ++i) scales.push_back(scale(rng));
            weight.block_scale = scales.data();
            weight.scale_cols = sc;
        }
    }
};

std::vector<float> random_vector(size_t n, std::mt19937& rng)
{
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return v;
}

// float32, and bf16 where this CPU has it.
std::vector<GemmPrecision> every_precision()
{
    if (gemm_bf16_available()) return {GemmPrecision::f32, GemmPrecision::bf16};
    return {GemmPrecision::f32};
}

// Relative to the magnitude a sum of `terms` products of unit-scale values reaches.
void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, int64_t terms, const std::string& what)
{
    const float tolerance = 1e-5f * std::sqrt(float(terms)) * 4.0f;
    for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got[i], want[i], tolerance * std::max(1.0f, std::fabs(want[i]))) << what << " at " << i;
}

TEST(Kernels, MatmulMatchesReference)
{
    std::mt19937 rng(7);
    const int64_t shapes[][3] = {{1, 1, 1}, {4, 16, 4}, {7, 33, 5}, {130, 300, 3}, {257, 129, 9}, {64, 1000, 1}};
    for (const KernelTable* table : supported_kernel_tables())
        for (DType dtype : {DType::f32, DType::bf16, DType::f16, DType::f8_e4m3})
            for (const auto& [rows, cols, tokens] : shapes) {
                TestWeight w(dtype, rows, cols, rng);
                const auto x = random_vector(size_t(tokens * cols), rng);
                std::vector<float> want(static_cast<size_t>(tokens * rows)), got(want.size(), NAN);
                matmul_reference(w.weight, x.data(), tokens, want.data());
                table->matmul_rows(w.weight, x.data(), tokens, got.data(), 0, rows);
                expect_near_all(got, want, cols,
                                fmt::format("{} {} [{}x{}] x {} tokens", table->name, dtype_name(dtype), rows, cols, tokens));
            }
}

TEST(Kernels, MatmulOfRowSliceUsesTheRightBlockScales)
{
    std::mt19937 rng(8);
    TestWeight w(DType::f8_e4m3, 300, 200, rng);
    const Weight slice = w.weight.row_slice(120, 70);  // crosses the block boundary at row 128
    const auto x = random_vector(200, rng);
    std::vector<float> full(300), part(70);
    matmul_reference(w.weight, x.data(), 1, full.data());
    for (const KernelTable* table : supported_kernel_tables()) {
        table->matmul_rows(slice, x.data(), 1, part.data(), 0, 70);
        for (int i = 0; i < 70; ++i) ASSERT_NEAR(part[size_t(i)], full[size_t(120 + i)], 1e-3f) << table->name << " row " << i;
    }
}

TEST(Kernels, MatmulTransposedMatchesReference)
{
    std::mt19937 rng(9);
    const int64_t shapes[][2] = {{1, 1}, {32, 64}, {33, 97}, {130, 260}};
    for (const KernelTable* table : supported_kernel_tables())
        for (DType dtype : {DType::f32, DType::bf16, DType::f16, DType::f8_e4m3})
            for (const auto& [rows, cols] : shapes) {
                TestWeight w(dtype, rows, cols, rng);
                const auto x = random_vector(size_t(rows), rng);
                std::vector<float> want(static_cast<size_t>(cols)), got(size_t(cols), NAN);
                matmul_transposed_reference(w.weight, x.data(), want.data());
                table->matmul_transposed(w.weight, x.data(), got.data());
                expect_near_all(got, want, rows, fmt::format("{} {} transposed [{}x{}]", table->name, dtype_name(dtype), rows, cols));
            }
}

TEST(Kernels, DotAndAxpyMatchReference)
{
    std::mt19937 rng(10);
    for (const KernelTable* table : supported_kernel_tables())
        for (int64_t n : {1, 5, 16, 17, 31, 64, 100, 1025}) {
            const auto a = random_vector(size_t(n), rng), b = random_vector(size_t(n), rng);
            double want = 0;
            for (int64_t i = 0; i < n; ++i) want += double(a[size_t(i)]) * b[size_t(i)];
            EXPECT_NEAR(table->dot(a.data(), b.data(), n), want, 1e-5 * std::sqrt(double(n)) * 4) << table->name << " n=" << n;

            auto y = b;
            table->axpy(y.data(), 0.75f, a.data(), n);
            for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[size_t(i)], b[size_t(i)] + 0.75f * a[size_t(i)], 1e-6f) << table->name;
        }
}

// The training GEMM in the three layouts a linear layer uses (x·Wᵀ, dY·W, dYᵀ·X), at
// sizes that cross the tile edges and the k and n blocks, storing and accumulating.
TEST(Kernels, GemmMatchesReferenceInEveryLayout)
{
    std::mt19937 rng(11);
    ThreadPool pool(2);
    struct Shape {
        int64_t m, n, k;
    };
    for (const KernelTable* table : supported_kernel_tables())
        for (const Shape s : {Shape{1, 1, 1}, Shape{13, 33, 7}, Shape{25, 70, 300}, Shape{100, 530, 257}, Shape{3, 2, 600}})
            for (int layout = 0; layout < 3; ++layout)
                for (const bool accumulate : {false, true}) {
                    // Rows of a row-major A lie further apart than k, as a head's slice of Q does.
                    const int64_t lda = s.k + 5;
                    const auto a = random_vector(size_t(s.m * lda), rng), b = random_vector(size_t(s.k * s.n), rng);
                    // layout 0: A row-major, B given as [n, k] (x·Wᵀ); 1: both row-major (dY·W);
                    // 2: A given as [k, m] (dYᵀ·X), B row-major.
                    const MatrixView av = layout == 2 ? MatrixView{a.data(), 1, s.m} : MatrixView{a.data(), lda, 1};
                    const MatrixView bv = layout == 0 ? MatrixView{b.data(), 1, s.k} : MatrixView{b.data(), s.n, 1};
                    const int64_t ldc = s.n + 3;  // rows of C apart by more than n
                    std::vector<float> want = random_vector(size_t(s.m * ldc), rng), got = want;
                    gemm_reference(s.m, s.n, s.k, av, bv, want.data(), ldc, accumulate);
                    gemm_using(*table, s.m, s.n, s.k, av, bv, got.data(), ldc, accumulate, layout == 1 ? nullptr : &pool);
                    for (size_t i = 0; i < got.size(); ++i)
                        ASSERT_NEAR(got[i], want[i], 2e-5f * std::sqrt(float(s.k)) * 4)
                            << table->name << " " << s.m << "x" << s.n << "x" << s.k << " layout " << layout
                            << (accumulate ? " accumulate" : "") << " at " << i;
                }
}

// A B packed once serves products that read a block of its rows (from row 0, or from an
// even row, within or across its k blocks of 256) and its leading columns, in float32 and
// bf16 (against the twin on rounded operands).
TEST(Kernels, PackedBServesBlocksOfRows)
{
    std::mt19937 rng(14);
    const int64_t k = 300, n = 50;
    const auto bk = random_vector(size_t(k * n), rng);  // given as [n, k], as attention's keys are
    for (const GemmPrecision precision : every_precision()) {
        const MatrixView bv{bk.data(), 1, k};
        PackedB packed;
        packed.pack(k, n, bv, precision);
        auto rounded = [&](std::vector<float> v) {
            if (precision == GemmPrecision::bf16)
                for (float& x : v) x = bf16_to_f32(f32_to_bf16(x));
            return v;
        };
        const auto br = rounded(bk);
        const std::array<int64_t, 4> cases[] = {{13, 0, 300, 50}, {5, 0, 48, 33}, {1, 0, 1, 1}, {30, 0, 261, 50},
                                                {12, 0, 99, 17},  {7, 48, 208, 50}, {9, 250, 50, 20}, {4, 256, 44, 50},
                                                {6, 2, 255, 40}};
        for (const auto [m, row0, kk, nn] : cases)
            for (const bool accumulate : {false, true}) {
                const int64_t lda = kk + 3;
                const auto a = random_vector(size_t(m * lda), rng), ar = rounded(a);
                const int64_t ldc = nn + 2;
                std::vector<float> want = random_vector(size_t(m * ldc), rng), got = want;
                gemm_reference(m, nn, kk, {ar.data(), lda, 1}, {br.data() + row0, 1, k}, want.data(), ldc, accumulate);
                gemm_serial(m, nn, kk, {a.data(), lda, 1}, packed, got.data(), ldc, accumulate, row0);
                for (size_t i = 0; i < got.size(); ++i)
                    ASSERT_NEAR(got[i], want[i], 2e-5f * std::sqrt(float(kk)) * 4)
                        << m << "x" << nn << "x" << kk << " from row " << row0
                        << (precision == GemmPrecision::bf16 ? " bf16" : "") << " at " << i;
            }
    }
}

// The words a producer writes for gemm_serial_words, against f32_to_bf16 value by value:
// along a row (an odd length's last upper half zero; float32 words are the values), and
// across two rows (no second row: upper halves zero).
TEST(Kernels, GemmWordsHoldTheRoundedValues)
{
    std::mt19937 rng(16);
    auto src = random_vector(75, rng);
    const float specials[] = {std::nanf(""), INFINITY, 1e-40f, 1.00390625f, 1.01171875f, -0.0f};
    for (size_t i = 0; i < std::size(specials); ++i) src[i * 11] = specials[i];
    auto word = [](float lo, float hi) {
        return uint32_t(f32_to_bf16(lo)) | uint32_t(f32_to_bf16(hi)) << 16;
    };
    auto bits = [](float f) { return std::bit_cast<uint32_t>(f); };
    for (const int64_t n : {1, 2, 31, 32, 33, 75}) {
        std::vector<float> values(size_t(n), -1.0f);
        gemm_words_along(src.data(), n, values.data(), GemmPrecision::f32);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(bits(values[size_t(i)]), bits(src[size_t(i)])) << n << " at " << i;
        if (gemm_k_step(GemmPrecision::bf16) != 2) continue;
        std::vector<float> along(size_t((n + 1) / 2), -1.0f), across(size_t(n), -1.0f), alone(size_t(n), -1.0f);
        gemm_words_along(src.data(), n, along.data(), GemmPrecision::bf16);
        gemm_words_across(src.data(), src.data() + n / 2, n - n / 2, across.data());
        gemm_words_across(src.data(), nullptr, n, alone.data());
        for (int64_t s = 0; s < (n + 1) / 2; ++s)
            ASSERT_EQ(bits(along[size_t(s)]), word(src[size_t(2 * s)], 2 * s + 1 < n ? src[size_t(2 * s + 1)] : 0.0f))
                << "along, n " << n << " word " << s;
        for (int64_t j = 0; j < n - n / 2; ++j)
            ASSERT_EQ(bits(across[size_t(j)]), word(src[size_t(j)], src[size_t(n / 2 + j)])) << "across, n " << n;
        for (int64_t j = 0; j < n; ++j) ASSERT_EQ(bits(alone[size_t(j)]), word(src[size_t(j)], 0.0f)) << "alone, n " << n;
    }
}

// A given as words, read where the caller wrote them: rows of words (steps adjacent) and a
// k-major panel (rows adjacent), with m not a multiple of the tile's rows and k odd and
// across B's blocks of 256, causal or not, against the same product with A as values. The
// words are exactly what packing makes, so the two agree bit for bit.
TEST(Kernels, GemmReadsWordsInPlace)
{
    std::mt19937 rng(17);
    const int64_t k = 300, n = 70;
    const auto bk = random_vector(size_t(k * n), rng);
    struct Case {
        int64_t m, row0, kk, nn;
        Causal causal;
    };
    const Case cases[] = {{50, 0, 300, 70, {}},
                          {13, 0, 7, 33, {}},
                          {48, 0, 261, 64, {Causal::lower_a, 3}},
                          {40, 2, 255, 20, {Causal::upper_a, 0}},
                          {25, 256, 44, 50, {}}};
    for (const GemmPrecision precision : every_precision()) {
        const int ks = gemm_k_step(precision);
        PackedB packed;
        packed.pack(k, n, {bk.data(), n, 1}, precision);
        for (const Case& c : cases) {
            auto a = random_vector(size_t(c.m * c.kk), rng);  // row-major, k contiguous
            for (int64_t i = 0; i < c.m; ++i)
                for (int64_t p = 0; p < c.kk; ++p)
                    if ((c.causal.kind == Causal::lower_a && p > i + c.causal.diagonal) ||
                        (c.causal.kind == Causal::upper_a && p < i + c.causal.diagonal))
                        a[size_t(i * c.kk + p)] = 0;
            const int64_t steps = (c.kk + ks - 1) / ks;
            std::vector<float> rows(size_t(c.m * steps)), panel(size_t(steps * c.m));
            for (int64_t i = 0; i < c.m; ++i)
                gemm_words_along(a.data() + i * c.kk, c.kk, rows.data() + i * steps, precision);
            for (int64_t i = 0; i < c.m; ++i)
                for (int64_t s = 0; s < steps; ++s) panel[size_t(s * c.m + i)] = rows[size_t(i * steps + s)];
            for (const bool accumulate : {false, true}) {
                const int64_t ldc = c.nn + 1;
                std::vector<float> want = random_vector(size_t(c.m * ldc), rng), by_rows = want, by_panel = want;
                gemm_serial(c.m, c.nn, c.kk, {a.data(), c.kk, 1}, packed, want.data(), ldc, accumulate, c.row0, c.causal);
                gemm_serial_words(c.m, c.nn, c.kk, {rows.data(), steps, 1}, packed, by_rows.data(), ldc, accumulate,
                                  c.row0, c.causal);
                gemm_serial_words(c.m, c.nn, c.kk, {panel.data(), 1, c.m}, packed, by_panel.data(), ldc, accumulate,
                                  c.row0, c.causal);
                const std::string what = fmt::format("{}x{}x{} from row {}{}{}", c.m, c.nn, c.kk, c.row0,
                                                     accumulate ? " accumulate" : "", ks == 2 ? " bf16" : "");
                ASSERT_EQ(std::memcmp(by_rows.data(), want.data(), want.size() * sizeof(float)), 0) << "rows " << what;
                ASSERT_EQ(std::memcmp(by_panel.data(), want.data(), want.size() * sizeof(float)), 0) << "panel " << what;
            }
        }
    }
}

// A prefetched block spans every line its runs touch: whole lines when runs start on a line
// and lie whole lines apart, one more per run otherwise; an empty block spans none.
TEST(Kernels, PrefetchCoversEveryLineOfItsRuns)
{
    alignas(64) static float rows[64 * 16];
    EXPECT_EQ(Prefetch(rows, 10, 64, 48).lines(), 10 * 3);  // 192 bytes from a line's start
    EXPECT_EQ(Prefetch(rows + 4, 10, 64, 48).lines(), 10 * 4);  // 192 bytes from 16 bytes in
    EXPECT_EQ(Prefetch(rows, 10, 40, 16).lines(), 10 * 2);  // runs 160 bytes apart
    EXPECT_EQ(Prefetch(rows, 0, 64, 48).lines(), 0);
    EXPECT_EQ(Prefetch(rows, 10, 64, 0).lines(), 0);
    Prefetch nothing(rows, 10, 64, 0);
    nothing.issue(100);  // issues nothing, and returns
    Prefetch all(rows, 3, 64, 48);
    all.issue_all();
    all.issue(5);  // past the end: nothing more
}

// Causal products skip only work that cannot change a wanted element: each kind against the
// same product computed in full, bit for bit, with A zero where the kind says it is, A's
// rows stored apart or adjacent, and k within one block of 256 or across two; some tiles
// meet no k step of a block at all (they must still be zeroed when not accumulating).
TEST(Kernels, CausalProductsSkipOnlyWhatCannotMatter)
{
    std::mt19937 rng(15);
    const int64_t k = 300, n = 70;
    const auto bk = random_vector(size_t(k * n), rng);
    struct Case {
        Causal::Kind kind;
        int64_t diagonal, m, row0, kk, nn;
    };
    const Case cases[] = {{Causal::lower_c, 0, 50, 0, 48, 70},  {Causal::lower_c, 48, 40, 0, 48, 70},
                          {Causal::lower_c, -5, 30, 0, 20, 64}, {Causal::lower_a, 0, 60, 0, 60, 40},
                          {Causal::lower_a, 96, 50, 0, 146, 33}, {Causal::lower_a, 3, 290, 0, 290, 17},
                          {Causal::lower_a, -30, 40, 0, 40, 20}, {Causal::upper_a, 0, 48, 0, 280, 48},
                          {Causal::upper_a, 0, 40, 200, 100, 33}, {Causal::upper_a, 7, 30, 2, 260, 20},
                          {Causal::upper_a, 0, 120, 200, 100, 33}};
    for (const GemmPrecision precision : every_precision()) {
        PackedB packed;
        packed.pack(k, n, {bk.data(), n, 1}, precision);
        for (const Case& c : cases)
            for (const bool adjacent_rows : {false, true})
                for (const bool accumulate : {false, true}) {
                    // A [m, kk]: element (i, p) at i·lda + p, or with adjacent rows at p·lda + i.
                    const int64_t lda = (adjacent_rows ? c.m : c.kk) + 3;
                    auto a = random_vector(size_t((adjacent_rows ? c.kk : c.m) * lda), rng);
                    const MatrixView av = adjacent_rows ? MatrixView{a.data(), 1, lda} : MatrixView{a.data(), lda, 1};
                    for (int64_t i = 0; i < c.m; ++i)
                        for (int64_t p = 0; p < c.kk; ++p)
                            if ((c.kind == Causal::lower_a && p > i + c.diagonal) ||
                                (c.kind == Causal::upper_a && p < i + c.diagonal))
                                a[size_t(adjacent_rows ? p * lda + i : i * lda + p)] = 0;
                    const int64_t ldc = c.nn + 1;
                    std::vector<float> want = random_vector(size_t(c.m * ldc), rng), got = want;
                    gemm_serial(c.m, c.nn, c.kk, av, packed, want.data(), ldc, accumulate, c.row0);
                    gemm_serial(c.m, c.nn, c.kk, av, packed, got.data(), ldc, accumulate, c.row0,
                                {c.kind, c.diagonal});
                    for (int64_t i = 0; i < c.m; ++i)
                        for (int64_t j = 0; j < c.nn; ++j) {
                            if (c.kind == Causal::lower_c && j > i + c.diagonal) continue;
                            ASSERT_EQ(got[size_t(i * ldc + j)], want[size_t(i * ldc + j)])
                                << "kind " << c.kind << " diagonal " << c.diagonal << " " << c.m << "x" << c.nn
                                << "x" << c.kk << (adjacent_rows ? " adjacent rows" : "")
                                << (accumulate ? " accumulate" : "")
                                << (precision == GemmPrecision::bf16 ? " bf16" : "") << " at " << i << "," << j;
                        }
                }
    }
}

// bf16 products: the operands rounded to bfloat16, the sums in float32. Against the twin
// run on the rounded operands, so only the float32 summation differs.
TEST(Kernels, GemmBf16MatchesReferenceOnRoundedInputs)
{
    if (!gemm_bf16_available()) GTEST_SKIP() << "this CPU has no AVX-512 BF16";
    std::mt19937 rng(12);
    ThreadPool pool(2);
    auto rounded = [](std::vector<float> v) {
        for (float& x : v) x = bf16_to_f32(f32_to_bf16(x));
        return v;
    };
    for (const auto [m, n, k] : {std::array<int64_t, 3>{1, 1, 1}, {13, 33, 7}, {25, 70, 301}, {100, 530, 257}})
        for (int layout = 0; layout < 3; ++layout) {
            const auto a = random_vector(size_t(m * k), rng), b = random_vector(size_t(k * n), rng);
            const auto ar = rounded(a), br = rounded(b);
            auto views = [&](const std::vector<float>& av, const std::vector<float>& bv) {
                return std::pair{layout == 2 ? MatrixView{av.data(), 1, m} : MatrixView{av.data(), k, 1},
                                 layout == 0 ? MatrixView{bv.data(), 1, k} : MatrixView{bv.data(), n, 1}};
            };
            std::vector<float> want(size_t(m * n)), got(size_t(m * n));
            const auto [ra, rb] = views(ar, br);
            gemm_reference(m, n, k, ra, rb, want.data(), n, false);
            const auto [fa, fb] = views(a, b);
            gemm(m, n, k, fa, fb, got.data(), n, false, pool, GemmPrecision::bf16);
            for (size_t i = 0; i < got.size(); ++i)
                ASSERT_NEAR(got[i], want[i], 2e-5f * std::sqrt(float(k)) * 4) << m << "x" << n << "x" << k << " layout "
                                                                               << layout << " at " << i;
        }
}

// The vector e^x of every table against libm: within 2 ulp across the normal range, 0
// and inf past it, NaN kept; and the sum it returns equal to the sum of what it stored.
TEST(Kernels, ExpAffineMatchesLibm)
{
    std::vector<float> x;
    for (float v = -87.0f; v < 88.5f; v += 0.01371f) x.push_back(v);
    for (const float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.34657f, -0.34658f, 88.72f, -87.33f}) x.push_back(v);
    const float outside[] = {-INFINITY, -1000.0f, -87.5f, 88.73f, 1000.0f, INFINITY, std::nanf("")};
    x.insert(x.end(), std::begin(outside), std::end(outside));
    for (const KernelTable* table : supported_kernel_tables()) {
        std::vector<float> y(x.size());
        table->exp_affine(x.data(), 1.0f, 0.0f, int64_t(x.size()), y.data());
        for (size_t i = 0; i < x.size(); ++i) {
            const float want = std::exp(x[i]);
            if (std::isnan(want)) {
                EXPECT_TRUE(std::isnan(y[i])) << table->name << " x=" << x[i];
            } else if (std::isinf(want) || want < std::numeric_limits<float>::min()) {
                EXPECT_EQ(y[i], std::isinf(want) ? want : 0.0f) << table->name << " x=" << x[i];
            } else {
                const float ulp = std::nextafter(want, INFINITY) - want;
                ASSERT_LE(std::fabs(y[i] - want), 2 * ulp) << table->name << " x=" << x[i];
            }
        }
        // a·x + b, a stored copy that may be x itself, and the sum, at lengths with tails.
        for (const int64_t n : {1, 7, 16, 37}) {
            std::vector<float> in(x.begin(), x.begin() + n), out(static_cast<size_t>(n));
            const float sum = table->exp_affine(in.data(), -0.5f, 3.0f, n, out.data());
            double want_sum = 0;
            for (int64_t i = 0; i < n; ++i) {
                ASSERT_NEAR(out[size_t(i)], std::exp(-0.5f * in[size_t(i)] + 3.0f), 3e-7f * out[size_t(i)]);
                want_sum += out[size_t(i)];
            }
            EXPECT_NEAR(sum, want_sum, 1e-6 * want_sum) << table->name << " n=" << n;
            EXPECT_EQ(table->exp_affine(in.data(), -0.5f, 3.0f, n, nullptr), sum);
            table->exp_affine(in.data(), -0.5f, 3.0f, n, in.data());
            EXPECT_EQ(in, out) << table->name << " in place";
        }
    }
}

// Every table's GEMM packing against the one-element-at-a-time fallback, word for word:
// vectors contiguous, lanes contiguous and neither; k odd and past a 16-step block; fewer
// vectors than lanes; a single vector into a panel one word wide (gemm_words_along); values
// that round to even, NaN, infinities and subnormals.
TEST(Kernels, GemmPackMatchesFallbackBitForBit)
{
    std::mt19937 rng(13);
    std::vector<float> src = random_vector(64 * 80, rng);
    const float specials[] = {std::nanf(""), -INFINITY, INFINITY, 1e-40f, -3e-39f, 1.00390625f, 1.01171875f, -0.0f};
    for (size_t i = 0; i < src.size(); i += 37) src[i] = specials[(i / 37) % std::size(specials)];
    struct Case {
        int64_t vector_stride, element_stride, count, kc;
        int width;
    };
    for (const KernelTable* table : supported_kernel_tables())
        for (const int k_step : {1, 2})
            for (const Case c : {Case{80, 1, 12, 37, 12}, Case{80, 1, 5, 64, 12}, Case{64, 1, 32, 33, 32},
                                 Case{1, 64, 12, 41, 12}, Case{1, 64, 20, 7, 32}, Case{3, 70, 9, 19, 12},
                                 Case{0, 1, 1, 75, 1}, Case{0, 1, 1, 32, 1}, Case{0, 1, 1, 1, 1}}) {
                const int64_t steps = (c.kc + k_step - 1) / k_step;
                std::vector<float> want(size_t(steps * c.width), 1.0f), got(want.size(), 2.0f);
                gemm_pack_generic(k_step, src.data(), c.vector_stride, c.element_stride, c.count, c.kc, c.width,
                                  want.data());
                table->gemm_pack(k_step, src.data(), c.vector_stride, c.element_stride, c.count, c.kc, c.width,
                                 got.data());
                ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
                    << table->name << " k_step " << k_step << " strides " << c.vector_stride << "/"
                    << c.element_stride << " count " << c.count << " kc " << c.kc;
            }
}

// The packer of bfloat16 rows (a BF16 weight as B) against its one-element-at-a-time twin,
// and that twin against packing the widened values: the words must be the ones a float32
// B of the same values gives (its bf16 rounding of a bf16 value is exact).
TEST(Kernels, GemmPackBf16MatchesFallbackAndFloatPacking)
{
    std::mt19937 rng(17);
    std::vector<uint16_t> src(64 * 90);
    for (uint16_t& v : src) v = f32_to_bf16(std::normal_distribution<float>(0.0f, 1.0f)(rng));
    const float specials[] = {-INFINITY, INFINITY, 1e-40f, -3e-39f, 1.00390625f, -0.0f, std::nanf("")};
    for (size_t i = 0; i < src.size(); i += 41) src[i] = f32_to_bf16(specials[(i / 41) % std::size(specials)]);
    std::vector<float> widened(src.size());
    for (size_t i = 0; i < src.size(); ++i) widened[i] = bf16_to_f32(src[i]);
    struct Case {
        int64_t vector_stride, count, kc;
        int width;
    };
    for (const KernelTable* table : supported_kernel_tables())
        for (const int k_step : {1, 2})
            for (const Case c : {Case{90, 12, 37, 12}, Case{90, 5, 64, 12}, Case{64, 32, 33, 32}, Case{90, 16, 90, 32},
                                 Case{90, 1, 75, 1}, Case{64, 3, 1, 16}, Case{90, 20, 31, 32}}) {
                const int64_t steps = (c.kc + k_step - 1) / k_step;
                std::vector<float> want(size_t(steps * c.width), 1.0f), got(want.size(), 2.0f), floats(want.size(), 3.0f);
                gemm_pack_bf16_generic(k_step, src.data(), c.vector_stride, c.count, c.kc, c.width, want.data());
                table->gemm_pack_bf16(k_step, src.data(), c.vector_stride, c.count, c.kc, c.width, got.data());
                gemm_pack_generic(k_step, widened.data(), c.vector_stride, 1, c.count, c.kc, c.width, floats.data());
                const std::string what = fmt::format("{} k_step {} stride {} count {} kc {} width {}", table->name,
                                                     k_step, c.vector_stride, c.count, c.kc, c.width);
                ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << what;
                ASSERT_EQ(std::memcmp(floats.data(), want.data(), want.size() * sizeof(float)), 0) << what;
            }
}

// A weight packed once (from BF16 or float32 rows) gives, bit for bit, the product gemm()
// gives with a float32 B of the same values (which GemmMatchesReferenceInEveryLayout checks
// against the twin), in both precisions; and each row's result is the same computed alone,
// among other rows, and on one thread or two: the batch invariance inference relies on.
TEST(Kernels, PackedWeightEqualsGemmAndEachRowAlone)
{
    std::mt19937 rng(19);
    ThreadPool one(1), two(2);
    struct Shape {
        int64_t m, n, k;
    };
    for (const GemmPrecision precision : every_precision())
        for (const Shape s : {Shape{1, 1, 1}, Shape{13, 33, 7}, Shape{25, 70, 300}, Shape{100, 530, 257},
                              Shape{3, 2100, 64}, Shape{40, 17, 513}, Shape{1, 4100, 600}})
            for (const bool from_bf16 : {false, true}) {
                const int64_t ldw = s.k + 3, lda = s.k + 1;
                std::vector<uint16_t> w(size_t(s.n * ldw));
                for (uint16_t& v : w) v = f32_to_bf16(std::normal_distribution<float>(0.0f, 1.0f)(rng));
                std::vector<float> values(w.size());
                for (size_t i = 0; i < w.size(); ++i) values[i] = bf16_to_f32(w[i]);
                PackedB packed;
                if (from_bf16) packed.pack_transposed(s.k, s.n, w.data(), ldw, precision, two);
                else packed.pack_transposed(s.k, s.n, values.data(), ldw, precision, two);
                const auto a = random_vector(size_t(s.m * lda), rng);
                std::vector<float> want(size_t(s.m * s.n)), got(want.size()), alone(want.size());
                gemm(s.m, s.n, s.k, {a.data(), lda, 1}, {values.data(), 1, ldw}, want.data(), s.n, false, two,
                     precision);
                const std::string what = fmt::format("{} {}x{}x{} from {}", precision == GemmPrecision::bf16 ? "bf16" : "f32",
                                                     s.m, s.n, s.k, from_bf16 ? "bf16" : "f32");
                for (ThreadPool* pool : {&one, &two}) {
                    gemm_packed(s.m, {a.data(), lda, 1}, packed, got.data(), s.n, *pool);
                    ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
                        << what << " threads " << pool->size();
                }
                for (int64_t i = 0; i < s.m; ++i)
                    gemm_packed(1, {a.data() + i * lda, lda, 1}, packed, alone.data() + i * s.n, s.n, two);
                ASSERT_EQ(std::memcmp(alone.data(), want.data(), want.size() * sizeof(float)), 0) << what << " alone";
            }
}

}  // namespace
}  // namespace mariana
