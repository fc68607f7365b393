// How a block reaches its parameters, the same in every mode. A block is built on fields of
// its architecture's weight struct (model/declared_weights.h) and keeps, for each
// parameter, both ways to read it:
//  - its offset in flat buffers of values and gradients (training's ParameterSet lays them
//    out; the gradient checks run on double copies of them), -1 without such a layout;
//  - the field's own tensor when the struct is bound to data (a checkpoint's tensors in
//    their stored dtype, or parameters in memory served as a TensorSource).
// A WeightsView (model/weights_view.h) then says which of the two a forward reads.
#pragma once

#include "kernels/weight.h"

#include <cstdint>
#include <vector>

namespace mariana {

// A norm weight or a bias.
struct VectorParam {
    int64_t offset = -1;
    const float* stored = nullptr;  // float32 (loaders convert small vectors)
    int64_t size = 0;
};

// A projection, embedding or output head [rows, cols].
struct MatrixParam {
    int64_t offset = -1;
    Weight stored;  // rows and cols always set; data null when the struct holds no tensors
};

class ParameterBinding {
public:
    virtual ~ParameterBinding() = default;
    // The parameter a field stands for. Throws Error for a field the binding lacks (an
    // optional tensor its source does not have: see has).
    virtual MatrixParam matrix(const Weight& field) const = 0;
    virtual VectorParam vector(const std::vector<float>& field) const = 0;
    virtual bool has(const Weight& field) const = 0;
};

// The binding of a weight struct whose fields hold the tensors themselves (a model built on
// a TensorSource): no flat layout, so blocks run forward only, on the stored tensors.
class StoredBinding final : public ParameterBinding {
public:
    MatrixParam matrix(const Weight& field) const override { return {-1, field}; }
    VectorParam vector(const std::vector<float>& field) const override
    {
        return {-1, field.data(), int64_t(field.size())};
    }
    bool has(const Weight& field) const override { return field.data != nullptr; }
};

}  // namespace mariana
