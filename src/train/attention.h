// Causal softmax attention over one sequence, forward and backward, with grouped heads
// (head h reads key/value head h / (heads / kv_heads)) and separate key and value widths
// (MLA's keys are nope+rope wide, its values v_head_dim). Rows are token-major:
// q [T, heads·dk], k [T, kv_heads·dk], v [T, kv_heads·dv], out [T, heads·dv].
#pragma once

#include "core/thread_pool.h"

#include <cstdint>

namespace mariana::train {

struct AttentionShape {
    int64_t tokens, heads, kv_heads, dk, dv;
    double scale;  // multiplies q·k before the softmax
};

// probs [heads, T, T] keeps the softmax rows (upper triangle zero) for the backward.
template <typename T>
void attention_forward(const T* q, const T* k, const T* v, const AttentionShape& s, T* probs, T* out,
                       ThreadPool& pool);

// Adds into dq, dk, dv. Parallel over key/value heads, so no two threads share a dk row.
template <typename T>
void attention_backward(const T* q, const T* k, const T* v, const T* probs, const T* dout, const AttentionShape& s,
                        T* dq, T* dk, T* dv, ThreadPool& pool);

}  // namespace mariana::train
