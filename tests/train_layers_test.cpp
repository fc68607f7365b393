// The training layers' backward passes against finite differences in double precision:
// for a random weighting r of a layer's outputs y, the loss L = Σ r ⊙ y has the gradient
// the backward computes from dy = r, and central differences (L(θ+h) - L(θ-h)) / 2h must
// agree with it at every entry of every input and parameter.
#include "kernels/attention.h"
#include "kernels/cross_entropy.h"
#include "kernels/embedding.h"
#include "kernels/linear_products.h"
#include "model/output_head.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <vector>

namespace mariana::train {
namespace {

using Vec = std::vector<double>;

Vec random_vec(size_t n, uint64_t seed, double scale = 1.0)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, scale);
    Vec v(n);
    for (double& x : v) x = normal(rng);
    return v;
}

double weighted_sum(const Vec& r, const Vec& y) { return std::inner_product(r.begin(), r.end(), y.begin(), 0.0); }

// Compares `analytic` with central differences of `loss` with respect to every entry of x.
void expect_gradient(const char* name, Vec& x, const Vec& analytic, const std::function<double()>& loss)
{
    ASSERT_EQ(x.size(), analytic.size()) << name;
    constexpr double h = 1e-5;
    for (size_t i = 0; i < x.size(); ++i) {
        const double saved = x[i];
        x[i] = saved + h;
        const double plus = loss();
        x[i] = saved - h;
        const double minus = loss();
        x[i] = saved;
        const double numeric = (plus - minus) / (2 * h);
        EXPECT_NEAR(analytic[i], numeric, 1e-7 * std::max(1.0, std::abs(numeric))) << name << "[" << i << "]";
    }
}

TEST(TrainLayers, LinearGradients)
{
    ThreadPool pool(2);
    const int64_t n = 5, k = 7, m = 4;
    Vec x = random_vec(n * k, 1), w = random_vec(m * k, 2), r = random_vec(n * m, 3);
    auto loss = [&] {
        Vec y(n * m);
        matmul_nt(x.data(), w.data(), n, k, m, y.data(), pool);
        return weighted_sum(r, y);
    };
    Vec dx(n * k), dx_overwritten(n * k, 99.0), dw(m * k);
    matmul_nn(r.data(), w.data(), n, m, k, dx.data(), true, pool);
    matmul_nn(r.data(), w.data(), n, m, k, dx_overwritten.data(), false, pool);
    matmul_tn_add(r.data(), x.data(), n, m, k, dw.data(), pool);
    expect_gradient("x", x, dx, loss);
    expect_gradient("x (overwritten)", x, dx_overwritten, loss);
    expect_gradient("w", w, dw, loss);
}

TEST(TrainLayers, FloatProductsMatchDouble)
{
    ThreadPool pool(2);
    for (const auto [n, k, m] : {std::array<int64_t, 3>{1, 1, 1}, {3, 17, 5}, {9, 131, 33}, {16, 64, 70}}) {
        const Vec x = random_vec(n * k, 4), w = random_vec(m * k, 5), dy = random_vec(n * m, 6);
        const std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end()), dyf(dy.begin(), dy.end());
        Vec y(n * m), dx(n * k), dw(m * k);
        std::vector<float> yf(n * m), dxf(n * k, 99.0f), dwf(m * k);  // dxf is overwritten
        matmul_nt(x.data(), w.data(), n, k, m, y.data(), pool);
        matmul_nt(xf.data(), wf.data(), n, k, m, yf.data(), pool);
        matmul_nn(dy.data(), w.data(), n, m, k, dx.data(), true, pool);
        matmul_nn(dyf.data(), wf.data(), n, m, k, dxf.data(), false, pool);
        matmul_tn_add(dy.data(), x.data(), n, m, k, dw.data(), pool);
        matmul_tn_add(dyf.data(), xf.data(), n, m, k, dwf.data(), pool);
        for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(yf[i], y[i], 1e-4 * std::sqrt(double(k)));
        for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dxf[i], dx[i], 1e-4 * std::sqrt(double(m)));
        for (size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dwf[i], dw[i], 1e-4 * std::sqrt(double(n)));
    }
}

