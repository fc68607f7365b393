// The SwiGLU feed-forward block, used by dense layers, routed experts and shared experts.
#pragma once

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "model/tensor_decl.h"

#include <vector>

namespace mariana {

// out[t] = down(silu(gate x[t]) ⊙ up x[t]) for t < n_tokens; x [n, H], out [n, H].
// scratch grows to 2·n·intermediate floats.
void mlp_forward(const MlpWeights& w, const float* x, int64_t n_tokens, float* out, std::vector<float>& scratch,
                 ThreadPool& pool, GemmPrecision precision);

}  // namespace mariana
