// The token embedding of a model or an MTP module: a lookup, and its backward (a
// scatter-add into the table's gradient).
#pragma once

#include "model/parameter_binding.h"
#include "model/weights_view.h"

namespace mariana {

template <typename T>
class EmbeddingTable {
public:
    EmbeddingTable(const ParameterBinding& bind, const Weight& field) : table_(bind.matrix(field)) {}

    // out [n, hidden] = the rows of `tokens`, ids below the table's rows; bound tensors are
    // converted from their stored dtype.
    void forward(const WeightsView<T>& w, const int32_t* tokens, int64_t n, T* out) const;
    // Flat layouts only: the table's gradient rows of `tokens` += dout [n, hidden].
    void backward(const WeightsView<T>& w, const int32_t* tokens, const T* dout, int64_t n) const;

private:
    MatrixParam table_;
};

}  // namespace mariana