// Attention of T queries over P cached keys before them (a chunk after a prefix) gives the
// last T rows of attention over the whole P + T sequence: exactly in double (the same sums),
// within rounding in float and bf16, with keys and values read from interleaved rows (as a
// KV cache stores them: a position's keys, then its values).
TEST(TrainLayers, AttentionOverCachedKeysEqualsTheWholeSequencesLastRows)
{
    ThreadPool pool(2);
    std::vector<GemmPrecision> precisions{GemmPrecision::f32};
    if (gemm_bf16_available()) precisions.push_back(GemmPrecision::bf16);
    for (const auto& [P, T] : {std::pair<int64_t, int64_t>{10, 1}, {50, 37}, {100, 150}, {1, 60}}) {
        const int64_t L = P + T, heads = 6, kv_heads = 2, dk = 20, dv = 12, row = kv_heads * (dk + dv);
        const Vec q = random_vec(L * heads * dk, 50), kv = random_vec(L * row, 51);
        Vec k(L * kv_heads * dk), v(L * kv_heads * dv);
        for (int64_t j = 0; j < L; ++j) {
            std::copy_n(kv.begin() + j * row, kv_heads * dk, k.begin() + j * kv_heads * dk);
            std::copy_n(kv.begin() + j * row + kv_heads * dk, kv_heads * dv, v.begin() + j * kv_heads * dv);
        }
        const AttentionShape whole{L, heads, kv_heads, dk, dv, 0.2, GemmPrecision::f32, 1};
        Vec lse(heads * L), out(L * heads * dv);
        attention_forward(q.data(), k.data(), v.data(), whole, lse.data(), out.data(), pool);

        AttentionShape chunk{T, heads, kv_heads, dk, dv, 0.2, GemmPrecision::f32, 1, P, row, row};
        Vec lse_d(heads * T), out_d(T * heads * dv);
        attention_forward(q.data() + P * heads * dk, kv.data(), kv.data() + kv_heads * dk, chunk, lse_d.data(),
                          out_d.data(), pool);
        for (int64_t i = 0; i < T * heads * dv; ++i) ASSERT_EQ(out_d[size_t(i)], out[size_t(P * heads * dv + i)]);
        for (int64_t h = 0; h < heads; ++h)
            for (int64_t i = 0; i < T; ++i) ASSERT_EQ(lse_d[size_t(h * T + i)], lse[size_t(h * L + P + i)]);

        const std::vector<float> qf(q.begin(), q.end()), kvf(kv.begin(), kv.end());
        for (const GemmPrecision precision : precisions) {
            chunk.precision = precision;
            const double tolerance = precision == GemmPrecision::f32 ? 1e-4 : 3e-2;
            std::vector<float> lse_f(size_t(heads * T)), out_f(size_t(T * heads * dv), 99.0f);
            attention_forward(qf.data() + P * heads * dk, kvf.data(), kvf.data() + kv_heads * dk, chunk, lse_f.data(),
                              out_f.data(), pool);
            for (int64_t i = 0; i < T * heads * dv; ++i)
                ASSERT_NEAR(out_f[size_t(i)], out[size_t(P * heads * dv + i)], tolerance)
                    << "P=" << P << " T=" << T << " at " << i << (precision == GemmPrecision::bf16 ? " bf16" : "");
        }
    }
}

