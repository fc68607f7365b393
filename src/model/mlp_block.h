// A SwiGLU feed-forward block down(silu(gate·x) ⊙ up·x) for training: the dense layers'
// MLP, each routed expert and the shared experts. Keeps its activations for the backward.
// gate_proj and up_proj are stored one after the other (the order the architecture
// declares them), so they run as one [2·inter, hidden] projection: x is packed for the GEMM
// once, and the backward makes one product for dx and one for both weights' gradients.
#pragma once

#include "core/huge_pages.h"
#include "model/linear.h"
#include "model/tensor_decl.h"

#include <vector>

namespace mariana {

template <typename T>
class MlpBlock {
public:
    // The parameters of `w`, a SwiGLU block bound by `bind`.
    MlpBlock(const ParameterBinding& bind, const MlpWeights& w);

    // x [n, hidden] → out [n, hidden] (overwritten).
    void forward(const WeightsView<T>& w, const T* x, int64_t n, T* out, ThreadPool& pool);
    // For the x and n of the last forward: dx += ∂/∂x of Σ dout ⊙ out (= with Into::overwrite);
    // parameter gradients added.
    void backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t n, T* dx, ThreadPool& pool,
                  Into into = Into::add);

private:
    Linear gate_up_, down_;
    LargeVector<T> gate_up_out_, h_;  // [n, 2·inter] rows [gate·x, up·x]; [n, inter] their SwiGLU
    LargeVector<T> dh_, dgate_up_;
};

}  // namespace mariana
