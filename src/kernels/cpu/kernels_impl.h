// The CPU kernels, written once over a vector type V and compiled once per instruction set
// (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512.cpp). Each of those files defines
// V and includes this header inside its own namespace, so the instantiations never mix.
//
// V provides: F (a vector of W floats), zero, set1, load, load_n (first n lanes, rest 0), store,
// fma, mul, add, sum (horizontal), round (to nearest), scale2 (p · 2ⁿ by adding n to the
// exponent bits, for results in the normal range), where_below / where_above (a constant
// where x is below / above a limit), and weight loads that convert W stored elements to float32:
// load_bf16(_n), load_f16(_n), load_fp8(_n). load_fp8 returns the e4m3 value / 256 (it
// goes through float16, whose exponent bias is 8 larger), so fp8 loads are multiplied by
// 256 · block scale, which is exact.
//
// No #pragma once: included once per instruction set.

template <DType D>
inline typename V::F load_weight(const void* row, int64_t c)
{
    if constexpr (D == DType::f32) return V::load(static_cast<const float*>(row) + c);
    if constexpr (D == DType::bf16) return V::load_bf16(static_cast<const uint16_t*>(row) + c);
    if constexpr (D == DType::f16) return V::load_f16(static_cast<const uint16_t*>(row) + c);
    if constexpr (D == DType::f8_e4m3) return V::load_fp8(static_cast<const uint8_t*>(row) + c);
}

template <DType D>
inline typename V::F load_weight_n(const void* row, int64_t c, int n)
{
    if constexpr (D == DType::f32) return V::load_n(static_cast<const float*>(row) + c, n);
    if constexpr (D == DType::bf16) return V::load_bf16_n(static_cast<const uint16_t*>(row) + c, n);
    if constexpr (D == DType::f16) return V::load_f16_n(static_cast<const uint16_t*>(row) + c, n);
    if constexpr (D == DType::f8_e4m3) return V::load_fp8_n(static_cast<const uint8_t*>(row) + c, n);
}

// Converts W (or n < W) weights starting at column c of one row, applying the fp8 block scale.
template <DType D, bool kPartial>
inline typename V::F weight_lanes(const void* row, const float* scale_row, int64_t c, int n)
{
    typename V::F w = kPartial ? load_weight_n<D>(row, c, n) : load_weight<D>(row, c);
    if constexpr (D == DType::f8_e4m3) w = V::mul(w, V::set1(scale_row[c / kFp8BlockSize] * 256.0f));
    return w;
}

// A register tile: kRows weight rows times kTokens tokens, all columns. Columns go in runs
// that share one fp8 block scale (one run for other dtypes), so each row's scale is read
// and broadcast once per run, not once per vector. Each token's sums are the same whatever
// kTokens: the accumulators of one token see the same products in the same order.
template <DType D, int kRows, int kTokens>
void matmul_tile(const Weight& w, const float* x, int64_t t0, float* y, int64_t r0)
{
    using F = typename V::F;
    constexpr bool kFp8 = D == DType::f8_e4m3;
    const int64_t cols = w.cols;
    const char* rows[kRows];
    const float* scales[kRows];
    for (int i = 0; i < kRows; ++i) {
        rows[i] = static_cast<const char*>(w.data) + (r0 + i) * cols * dtype_size(D);
        scales[i] = kFp8 ? w.scale_row(r0 + i) : nullptr;
    }
    const float* xs[kTokens];
    for (int j = 0; j < kTokens; ++j) xs[j] = x + (t0 + j) * cols;

    F acc[kRows][kTokens];
    for (auto& row : acc)
        for (auto& a : row) a = V::zero();

    const int64_t run = kFp8 ? kFp8BlockSize : cols;
    for (int64_t c0 = 0; c0 < cols; c0 += run) {
        const int64_t c1 = std::min(cols, c0 + run);
        F scale[kRows];
        if constexpr (kFp8)
            for (int i = 0; i < kRows; ++i) scale[i] = V::set1(scales[i][c0 / kFp8BlockSize] * 256.0f);
        int64_t c = c0;
        for (; c + V::W <= c1; c += V::W) {
            F wv[kRows];
            for (int i = 0; i < kRows; ++i) {
                wv[i] = load_weight<D>(rows[i], c);
                if constexpr (kFp8) wv[i] = V::mul(wv[i], scale[i]);
            }
            for (int j = 0; j < kTokens; ++j) {
                const F xv = V::load(xs[j] + c);
                for (int i = 0; i < kRows; ++i) acc[i][j] = V::fma(wv[i], xv, acc[i][j]);
            }
        }
        if (c < c1) {
            const int n = int(c1 - c);
            F wv[kRows];
            for (int i = 0; i < kRows; ++i) {
                wv[i] = load_weight_n<D>(rows[i], c, n);
                if constexpr (kFp8) wv[i] = V::mul(wv[i], scale[i]);
            }
            for (int j = 0; j < kTokens; ++j) {
                const F xv = V::load_n(xs[j] + c, n);
                for (int i = 0; i < kRows; ++i) acc[i][j] = V::fma(wv[i], xv, acc[i][j]);
            }
        }
    }
    for (int j = 0; j < kTokens; ++j)
        for (int i = 0; i < kRows; ++i) y[(t0 + j) * w.rows + r0 + i] = V::sum(acc[i][j]);
}

