#include "model/output_head.h"

#include "kernels/cross_entropy.h"
#include "kernels/rms_norm.h"

#include <algorithm>

namespace mariana {

template <typename T>
void OutputHead<T>::normalize(const WeightsView<T>& w, const T* h, int64_t rows, ThreadPool& pool)
{
    x_.resize(size_t(rows * head_.in));
    rstd_.resize(size_t(rows));
    rms_norm_forward(h, w.at(norm_), rows, head_.in, eps_, x_.data(), rstd_.data(), pool);
}

template <typename T>
void OutputHead<T>::logits(const WeightsView<T>& w, const T* h, int64_t rows, T* out, ThreadPool& pool)
{
    normalize(w, h, rows, pool);
    head_.forward(w, x_.data(), rows, out, pool);
}

template <typename T>
T OutputHead<T>::loss(const WeightsView<T>& w, const T* h, const int32_t* targets, int64_t rows, T scale, T* dh,
                      LargeVector<T>& logits, ThreadPool& pool)
{
    normalize(w, h, rows, pool);
    const bool backward = dh && w.grads;
    if (backward) dx_.resize(x_.size());
    const int64_t block = std::min(rows, kRowsPerBlock);
    logits.resize(size_t(block * head_.out));
    double total = 0;
    for (int64_t r0 = 0; r0 < rows; r0 += block) {
        const int64_t n = std::min(block, rows - r0);
        const T* x = x_.data() + r0 * head_.in;
        head_.forward(w, x, n, logits.data(), pool);
        // The gradient overwrites the logits row by row.
        total += double(cross_entropy(logits.data(), targets + r0, n, head_.out, scale,
                                      backward ? logits.data() : nullptr, pool));
        if (backward) head_.backward(w, x, logits.data(), n, dx_.data() + r0 * head_.in, pool, Into::overwrite);
    }
    if (backward)
        rms_norm_backward(h, w.at(norm_), rstd_.data(), dx_.data(), rows, head_.in, dh, dh, w.grad(norm_), pool);
    return T(total);
}

template class OutputHead<float>;
template class OutputHead<double>;

}  // namespace mariana
