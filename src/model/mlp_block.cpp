#include "model/mlp_block.h"

#include "kernels/swiglu.h"

namespace mariana {

template <typename T>
MlpBlock<T>::MlpBlock(const ParameterBinding& bind, const MlpWeights& w)
    : gate_up_(Linear::stacked(bind, {&w.gate, &w.up})), down_(Linear::of(bind, w.down))
{
}

template <typename T>
void MlpBlock<T>::forward(const WeightsView<T>& w, const T* x, int64_t n, T* out, ThreadPool& pool)
{
    const int64_t inter = down_.in;
    gate_up_out_.resize(size_t(n * 2 * inter));
    h_.resize(size_t(n * inter));
    gate_up_.forward(w, x, n, gate_up_out_.data(), pool);
    swiglu_forward(gate_up_out_.data(), n, inter, h_.data(), pool);
    down_.forward(w, h_.data(), n, out, pool);
}

template <typename T>
void MlpBlock<T>::backward(const WeightsView<T>& w, const T* x, const T* dout, int64_t n, T* dx, ThreadPool& pool,
                           Into into)
{
    const int64_t inter = down_.in;
    dh_.resize(size_t(n * inter));
    dgate_up_.resize(gate_up_out_.size());
    down_.backward(w, h_.data(), dout, n, dh_.data(), pool, Into::overwrite);
    swiglu_backward(gate_up_out_.data(), dh_.data(), n, inter, dgate_up_.data(), pool);
    gate_up_.backward(w, x, dgate_up_.data(), n, dx, pool, into);
}

template class MlpBlock<float>;
template class MlpBlock<double>;

}  // namespace mariana
