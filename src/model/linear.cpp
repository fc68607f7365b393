#include "model/linear.h"

#include "core/error.h"
#include "kernels/linear_products.h"
#include "kernels/matmul.h"

#include <algorithm>
#include <type_traits>

namespace mariana {

Linear Linear::of(const ParameterBinding& bind, const Weight& weight, const std::vector<float>* bias)
{
    const MatrixParam w = bind.matrix(weight);
    const VectorParam b = bias ? bind.vector(*bias) : VectorParam{};  // offset -1 without one
    Linear linear{w.stored.cols, w.stored.rows, w.offset, b.offset, {}, {}};
    if (w.stored.data) linear.parts.push_back({w.stored, b.stored});
    return linear;
}

Linear Linear::stacked(const ParameterBinding& bind, std::initializer_list<const Weight*> weights,
                       std::initializer_list<const std::vector<float>*> biases)
{
    MARIANA_CHECK(biases.size() == 0 || biases.size() == weights.size(), "{} biases for {} weights", biases.size(),
                  weights.size());
    const auto bias = [&](size_t i) { return biases.size() ? *(biases.begin() + i) : nullptr; };
    Linear all = of(bind, **weights.begin(), bias(0));
    for (size_t i = 1; i < weights.size(); ++i) {
        const Linear next = of(bind, **(weights.begin() + i), bias(i));
        if (next.in != all.in) fail("stacked projections of {} and {} inputs", all.in, next.in);
        if (all.weight >= 0 && next.weight != all.weight + all.out * all.in)
            fail("a stacked projection does not follow the one before it in the parameter layout");
        if (all.bias >= 0 && next.bias != all.bias + all.out)
            fail("a stacked projection's bias does not follow the one before it in the parameter layout");
        all.out += next.out;
        all.parts.insert(all.parts.end(), next.parts.begin(), next.parts.end());
    }
    return all;
}

namespace {

void add_bias(float* y, const float* bias, int64_t n, int64_t width, int64_t stride)
{
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < width; ++j) y[r * stride + j] += bias[j];
}

// Every part BF16, or every part F32 (FP8, F16, or a mix, keep float32 products).
bool packable(const Linear& l)
{
    const DType dtype = l.parts.front().weight.dtype;
    return (dtype == DType::bf16 || dtype == DType::f32) &&
           std::ranges::all_of(l.parts, [&](const Linear::Part& p) { return p.weight.dtype == dtype; });
}

// The parts' weights, all stored as `Word` (uint16_t for BF16, float for F32), as one
// B = Wᵀ [in, out]: one part in place; stacked tensors stored apart gathered first, their
// rows one after the other (once, when the model packs).
template <typename Word>
void pack_words(const Linear& l, PackedB& packed, ThreadPool& pool)
{
    if (l.parts.size() == 1)
        return packed.pack_transposed(l.in, l.out, static_cast<const Word*>(l.parts[0].weight.data), l.in,
                                      GemmPrecision::bf16, pool);
    std::vector<Word> rows;
    rows.reserve(size_t(l.out * l.in));
    for (const Linear::Part& part : l.parts) {
        const Word* data = static_cast<const Word*>(part.weight.data);
        rows.insert(rows.end(), data, data + part.weight.rows * l.in);
    }
    packed.pack_transposed(l.in, l.out, rows.data(), l.in, GemmPrecision::bf16, pool);
}

std::shared_ptr<const PackedB> pack_parts(const Linear& l, ThreadPool& pool)
{
    auto packed = std::make_shared<PackedB>();
    if (l.parts.front().weight.dtype == DType::bf16) pack_words<uint16_t>(l, *packed, pool);
    else pack_words<float>(l, *packed, pool);
    return packed;
}

// The bound tensors' products. bf16: through the parts packed once, in one product whatever
// n (so a row's result never depends on its batch). float32: the inference kernels (any
// stored dtype), stacked parts one by one, interleaved into y's columns: the copy is one
// pass over y, against a product that reads every weight for every row.
void forward_bound(const Linear& l, GemmPrecision precision, const float* x, int64_t n, float* y, ThreadPool& pool)
{
    MARIANA_CHECK(!l.parts.empty(), "a projection with neither flat values nor a bound tensor");
    if (precision == GemmPrecision::bf16 && gemm_bf16_available() && packable(l)) {
        if (!l.packed) l.packed = pack_parts(l, pool);
        gemm_packed(n, {x, l.in, 1}, *l.packed, y, l.out, pool);
        int64_t column = 0;
        for (const Linear::Part& part : l.parts) {
            if (part.bias) add_bias(y + column, part.bias, n, part.weight.rows, l.out);
            column += part.weight.rows;
        }
        return;
    }
    if (l.parts.size() == 1) {
        matmul(l.parts[0].weight, x, n, y, pool);
        if (l.parts[0].bias) add_bias(y, l.parts[0].bias, n, l.out, l.out);
        return;
    }
    thread_local std::vector<float> part_out;
    int64_t column = 0;
    for (const Linear::Part& part : l.parts) {
        const int64_t width = part.weight.rows;
        part_out.resize(size_t(n * width));
        matmul(part.weight, x, n, part_out.data(), pool);
        for (int64_t r = 0; r < n; ++r) std::copy_n(part_out.data() + r * width, width, y + r * l.out + column);
        if (part.bias) add_bias(y + column, part.bias, n, width, l.out);
        column += width;
    }
}

}  // namespace

Weight Linear::matrix(const WeightsView<float>& w) const
{
    if (w.flat()) return Weight{DType::f32, out, in, w.values + weight};
    MARIANA_CHECK(parts.size() == 1, "a stacked projection is not one matrix");
    return parts[0].weight;
}

template <typename T>
void Linear::forward(const WeightsView<T>& w, const T* x, int64_t n, T* y, ThreadPool& pool) const
{
    if (!w.flat()) {
        if constexpr (std::is_same_v<T, float>) return forward_bound(*this, w.precision, x, n, y, pool);
        else fail("only a float model reads bound tensors");
    }
    matmul_nt(x, w.values + weight, n, in, out, y, pool, w.precision);
    if (bias < 0) return;
    const T* b = w.values + bias;
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < out; ++j) y[r * out + j] += b[j];
}

template <typename T>
void Linear::backward(const WeightsView<T>& w, const T* x, const T* dy, int64_t n, T* dx, ThreadPool& pool,
                      Into into) const
{
    MARIANA_CHECK(w.flat() && w.grads, "a backward needs flat values and gradients");
    if (dx) matmul_nn(dy, w.values + weight, n, out, in, dx, into == Into::add, pool, w.precision);
    matmul_tn_add(dy, x, n, out, in, w.grads + weight, pool, w.precision);
    if (bias < 0) return;
    T* db = w.grads + bias;
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < out; ++j) db[j] += dy[r * out + j];
}

#define MARIANA_INSTANTIATE(T)                                                                                \
    template void Linear::forward<T>(const WeightsView<T>&, const T*, int64_t, T*, ThreadPool&) const;        \
    template void Linear::backward<T>(const WeightsView<T>&, const T*, const T*, int64_t, T*, ThreadPool&, Into) const;
MARIANA_INSTANTIATE(float)
MARIANA_INSTANTIATE(double)
#undef MARIANA_INSTANTIATE

}  // namespace mariana
