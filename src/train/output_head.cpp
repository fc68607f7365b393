#include "train/output_head.h"

#include "train/cross_entropy.h"
#include "train/rms_norm.h"

namespace mariana::train {

template <typename T>
void OutputHead<T>::logits(const WeightsView<T>& w, const T* h, int64_t rows, T* out, ThreadPool& pool)
{
    x_.resize(size_t(rows * head_.in));
    rstd_.resize(size_t(rows));
    rms_norm_forward(h, w.at(norm_), rows, head_.in, eps_, x_.data(), rstd_.data(), pool);
    head_.forward(w, x_.data(), rows, out, pool);
}

template <typename T>
T OutputHead<T>::loss(const WeightsView<T>& w, const T* h, const int32_t* targets, int64_t rows, T scale, T* dh,
                      LargeVector<T>& logits, ThreadPool& pool)
{
    logits.resize(size_t(rows * head_.out));
    this->logits(w, h, rows, logits.data(), pool);
    const bool backward = dh && w.grads;
    // The gradient overwrites the logits row by row.
    const T total = cross_entropy(logits.data(), targets, rows, head_.out, scale, backward ? logits.data() : nullptr, pool);
    if (!backward) return total;
    dx_.resize(x_.size());
    head_.backward(w, x_.data(), logits.data(), rows, dx_.data(), pool, Into::overwrite);
    rms_norm_backward(h, w.at(norm_), rstd_.data(), dx_.data(), rows, head_.in, dh, w.grad(norm_), pool);
    return total;
}

template class OutputHead<float>;
template class OutputHead<double>;

}  // namespace mariana::train
