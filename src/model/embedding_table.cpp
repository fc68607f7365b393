#include "model/embedding_table.h"

#include "kernels/embedding.h"

#include <type_traits>

namespace mariana {

template <typename T>
void EmbeddingTable<T>::forward(const WeightsView<T>& w, const int32_t* tokens, int64_t n, T* out) const
{
    const int64_t dim = table_.stored.cols;
    if (w.flat()) return embedding_forward(w.at(table_), tokens, n, dim, out);
    if constexpr (std::is_same_v<T, float>) {
        const Weight& table = table_.stored;
        MARIANA_CHECK(table.data, "an embedding with neither flat values nor a bound tensor");
        for (int64_t t = 0; t < n; ++t)
            for (int64_t c = 0; c < dim; ++c) out[t * dim + c] = table.at(tokens[t], c);
    } else {
        fail("only a float model reads bound tensors");
    }
}

template <typename T>
void EmbeddingTable<T>::backward(const WeightsView<T>& w, const int32_t* tokens, const T* dout, int64_t n) const
{
    MARIANA_CHECK(w.flat() && w.grads, "a backward needs flat values and gradients");
    embedding_backward(tokens, dout, n, table_.stored.cols, w.grad(table_));
}

template class EmbeddingTable<float>;
template class EmbeddingTable<double>;

}  // namespace mariana
