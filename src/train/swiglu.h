// The SwiGLU gate h = silu(g) ⊙ u, silu(g) = g · σ(g), forward and backward (adds into dg, du).
#pragma once

#include "core/thread_pool.h"

#include <cstdint>

namespace mariana::train {

template <typename T>
void swiglu_forward(const T* gate, const T* up, int64_t n, T* h, ThreadPool& pool);

// dg += dh ⊙ u ⊙ σ(g)(1 + g(1 - σ(g))); du += dh ⊙ silu(g).
template <typename T>
void swiglu_backward(const T* gate, const T* up, const T* dh, int64_t n, T* dgate, T* dup, ThreadPool& pool);

}  // namespace mariana::train
