#include "train/mlp_block.h"

#include "train/swiglu.h"

#include <algorithm>

namespace mariana::train {

template <typename T>
MlpBlock<T>::MlpBlock(const ParameterSet& layout, const std::string& prefix)
    : gate_(Linear::find(layout, prefix + "gate_proj")), up_(Linear::find(layout, prefix + "up_proj")),
      down_(Linear::find(layout, prefix + "down_proj"))
{
}

template <typename T>
void MlpBlock<T>::forward(const WeightsView<T>& w, const T* x, int64_t n, T* out, ThreadPool& pool)
{
    const size_t size = size_t(n * gate_.out);
    g_.resize(size);
    u_.resize(size);
    h_.resize(size);
    gate_.forward(w, x, n, g_.data(), pool);
    up_.forward(w, x, n, u_.data(), pool);
    swiglu_forward(g_.data(), u_.data(), int64_t(size), h_.data(), pool);
    down_.forward(w, h_.data(), n, out, pool);
}

template <typename T>
void MlpBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t n, T* dx, ThreadPool& pool)
{
    const size_t size = size_t(n * gate_.out);
    dh_.assign(size, T(0));
    dg_.assign(size, T(0));
    du_.assign(size, T(0));
    down_.backward(w, h_.data(), dout, n, dh_.data(), pool);
    swiglu_backward(g_.data(), u_.data(), dh_.data(), int64_t(size), dg_.data(), du_.data(), pool);
    gate_.backward(w, x, dg_.data(), n, dx, pool);
    up_.backward(w, x, du_.data(), n, dx, pool);
}

template class MlpBlock<float>;
template class MlpBlock<double>;

}  // namespace mariana::train