// The float attention (GEMMs over strided views, in causal blocks) computes what the double
// loops compute, at a sequence shorter than a block, one of several blocks, the last
// partial, and ones the backward takes in several passes of 288 rows (301: a last pass of
// 13 rows, odd; 700: three passes); with bf16 products too, within bfloat16's rounding.
TEST(TrainLayers, FloatAttentionMatchesDouble)
{
    ThreadPool pool(2);
    std::vector<GemmPrecision> precisions{GemmPrecision::f32};
    if (gemm_bf16_available()) precisions.push_back(GemmPrecision::bf16);
    for (const GemmPrecision precision : precisions)
    for (const auto& [T, B] : {std::pair<int64_t, int64_t>{37, 3}, {150, 1}, {301, 2}, {700, 1}}) {
        const AttentionShape s{T, 6, 2, 20, 12, 0.2, precision, B};
        const int64_t N = B * T;
        const double tolerance = precision == GemmPrecision::f32 ? 1e-4 : 3e-2;
        const Vec q = random_vec(N * 6 * 20, 40), k = random_vec(N * 2 * 20, 41), v = random_vec(N * 2 * 12, 42),
                  dout = random_vec(N * 6 * 12, 43);
        auto to_float = [](const Vec& x) { return std::vector<float>(x.begin(), x.end()); };
        const auto qf = to_float(q), kf = to_float(k), vf = to_float(v), doutf = to_float(dout);
        // The backward overwrites its gradients: they start as junk.
        Vec lse(B * 6 * T), out(N * 6 * 12), dq(q.size(), 99.0), dk(k.size(), 99.0), dv(v.size(), 99.0);
        std::vector<float> lsef(lse.size()), outf(out.size()), dqf(q.size(), 99.0f), dkf(k.size(), 99.0f),
            dvf(v.size(), 99.0f);
        attention_forward(q.data(), k.data(), v.data(), s, lse.data(), out.data(), pool);
        attention_forward(qf.data(), kf.data(), vf.data(), s, lsef.data(), outf.data(), pool);
        attention_backward(q.data(), k.data(), v.data(), lse.data(), dout.data(), s, dq.data(), dk.data(), dv.data(),
                           pool);
        attention_backward(qf.data(), kf.data(), vf.data(), lsef.data(), doutf.data(), s, dqf.data(), dkf.data(),
                           dvf.data(), pool);
        auto expect_close = [&](const std::vector<float>& got, const Vec& want, const char* what) {
            for (size_t i = 0; i < want.size(); ++i)
                ASSERT_NEAR(got[i], want[i], tolerance * std::max(1.0, std::abs(want[i])))
                    << what << i << " T=" << T << " B=" << B << (precision == GemmPrecision::bf16 ? " bf16" : "");
        };
        expect_close(lsef, lse, "lse");
        expect_close(outf, out, "out");
        expect_close(dqf, dq, "dq");
        expect_close(dkf, dk, "dk");
        expect_close(dvf, dv, "dv");
        // Sequences attend only within themselves: the last one alone gives its rows exactly.
        if (B == 1) continue;
        const int64_t last = (B - 1) * T;
        AttentionShape alone = s;
        alone.sequences = 1;
        std::vector<float> lse1(6 * T), out1(T * 6 * 12), dq1(T * 6 * 20), dk1(T * 2 * 20), dv1(T * 2 * 12);
        attention_forward(qf.data() + last * 6 * 20, kf.data() + last * 2 * 20, vf.data() + last * 2 * 12, alone,
                          lse1.data(), out1.data(), pool);
        attention_backward(qf.data() + last * 6 * 20, kf.data() + last * 2 * 20, vf.data() + last * 2 * 12,
                           lse1.data(), doutf.data() + last * 6 * 12, alone, dq1.data(), dk1.data(), dv1.data(), pool);
        auto expect_same = [&](const std::vector<float>& got, const std::vector<float>& batched, int64_t from,
                               const char* what) {
            ASSERT_EQ(std::memcmp(got.data(), batched.data() + from, got.size() * sizeof(float)), 0)
                << what << " of the last sequence alone" << (precision == GemmPrecision::bf16 ? " bf16" : "");
        };
        expect_same(lse1, lsef, (B - 1) * 6 * T, "lse");
        expect_same(out1, outf, last * 6 * 12, "out");
        expect_same(dq1, dqf, last * 6 * 20, "dq");
        expect_same(dk1, dkf, last * 2 * 20, "dk");
        expect_same(dv1, dvf, last * 2 * 12, "dv");
    }
}

// The output head's loss runs in blocks of rows: with rows spanning three blocks (the last
// partial) and some rows without a target, its gradients with respect to every hidden
// value and parameter still match finite differences of the loss.
TEST(TrainLayers, OutputHeadGradientsAcrossRowBlocks)
{
    ThreadPool pool(2);
    const int64_t hidden = 2, vocab = 3, rows = 2 * OutputHead<double>::kRowsPerBlock + 7;
    Vec h = random_vec(rows * hidden, 50), values = random_vec(hidden + vocab * hidden, 51);
    std::vector<int32_t> targets(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) targets[size_t(r)] = r % 7 == 3 ? kNoTarget : int32_t(r % vocab);
    Linear projection;  // [vocab, hidden] right after the norm's [hidden] in `values`
    projection.in = hidden, projection.out = vocab, projection.weight = hidden;
    OutputHead<double> head(VectorParam{0, nullptr, hidden}, projection, 1e-6);
    LargeVector<double> logits;
    // The mean over rows, so that differences of the loss keep their digits.
    auto loss = [&] {
        return head.loss({values.data(), nullptr}, h.data(), targets.data(), rows, 1.0, nullptr, logits, pool) /
               double(rows);
    };
    Vec dh(h.size()), grads(values.size());
    head.loss({values.data(), grads.data()}, h.data(), targets.data(), rows, 1.0 / double(rows), dh.data(), logits,
              pool);
    expect_gradient("h", h, dh, loss);
    expect_gradient("norm and head weights", values, grads, loss);
}

