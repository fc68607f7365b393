// The parameter buffers a training model reads and adds its gradients into, addressed by
// the offsets of a ParameterSet's layout: the set's own float buffers when training, or
// double copies of them in the finite-difference checks.
#pragma once

#include "kernels/gemm.h"

#include <cstdint>

namespace mariana::train {

template <typename T>
struct WeightsView {
    const T* values = nullptr;
    T* grads = nullptr;  // null: forward only
    // The linear layers' products in float: float32, or bf16 operands summed in float32.
    GemmPrecision precision = GemmPrecision::f32;

    const T* at(int64_t offset) const { return values + offset; }
    T* grad(int64_t offset) const { return grads + offset; }
};

}  // namespace mariana::train
