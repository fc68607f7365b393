// Token embedding lookup and its backward (a scatter-add into the table's gradient).
#pragma once

#include <cstdint>

namespace mariana {

// out[t] = table[tokens[t]]; ids must lie in [0, rows of table).
template <typename T>
void embedding_forward(const T* table, const int32_t* tokens, int64_t n, int64_t dim, T* out);

// dtable[tokens[t]] += dout[t].
template <typename T>
void embedding_backward(const int32_t* tokens, const T* dout, int64_t n, int64_t dim, T* dtable);

}  // namespace mariana