TEST(TrainLayers, RmsNormGradients)
{
    ThreadPool pool(2);
    const int64_t rows = 3, dim = 8;
    Vec x = random_vec(rows * dim, 7), w = random_vec(dim, 8), r = random_vec(rows * dim, 9);
    auto loss = [&] {
        Vec y(rows * dim), rstd(rows);
        rms_norm_forward(x.data(), w.data(), rows, dim, 1e-6, y.data(), rstd.data(), pool);
        return weighted_sum(r, y);
    };
    // dx from a zero base, from a base of its own (adding into it), and from another base.
    const Vec base = random_vec(rows * dim, 13);
    Vec y(rows * dim), rstd(rows), dx(rows * dim, 99.0), dx_added = base, dx_on_base(rows * dim, 99.0), dw(dim),
        unused(dim);
    rms_norm_forward(x.data(), w.data(), rows, dim, 1e-6, y.data(), rstd.data(), pool);
    rms_norm_backward(x.data(), w.data(), rstd.data(), r.data(), rows, dim, nullptr, dx.data(), dw.data(), pool);
    rms_norm_backward(x.data(), w.data(), rstd.data(), r.data(), rows, dim, dx_added.data(), dx_added.data(),
                      unused.data(), pool);
    rms_norm_backward(x.data(), w.data(), rstd.data(), r.data(), rows, dim, base.data(), dx_on_base.data(),
                      unused.data(), pool);
    expect_gradient("x", x, dx, loss);
    expect_gradient("w", w, dw, loss);
    for (size_t i = 0; i < dx.size(); ++i) {
        EXPECT_DOUBLE_EQ(dx_added[i], base[i] + dx[i]) << i;
        EXPECT_DOUBLE_EQ(dx_on_base[i], base[i] + dx[i]) << i;
    }
}

TEST(TrainLayers, SwigluGradients)
{
    ThreadPool pool(2);
    const int64_t rows = 3, width = 4;  // rows of [gate (width), up (width)]
    Vec gu = random_vec(rows * 2 * width, 10, 2.0), r = random_vec(rows * width, 12);
    auto loss = [&] {
        Vec h(rows * width);
        swiglu_forward(gu.data(), rows, width, h.data(), pool);
        return weighted_sum(r, h);
    };
    Vec dgu(rows * 2 * width, 99.0);  // overwritten
    swiglu_backward(gu.data(), r.data(), rows, width, dgu.data(), pool);
    expect_gradient("gate_up", gu, dgu, loss);
}

TEST(TrainLayers, CrossEntropyValueAndGradient)
{
    ThreadPool pool(2);
    const int64_t rows = 4, vocab = 6;
    Vec z = random_vec(rows * vocab, 13, 3.0);
    const std::vector<int32_t> targets = {2, kNoTarget, 0, 5};
    const double scale = 1.0 / 3;  // three rows have targets
    auto loss = [&] { return scale * cross_entropy<double>(z.data(), targets.data(), rows, vocab, 0, nullptr, pool); };
    Vec dz(rows * vocab, 99.0);
    const double value = cross_entropy(z.data(), targets.data(), rows, vocab, scale, dz.data(), pool);
    double expected = 0;  // Σ over rows with a target of log Σ e^z - z[target], by hand
    for (int64_t row = 0; row < rows; ++row) {
        if (targets[row] == kNoTarget) continue;
        double sum = 0;
        for (int64_t i = 0; i < vocab; ++i) sum += std::exp(z[row * vocab + i]);
        expected += std::log(sum) - z[row * vocab + targets[row]];
    }
    EXPECT_NEAR(value, expected, 1e-12);
    for (int64_t i = vocab; i < 2 * vocab; ++i) EXPECT_EQ(dz[i], 0.0);  // no target: no gradient
    expect_gradient("logits", z, dz, loss);
    // The output head passes one buffer as logits and gradient: the same loss and gradient.
    Vec in_place = z;
    EXPECT_EQ(cross_entropy(in_place.data(), targets.data(), rows, vocab, scale, in_place.data(), pool), value);
    EXPECT_EQ(in_place, dz);
}

