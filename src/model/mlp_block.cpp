#include "model/mlp_block.h"

#include "kernels/swiglu.h"

namespace mariana {

template <typename T>
MlpBlock<T>::MlpBlock(const ParameterBinding& bind, const MlpWeights& w)
    : gate_up_(Linear::stacked(bind, {&w.gate, &w.up})), down_(Linear::of(bind, w.down))
{
}

template <typename T>
void MlpBlock<T>::forward(const WeightsView<T>& w, const T* x, int64_t n, T* out, Activations& a,
                          ThreadPool& pool) const
{
    const int64_t inter = down_.in;
    a.gate_up.resize(size_t(n * 2 * inter));
    a.h.resize(size_t(n * inter));
    gate_up_.forward(w, x, n, a.gate_up.data(), pool);
    swiglu_forward(a.gate_up.data(), n, inter, a.h.data(), pool);
    down_.forward(w, a.h.data(), n, out, pool);
}

template <typename T>
void MlpBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t n, T* dx, Activations& a,
                           ThreadPool& pool, Into into) const
{
    const int64_t inter = down_.in;
    a.dh.resize(size_t(n * inter));
    a.dgate_up.resize(a.gate_up.size());
    down_.backward(w, a.h.data(), dout, n, a.dh.data(), pool, Into::overwrite);
    swiglu_backward(a.gate_up.data(), a.dh.data(), n, inter, a.dgate_up.data(), pool);
    gate_up_.backward(w, x, a.dgate_up.data(), n, dx, pool, into);
}

template class MlpBlock<float>;
template class MlpBlock<double>;

}  // namespace mariana
