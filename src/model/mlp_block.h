// A SwiGLU feed-forward block down(silu(gate·x) ⊙ up·x): the dense layers' MLP, each routed
// expert and the shared experts. gate_proj and up_proj are stored one after the other (the
// order the architecture declares them), so in a flat layout they run as one
// [2·inter, hidden] projection: x is packed for the GEMM once, and the backward makes one
// product for dx and one for both weights' gradients.
//
// Like every block, it holds where its parameters are and nothing a forward computes: what
// a forward keeps for its backward, and its scratch, live in Activations the caller owns
// (one per layer to train, one shared by all layers to infer).
#pragma once

#include "core/huge_pages.h"
#include "model/linear.h"
#include "model/tensor_decl.h"

namespace mariana {

template <typename T>
class MlpBlock {
public:
    struct Activations {
        LargeVector<T> gate_up, h;  // [n, 2·inter] rows [gate·x, up·x]; [n, inter] their SwiGLU
        LargeVector<T> dh, dgate_up;
    };

    // The parameters of `w`, bound by `bind`.
    MlpBlock(const ParameterBinding& bind, const MlpWeights& w);

    // x [n, hidden] → out [n, hidden] (overwritten).
    void forward(const WeightsView<T>& w, const T* x, int64_t n, T* out, Activations& a, ThreadPool& pool) const;
    // For the x and n of the forward that filled `a`: dx += ∂/∂x of Σ dout ⊙ out (= with
    // Into::overwrite); parameter gradients added.
    void backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t n, T* dx, Activations& a,
                  ThreadPool& pool, Into into = Into::add) const;

private:
    Linear gate_up_, down_;
};

}  // namespace mariana
