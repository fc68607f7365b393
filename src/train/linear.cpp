#include "train/linear.h"

#include "core/error.h"
#include "kernels/linear_products.h"

namespace mariana::train {

Linear Linear::find(const ParameterSet& layout, const std::string& stem, bool has_bias)
{
    const Parameter& w = layout.find(stem + ".weight");
    if (w.shape.size() != 2) fail("parameter '{}.weight' is not a matrix", stem);
    Linear linear{w.offset, -1, w.shape[1], w.shape[0]};
    if (has_bias) linear.bias = layout.find(stem + ".bias").offset;
    return linear;
}

Linear Linear::stacked(const ParameterSet& layout, const std::vector<std::string>& stems, bool has_bias)
{
    Linear all = find(layout, stems.at(0), has_bias);
    for (size_t i = 1; i < stems.size(); ++i) {
        const Linear next = find(layout, stems[i], has_bias);
        if (next.in != all.in || next.weight != all.weight + all.out * all.in)
            fail("'{}.weight' does not follow '{}.weight' in memory with the same input size", stems[i], stems[i - 1]);
        if (has_bias && next.bias != all.bias + all.out)
            fail("'{}.bias' does not follow '{}.bias' in memory", stems[i], stems[i - 1]);
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