// The 1, 2 or 3 tokens left after the tiles of 4, in one tile (so their weights are
// converted once, not once per token: a MoE expert often gets 2 or 3 of a batch's tokens).
template <DType D, int kRows>
void matmul_tail(const Weight& w, const float* x, int64_t t0, int64_t n, float* y, int64_t r0)
{
    if (n == 1) matmul_tile<D, kRows, 1>(w, x, t0, y, r0);
    else if (n == 2) matmul_tile<D, kRows, 2>(w, x, t0, y, r0);
    else if (n == 3) matmul_tile<D, kRows, 3>(w, x, t0, y, r0);
}

// 4 rows × 4 tokens keeps 16 accumulators, 4 weight vectors and one input vector in
// registers; each converted weight vector is used by 4 tokens.
template <DType D>
void matmul_rows_typed(const Weight& w, const float* x, int64_t n_tokens, float* y, int64_t row_begin,
                       int64_t row_end)
{
    constexpr int kR = 4, kT = 4;
    int64_t r = row_begin;
    for (; r + kR <= row_end; r += kR) {
        int64_t t = 0;
        for (; t + kT <= n_tokens; t += kT) matmul_tile<D, kR, kT>(w, x, t, y, r);
        matmul_tail<D, kR>(w, x, t, n_tokens - t, y, r);
    }
    for (; r < row_end; ++r) {
        int64_t t = 0;
        for (; t + kT <= n_tokens; t += kT) matmul_tile<D, 1, kT>(w, x, t, y, r);
        matmul_tail<D, 1>(w, x, t, n_tokens - t, y, r);
    }
}

void matmul_rows(const Weight& w, const float* x, int64_t n_tokens, float* y, int64_t row_begin, int64_t row_end)
{
    switch (w.dtype) {
    case DType::f32: return matmul_rows_typed<DType::f32>(w, x, n_tokens, y, row_begin, row_end);
    case DType::bf16: return matmul_rows_typed<DType::bf16>(w, x, n_tokens, y, row_begin, row_end);
    case DType::f16: return matmul_rows_typed<DType::f16>(w, x, n_tokens, y, row_begin, row_end);
    case DType::f8_e4m3: return matmul_rows_typed<DType::f8_e4m3>(w, x, n_tokens, y, row_begin, row_end);
    }
}

template <DType D>
void matmul_transposed_typed(const Weight& w, const float* x, float* y)
{
    using F = typename V::F;
    const int64_t row_bytes = w.cols * dtype_size(D);
    for (int64_t c = 0; c < w.cols; c += V::W) {
        const int n = int(std::min<int64_t>(V::W, w.cols - c));
        F acc = V::zero();
        for (int64_t r = 0; r < w.rows; ++r) {
            const void* row = static_cast<const char*>(w.data) + r * row_bytes;
            const float* scales = D == DType::f8_e4m3 ? w.scale_row(r) : nullptr;
            const F wv = n == V::W ? weight_lanes<D, false>(row, scales, c, n) : weight_lanes<D, true>(row, scales, c, n);
            acc = V::fma(V::set1(x[r]), wv, acc);
        }
        V::store_n(y + c, acc, n);
    }
}

void matmul_transposed(const Weight& w, const float* x, float* y)
{
    switch (w.dtype) {
    case DType::f32: return matmul_transposed_typed<DType::f32>(w, x, y);
    case DType::bf16: return matmul_transposed_typed<DType::bf16>(w, x, y);
    case DType::f16: return matmul_transposed_typed<DType::f16>(w, x, y);
    case DType::f8_e4m3: return matmul_transposed_typed<DType::f8_e4m3>(w, x, y);
    }
}

