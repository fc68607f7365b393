// What a block's forward reads its parameters from, and where its backward adds their
// gradients: flat buffers addressed by the offsets of a ParameterSet's layout (the set's
// own float buffers when training, or double copies of them in the finite-difference
// checks), or, with no flat values, the tensors the blocks were bound to (float only,
// forward only: inference on a checkpoint or on parameters in memory).
#pragma once

#include "core/error.h"
#include "kernels/gemm.h"
#include "model/parameter_binding.h"

#include <cstdint>
#include <type_traits>

namespace mariana {

template <typename T>
struct WeightsView {
    const T* values = nullptr;  // null: the bound tensors
    T* grads = nullptr;         // null: forward only
    // The linear layers' products in float: float32, or bf16 operands summed in float32.
    GemmPrecision precision = GemmPrecision::f32;

    bool flat() const { return values != nullptr; }

    const T* at(const VectorParam& p) const
    {
        if (values) return values + p.offset;
        if constexpr (std::is_same_v<T, float>) {
            MARIANA_CHECK(p.stored, "a parameter read from bound tensors has none");
            return p.stored;
        } else {
            fail("only a float model reads bound tensors");
        }
    }
    const T* at(const MatrixParam& p) const
    {
        MARIANA_CHECK(values, "a matrix read as flat values from a view without them");
        return values + p.offset;
    }
    T* grad(const VectorParam& p) const { return grads + p.offset; }
    T* grad(const MatrixParam& p) const { return grads + p.offset; }
};

}  // namespace mariana
