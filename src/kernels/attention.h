// Causal softmax attention over one sequence, forward and backward, with grouped heads
// (head h reads key/value head h / (heads / kv_heads)) and separate key and value widths
// (MLA's keys are nope+rope wide, its values v_head_dim). Rows are token-major:
// q [T, heads·dk], k [P + T, kv_heads·dk], v [P + T, kv_heads·dv], out [T, heads·dv], where
// P (`past`, forward only) counts keys and values cached before the T queries: query i sits
// at position P + i and sees keys [0, P + i].
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"

#include <cstdint>
#include <span>

namespace mariana {

// The cached rows of one sequence, in pages of page_rows consecutive positions (a paged KV
// cache): row j is at pages[j / page_rows] + (j % page_rows) · stride + offset.
struct PagedRows {
    std::span<const float* const> pages;
    int64_t page_rows, stride, offset;
    const float* row(int64_t j) const { return pages[size_t(j / page_rows)] + (j % page_rows) * stride + offset; }
};

struct AttentionShape {
    int64_t tokens, heads, kv_heads, dk, dv;  // tokens: of each sequence
    double scale;  // multiplies q·k before the softmax
    // The float products' operands (the softmax and its gradient stay float32).
    GemmPrecision precision = GemmPrecision::f32;
    int64_t sequences = 1;  // of `tokens` rows each, one after the other, attending within themselves
    int64_t past = 0;       // cached keys before the queries (one sequence, forward only)
    // Forward only: the row strides of k and v, where their rows are not packed (a KV cache
    // row holding both); 0 for kv_heads·dk and kv_heads·dv.
    int64_t k_stride = 0, v_stride = 0;
};

// Only lse [B, heads, T], each softmax row's log Σ exp, is kept for the backward, which
// recomputes the probabilities from it (as FlashAttention does): the memory kept per layer
// grows with T, not T²; the T × T scores live in one scratch per thread meanwhile.
template <typename T>
void attention_forward(const T* q, const T* k, const T* v, const AttentionShape& s, T* lse, T* out,
                       ThreadPool& pool);

// One query per head (s.tokens 1) at position s.past over the keys and values [0, s.past]
// (rows of kv_heads·dk and kv_heads·dv floats at k's and v's offsets): decoding, where each
// cached row is read once, in place, by a dot product per key and an axpy per value,
// rather than packed for the blocked products. float32 throughout; lse not kept.
void attention_decode(const float* q, const PagedRows& k, const PagedRows& v, const AttentionShape& s, float* out,
                      ThreadPool& pool);

// Overwrites dq, dk, dv (their callers need not zero them). Parallel over key/value heads,
// so no two threads share a dk row.
template <typename T>
void attention_backward(const T* q, const T* k, const T* v, const T* lse, const T* dout, const AttentionShape& s,
                        T* dq, T* dk, T* dv, ThreadPool& pool);

}  // namespace mariana
