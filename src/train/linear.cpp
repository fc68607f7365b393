#include "train/linear.h"

#include "core/error.h"
#include "kernels/linear_products.h"

namespace mariana::train {

Linear Linear::of(const ParameterSet& layout, const Weight& weight, const std::vector<float>* bias)
{
    const Parameter& w = layout.of(weight);
    if (w.shape.size() != 2) fail("parameter '{}' is not a matrix", w.name);
    return {w.offset, bias ? layout.of(*bias).offset : -1, w.shape[1], w.shape[0]};
}

Linear Linear::stacked(const ParameterSet& layout, std::initializer_list<const Weight*> weights,
                       std::initializer_list<const std::vector<float>*> biases)
{
    MARIANA_CHECK(biases.size() == 0 || biases.size() == weights.size(), "{} biases for {} weights", biases.size(),
                  weights.size());
    const auto bias = [&](size_t i) { return biases.size() ? *(biases.begin() + i) : nullptr; };
    Linear all = of(layout, **weights.begin(), bias(0));
    for (size_t i = 1; i < weights.size(); ++i) {
        const Weight& field = **(weights.begin() + i);
        const Linear next = of(layout, field, bias(i));
        const std::string& name = layout.of(field).name;
        if (next.in != all.in || next.weight != all.weight + all.out * all.in)
            fail("'{}' does not follow the projection before it in memory with the same input size", name);
        if (bias(i) && next.bias != all.bias + all.out)
            fail("the bias of '{}' does not follow the one before it in memory", name);
        all.out += next.out;
    }
    return all;
}

template <typename T>
void Linear::forward(const WeightsView<T>& w, const T* x, int64_t n, T* y, ThreadPool& pool) const
{
    matmul_nt(x, w.at(weight), n, in, out, y, pool, w.precision);
    if (bias < 0) return;
    const T* b = w.at(bias);
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < out; ++j) y[r * out + j] += b[j];
}

template <typename T>
void Linear::backward(const WeightsView<T>& w, const T* x, const T* dy, int64_t n, T* dx, ThreadPool& pool,
                      Into into) const
{
    if (dx) matmul_nn(dy, w.at(weight), n, out, in, dx, into == Into::add, pool, w.precision);
    matmul_tn_add(dy, x, n, out, in, w.grad(weight), pool, w.precision);
    if (bias < 0) return;
    T* db = w.grad(bias);
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < out; ++j) db[j] += dy[r * out + j];
}

#define MARIANA_INSTANTIATE(T)                                                                                \
    template void Linear::forward<T>(const WeightsView<T>&, const T*, int64_t, T*, ThreadPool&) const;        \
    template void Linear::backward<T>(const WeightsView<T>&, const T*, const T*, int64_t, T*, ThreadPool&, Into) const;
MARIANA_INSTANTIATE(float)
MARIANA_INSTANTIATE(double)
#undef MARIANA_INSTANTIATE

}  // namespace mariana::train
