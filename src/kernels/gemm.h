// Dense float32 matrix products, C = op(A)·op(B) or C += op(A)·op(B), for training: the
// operands are strided views, so one routine serves a linear layer's x·Wᵀ, dY·W and dYᵀ·X
// without transposing anything. Structured like BLIS: blocks of B and of A are packed
// k-major into cache-sized panels, and a per-instruction-set micro-kernel computes
// register tiles of C from them.
//
// Deterministic: every element of C is summed in the same order (k ascending, in blocks)
// whatever the thread count.
#pragma once

#include "core/huge_pages.h"
#include "core/thread_pool.h"

#include <cstdint>
#include <vector>

namespace mariana {

struct KernelTable;

// float32: exact products summed in float32. bf16: both operands rounded to bfloat16 (8
// significant bits) and the products summed in float32, at twice the arithmetic rate, on
// CPUs with AVX-512 BF16 (float32 elsewhere: see gemm_bf16_available).
enum class GemmPrecision { f32, bf16 };
bool gemm_bf16_available();

// Element (i, j) of a matrix at data[i · row_stride + j · col_stride].
struct MatrixView {
    const float* data;
    int64_t row_stride, col_stride;
    float at(int64_t i, int64_t j) const { return data[i * row_stride + j * col_stride]; }
};

// C [m, n] (row-major, rows ldc apart) = A [m, k] · B [k, n], or += with accumulate.
void gemm(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate,
          ThreadPool& pool, GemmPrecision precision = GemmPrecision::f32);

// The same on the calling thread only (for callers already inside a parallel loop).
void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc, bool accumulate,
                 GemmPrecision precision = GemmPrecision::f32);

// The same with the micro-kernel of `kernels` (tests run every instruction set).
// pool null: on the calling thread.
void gemm_using(const KernelTable& kernels, int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c,
                int64_t ldc, bool accumulate, ThreadPool* pool, GemmPrecision precision = GemmPrecision::f32);

// The causal structure of an attention product, which lets gemm_serial skip work that
// cannot change C. With diagonal d:
//  - lower_c: only C[i][j] with j ≤ i + d is wanted. Whole tiles past it are not computed:
//    C there keeps what it held, or gets values the caller must not read.
//  - lower_a: A[i][p] = 0 wherever p > i + d, so those products are skipped;
//  - upper_a: A[i][p] = 0 wherever p < i + d, likewise.
// Work is skipped in whole tiles and k steps, so every wanted element of C is exactly what
// the full product gives.
struct Causal {
    enum Kind { none, lower_c, lower_a, upper_a } kind = none;
    int64_t diagonal = 0;
};

// A operand written by its producer directly in the words the micro-kernel reads, so that a
// product whose A comes out of a row-wise loop (attention's probabilities and score
// gradients) is not packed again: word (i, s) at data[i·row_stride + s·step_stride], one of
// the strides 1. A word holds gemm_k_step values of k: for float32 products the value
// itself (row i, k = s); for bf16 products two bfloat16, k = 2s in its lower half and 2s + 1
// in its upper half, as gemm_words_along and gemm_words_across make them.
struct WordsView {
    const float* data;
    int64_t row_stride, step_stride;
};

// Values of k per word of a `precision` product: 2 for bf16 where the CPU has it, else 1.
int gemm_k_step(GemmPrecision precision);
// The ceil(n / k_step) words of one row of A, x [n] (odd n: the last pair's upper half 0).
void gemm_words_along(const float* x, int64_t n, float* out, GemmPrecision precision);
// bf16 words from two rows: out[j] holds lo[j] and hi[j] (hi null: 0), j < n.
void gemm_words_across(const float* lo, const float* hi, int64_t n, float* out);

// B [k, n] packed once for several products that each read a block of it: rows [r, r + k')
// and its first n' columns, r a multiple of two: attention multiplies a head's keys, and its
// values, by every block of query rows. A bf16 product whose k' is odd reads one more row
// of B against a zero of A's padding, so B must be finite there.
//
// Or a projection's weight, packed once when a model is built and read by every product
// that applies it (gemm_packed): no product then packs B again, so one that has a few rows
// (decoding, a MoE expert's tokens) costs what reading B costs.
class PackedB {
public:
    void pack(int64_t k, int64_t n, MatrixView b, GemmPrecision precision = GemmPrecision::f32);
    // B = Wᵀ for a weight W [n, k] stored row-major, rows ldw apart, in float32 or bfloat16;
    // blocks of k packed in parallel.
    void pack_transposed(int64_t k, int64_t n, const float* w, int64_t ldw, GemmPrecision precision,
                         ThreadPool& pool);
    void pack_transposed(int64_t k, int64_t n, const uint16_t* w, int64_t ldw, GemmPrecision precision,
                         ThreadPool& pool);

    int64_t rows() const { return k_; }
    int64_t cols() const { return n_; }
    GemmPrecision precision() const { return precision_; }
    int64_t bytes() const { return int64_t(words_.size() * sizeof(float)); }

private:
    friend void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixView a, const PackedB& b, float* c, int64_t ldc,
                            bool accumulate, int64_t b_row0, Causal causal);
    friend void gemm_serial_words(int64_t m, int64_t n, int64_t k, WordsView a, const PackedB& b, float* c,
                                  int64_t ldc, bool accumulate, int64_t b_row0, Causal causal);
    friend void gemm_packed(int64_t m, MatrixView a, const PackedB& b, float* c, int64_t ldc, ThreadPool& pool);
    struct Source;
    void pack_source(int64_t k, int64_t n, const Source& b, GemmPrecision precision, ThreadPool* pool);
    void multiply(int64_t m, int64_t n, int64_t k, MatrixView a, bool words, float* c, int64_t ldc, bool accumulate,
                  int64_t b_row0, Causal causal) const;
    // C's rows of tiles [t0, t1) and columns of panels [q0, q1) = A · B, all of B's rows.
    void multiply_block(int64_t m, MatrixView a, float* c, int64_t ldc, int64_t t0, int64_t t1, int64_t q0,
                        int64_t q1) const;
    LargeVector<float> words_;
    int64_t k_ = 0, n_ = 0;
    GemmPrecision precision_ = GemmPrecision::f32;
};

// C [m, n] = A [m, k] · B, all of a packed B. The threads split C's rows and columns, never
// k, so every element is summed in one order whatever m, the rows computed with it and the
// threads: a row's result does not depend on its batch. It equals gemm()'s on B's values.
void gemm_packed(int64_t m, MatrixView a, const PackedB& b, float* c, int64_t ldc, ThreadPool& pool);

// C [m, n] (+)= A [m, k] · B's rows [b_row0, b_row0 + k) and first n columns, on the
// calling thread, in B's precision, skipping what `causal` says is not needed. b_row0 must
// be even.
void gemm_serial(int64_t m, int64_t n, int64_t k, MatrixView a, const PackedB& b, float* c, int64_t ldc,
                 bool accumulate, int64_t b_row0 = 0, Causal causal = {});
// The same with A already in words of B's precision: steps [0, ceil(k / k_step)) of m rows.
void gemm_serial_words(int64_t m, int64_t n, int64_t k, WordsView a, const PackedB& b, float* c, int64_t ldc,
                       bool accumulate, int64_t b_row0 = 0, Causal causal = {});

// The plain twin for tests: one element at a time, double accumulation.
void gemm_reference(int64_t m, int64_t n, int64_t k, MatrixView a, MatrixView b, float* c, int64_t ldc,
                    bool accumulate);

}  // namespace mariana
