#include "train/elementwise.h"

#include "kernels/matmul.h"

#include <algorithm>

namespace mariana::train {

template <typename T>
void add(const T* a, const T* b, int64_t n, T* out, ThreadPool& pool)
{
    pool.parallel_for(n, 1 << 15, [=](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
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
template float max_of<float>(const float*, int64_t);
template double max_of<double>(const double*, int64_t);

}  // namespace mariana::train
