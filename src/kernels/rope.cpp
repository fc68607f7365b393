#include "kernels/rope.h"

#include <cmath>
#include <cstddef>

namespace mariana {

namespace {

void rope_angles(int64_t position, const float* inv_freq, int64_t dim, float* cos_sin)
{
    const int64_t half = dim / 2;
    for (int64_t i = 0; i < half; ++i) {
        const float angle = float(position) * inv_freq[i];  // fp32, as the references do
        cos_sin[i] = std::cos(angle);
        cos_sin[half + i] = std::sin(angle);
    }
}

template <typename T>
void rotate(T* x, const RopeSpan& s, const T* cos_sin, T sign)
{
    const int64_t half = s.dim / 2;
    for (int64_t t = 0; t < s.n_tokens; ++t) {
        const T* cos = cos_sin + t * s.dim;
        const T* sin = cos + half;
        for (int64_t h = 0; h < s.heads; ++h) {
            T* v = x + t * s.stride + h * s.head_stride;
            for (int64_t i = 0; i < half; ++i) {
                T& a = s.layout == RopeLayout::interleaved ? v[2 * i] : v[i];
                T& b = s.layout == RopeLayout::interleaved ? v[2 * i + 1] : v[i + half];
                const T c = cos[i], sn = sign * sin[i];
                const T a0 = a;
                a = a0 * c - b * sn;
                b = a0 * sn + b * c;
            }
        }
    }
}

}  // namespace

template <typename T>
std::vector<T> rope_table(const std::vector<float>& inv_freq, int64_t dim, int64_t length, double scale)
{
    std::vector<float> row(static_cast<std::size_t>(dim));
    std::vector<T> table(static_cast<std::size_t>(length * dim));
    for (int64_t p = 0; p < length; ++p) {
        rope_angles(p, inv_freq.data(), dim, row.data());
        for (int64_t i = 0; i < dim; ++i) table[std::size_t(p * dim + i)] = T(row[std::size_t(i)] * float(scale));
    }
    return table;
}

template <typename T>
void rope_forward(T* x, const RopeSpan& span, const T* cos_sin)
{
    rotate(x, span, cos_sin, T(1));
}

template <typename T>
void rope_backward(T* dx, const RopeSpan& span, const T* cos_sin)
{
    rotate(dx, span, cos_sin, T(-1));
}

template std::vector<float> rope_table<float>(const std::vector<float>&, int64_t, int64_t, double);
template std::vector<double> rope_table<double>(const std::vector<float>&, int64_t, int64_t, double);
template void rope_forward<float>(float*, const RopeSpan&, const float*);
template void rope_forward<double>(double*, const RopeSpan&, const double*);
template void rope_backward<float>(float*, const RopeSpan&, const float*);
template void rope_backward<double>(double*, const RopeSpan&, const double*);

}  // namespace mariana
