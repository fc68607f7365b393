// The SwiGLU gate h = silu(g) ⊙ u, silu(g) = g · σ(g), forward and backward, on the rows a
// fused gate-and-up projection writes: row r of gate_up is [g_r (width values), u_r (width)].
#pragma once

#include "core/thread_pool.h"

#include <cstdint>

namespace mariana {

// h [rows, width] (overwritten).
template <typename T>
void swiglu_forward(const T* gate_up, int64_t rows, int64_t width, T* h, ThreadPool& pool);

// dgate_up [rows, 2·width] (overwritten): [dh ⊙ u ⊙ σ(g)(1 + g(1 - σ(g))), dh ⊙ silu(g)].
template <typename T>
void swiglu_backward(const T* gate_up, const T* dh, int64_t rows, int64_t width, T* dgate_up, ThreadPool& pool);

}  // namespace mariana