float dot(const float* a, const float* b, int64_t n)
{
    typename V::F acc0 = V::zero(), acc1 = V::zero();
    int64_t i = 0;
    for (; i + 2 * V::W <= n; i += 2 * V::W) {
        acc0 = V::fma(V::load(a + i), V::load(b + i), acc0);
        acc1 = V::fma(V::load(a + i + V::W), V::load(b + i + V::W), acc1);
    }
    for (; i < n; i += V::W) {
        const int m = int(std::min<int64_t>(V::W, n - i));
        acc0 = V::fma(V::load_n(a + i, m), V::load_n(b + i, m), acc0);
    }
    return V::sum(acc0) + V::sum(acc1);
}

void axpy(float* y, float a, const float* x, int64_t n)
{
    const typename V::F av = V::set1(a);
    for (int64_t i = 0; i < n; i += V::W) {
        const int m = int(std::min<int64_t>(V::W, n - i));
        V::store_n(y + i, V::fma(av, V::load_n(x + i, m), V::load_n(y + i, m)), m);
    }
}

// e^x within 2 ulp: x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 in two parts, so r is
// exact), e^r by its Taylor polynomial to r⁷, times 2ⁿ through the exponent bits. That is
// exact wherever e^x is a normal float; below ln FLT_MIN it is 0, above ln FLT_MAX inf,
// and NaN stays NaN (it passes through every step and neither comparison holds).
inline typename V::F vector_exp(typename V::F x)
{
    using F = typename V::F;
    const F n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
    F r = V::fma(n, V::set1(-0.693359375f), x);
    r = V::fma(n, V::set1(2.12194440e-4f), r);
    F p = V::set1(1.0f / 5040);
    for (const float c : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f}) p = V::fma(p, r, V::set1(c));
    const F e = V::scale2(p, n);
    return V::where_above(x, 88.7228394f, INFINITY, V::where_below(x, -87.3365479f, 0.0f, e));
}

float exp_affine(const float* x, float a, float b, int64_t n, float* y)
{
    using F = typename V::F;
    constexpr int W = V::W;
    const F av = V::set1(a), bv = V::set1(b);
    F sum = V::zero();
    int64_t i = 0;
    for (; i + W <= n; i += W) {
        const F e = vector_exp(V::fma(av, V::load(x + i), bv));
        if (y) V::store_n(y + i, e, W);
        sum = V::add(sum, e);
    }
    float total = V::sum(sum);
    if (i < n) {
        const int m = int(n - i);
        float tail[W];
        V::store_n(tail, vector_exp(V::fma(av, V::load_n(x + i, m), bv)), m);
        for (int j = 0; j < m; ++j) total += tail[j];
        if (y) std::copy_n(tail, m, y + i);
    }
    return total;
}

// The GEMM micro-kernel: C[i, j] (+)= Σ_p A(p, i) · b[p·2W + j] over a tile of
// R = V::kGemmRows rows and 2W columns, b packed k-major (kernels/gemm.cpp). A(p, i) is
// a[p·step + i] when A's rows are adjacent in a k-major panel (kPanel), or a[i·rows + p]
// when the tile reads A's rows where they are stored, which saves transposing them.
// R × 2 accumulators stay in registers; each step loads two vectors of b and broadcasts
// R values of a. Only the first m rows and n columns of the tile are stored.
template <bool kPanel>
void gemm_tile_of(int64_t k, const float* a, int64_t rows, int64_t step, const float* b, float* c, int64_t ldc, int m,
                  int n, bool accumulate)
{
    using F = typename V::F;
    constexpr int R = V::kGemmRows, W = V::W;
    F acc[R][2];
    for_each_index<R>([&](int i) { acc[i][0] = acc[i][1] = V::zero(); });
    for (int64_t p = 0; p < k; ++p) {
        const F b0 = V::load(b + p * 2 * W), b1 = V::load(b + p * 2 * W + W);
        for_each_index<R>([&](int i) {
            const F ai = V::set1(kPanel ? a[p * step + i] : a[i * rows + p]);
            acc[i][0] = V::fma(ai, b0, acc[i][0]);
            acc[i][1] = V::fma(ai, b1, acc[i][1]);
        });
    }
    store_tile<V>(acc, c, ldc, m, n, accumulate);
}

void gemm_tile(int64_t k, const float* a, int64_t a_row_stride, int64_t a_step_stride, const float* b, float* c,
               int64_t ldc, int m, int n, bool accumulate)
{
    if (a_row_stride == 1) gemm_tile_of<true>(k, a, 1, a_step_stride, b, c, ldc, m, n, accumulate);
    else gemm_tile_of<false>(k, a, a_row_stride, 1, b, c, ldc, m, n, accumulate);
}
