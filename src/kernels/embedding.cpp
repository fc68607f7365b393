#include "kernels/embedding.h"

#include <algorithm>

namespace mariana {

template <typename T>
void embedding_forward(const T* table, const int32_t* tokens, int64_t n, int64_t dim, T* out)
{
    for (int64_t t = 0; t < n; ++t) std::copy_n(table + int64_t(tokens[t]) * dim, dim, out + t * dim);
}

template <typename T>
void embedding_backward(const int32_t* tokens, const T* dout, int64_t n, int64_t dim, T* dtable)
{
    for (int64_t t = 0; t < n; ++t) {
        T* row = dtable + int64_t(tokens[t]) * dim;
        for (int64_t i = 0; i < dim; ++i) row[i] += dout[t * dim + i];
    }
}

template void embedding_forward<float>(const float*, const int32_t*, int64_t, int64_t, float*);
template void embedding_forward<double>(const double*, const int32_t*, int64_t, int64_t, double*);
template void embedding_backward<float>(const int32_t*, const float*, int64_t, int64_t, float*);
template void embedding_backward<double>(const int32_t*, const double*, int64_t, int64_t, double*);

}  // namespace mariana