TEST(TrainLayers, RopeGradientsBothLayouts)
{
    const int64_t tokens = 3, heads = 2, dim = 8, head_stride = 10, stride = 24;
    for (const RopeLayout layout : {RopeLayout::interleaved, RopeLayout::half_split}) {
        Vec cos_sin(tokens * dim);
        for (int64_t t = 0; t < tokens; ++t)
            for (int64_t i = 0; i < dim / 2; ++i) {
                const double angle = double(t + 1) * std::pow(10.0, -double(i) / 2);
                cos_sin[t * dim + i] = 1.3 * std::cos(angle);  // YaRN-style scaled: not orthogonal
                cos_sin[t * dim + dim / 2 + i] = 1.3 * std::sin(angle);
            }
        const RopeSpan span{tokens, stride, heads, head_stride, dim, layout};
        Vec x = random_vec(tokens * stride, 14), r = random_vec(tokens * stride, 15);
        auto loss = [&] {
            Vec y = x;
            rope_forward(y.data(), span, cos_sin.data());
            return weighted_sum(r, y);
        };
        Vec dx = r;
        rope_backward(dx.data(), span, cos_sin.data());
        expect_gradient(layout == RopeLayout::interleaved ? "x (interleaved)" : "x (half split)", x, dx, loss);
    }
}

TEST(TrainLayers, CausalAttentionGradientsWithGroupedHeads)
{
    ThreadPool pool(2);
    const AttentionShape s{.tokens = 5, .heads = 4, .kv_heads = 2, .dk = 6, .dv = 3, .scale = 0.4};
    Vec q = random_vec(s.tokens * s.heads * s.dk, 16), k = random_vec(s.tokens * s.kv_heads * s.dk, 17),
        v = random_vec(s.tokens * s.kv_heads * s.dv, 18), r = random_vec(s.tokens * s.heads * s.dv, 19);
    Vec lse(s.heads * s.tokens), out(s.tokens * s.heads * s.dv);
    auto loss = [&] {
        attention_forward(q.data(), k.data(), v.data(), s, lse.data(), out.data(), pool);
        return weighted_sum(r, out);
    };
    loss();
    // The first token sees only itself: its output is its value vector, for every head.
    for (int64_t h = 0; h < s.heads; ++h)
        for (int64_t d = 0; d < s.dv; ++d) EXPECT_NEAR(out[h * s.dv + d], v[(h / 2) * s.dv + d], 1e-12);
    // lse[h, i] = log Σ_{j ≤ i} exp(scale · q_i·k_j), by hand.
    for (int64_t h = 0; h < s.heads; ++h)
        for (int64_t i = 0; i < s.tokens; ++i) {
            double sum = 0;
            for (int64_t j = 0; j <= i; ++j) {
                double qk = 0;
                for (int64_t d = 0; d < s.dk; ++d)
                    qk += q[(i * s.heads + h) * s.dk + d] * k[(j * s.kv_heads + h / 2) * s.dk + d];
                sum += std::exp(s.scale * qk);
            }
            EXPECT_NEAR(lse[h * s.tokens + i], std::log(sum), 1e-12);
        }
    Vec dq(q.size(), 99.0), dk(k.size(), 99.0), dv(v.size(), 99.0);  // overwritten
    attention_backward(q.data(), k.data(), v.data(), lse.data(), r.data(), s, dq.data(), dk.data(), dv.data(), pool);
    expect_gradient("q", q, dq, loss);
    expect_gradient("k", k, dk, loss);
    expect_gradient("v", v, dv, loss);
}

TEST(TrainLayers, EmbeddingGradientAddsRepeatedTokens)
{
    const int64_t rows = 5, dim = 3;
    const std::vector<int32_t> tokens = {1, 3, 1, 4};
    Vec table = random_vec(rows * dim, 20), r = random_vec(tokens.size() * dim, 21);
    auto loss = [&] {
        Vec out(tokens.size() * dim);
        embedding_forward(table.data(), tokens.data(), int64_t(tokens.size()), dim, out.data());
        return weighted_sum(r, out);
    };
    Vec dtable(rows * dim);
    embedding_backward(tokens.data(), r.data(), int64_t(tokens.size()), dim, dtable.data());
    expect_gradient("table", table, dtable, loss);
}

}  // namespace
}  // namespace mariana::train
