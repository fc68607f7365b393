#include "kernels/elementwise.h"

#include "kernels/matmul.h"

#include <algorithm>

namespace mariana {

int64_t rows_per_chunk(int64_t width) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(width, 1)); }

template <typename T>
void add(const T* a, const T* b, int64_t n, T* out, ThreadPool& pool)
{
    pool.parallel_for(n, 1 << 15, [=](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
    });
}

template <typename T>
void fill_zero(T* x, int64_t n, ThreadPool& pool)
{
    pool.parallel_for(n, 1 << 15, [=](int64_t begin, int64_t end) { std::fill(x + begin, x + end, T(0)); });
}

template <typename T>
void split_columns(const T* all, int64_t rows, std::initializer_list<std::pair<T*, int64_t>> parts, ThreadPool& pool)
{
    int64_t width = 0;
    for (const auto& part : parts) width += part.second;
    pool.parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const T* src = all + r * width;
            for (const auto& [dst, w] : parts) {
                std::copy_n(src, w, dst + r * w);
                src += w;
            }
        }
    });
}

template <typename T>
void join_columns(std::initializer_list<std::pair<const T*, int64_t>> parts, int64_t rows, T* all, ThreadPool& pool)
{
    int64_t width = 0;
    for (const auto& part : parts) width += part.second;
    pool.parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            T* dst = all + r * width;
            for (const auto& [src, w] : parts) dst = std::copy_n(src + r * w, w, dst);
        }
    });
}

float sum_of_products(const float* a, const float* b, int64_t n) { return dot(a, b, n); }

double sum_of_products(const double* a, const double* b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

template <typename T>
T max_of(const T* x, int64_t n)
{
    constexpr int64_t kLanes = 16;
    T lanes[kLanes];
    std::fill_n(lanes, kLanes, x[0]);
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) lanes[l] = std::max(lanes[l], x[i + l]);
    T max = x[0];
    for (const T lane : lanes) max = std::max(max, lane);
    for (; i < n; ++i) max = std::max(max, x[i]);
    return max;
}

template void add<float>(const float*, const float*, int64_t, float*, ThreadPool&);
template void add<double>(const double*, const double*, int64_t, double*, ThreadPool&);
template void fill_zero<float>(float*, int64_t, ThreadPool&);
template void fill_zero<double>(double*, int64_t, ThreadPool&);
template float max_of<float>(const float*, int64_t);
template void split_columns<float>(const float*, int64_t, std::initializer_list<std::pair<float*, int64_t>>,
                                   ThreadPool&);
template void split_columns<double>(const double*, int64_t, std::initializer_list<std::pair<double*, int64_t>>,
                                    ThreadPool&);
template void join_columns<float>(std::initializer_list<std::pair<const float*, int64_t>>, int64_t, float*,
                                  ThreadPool&);
template void join_columns<double>(std::initializer_list<std::pair<const double*, int64_t>>, int64_t, double*,
                                   ThreadPool&);
template double max_of<double>(const double*, int64_t);

}  // namespace mariana
