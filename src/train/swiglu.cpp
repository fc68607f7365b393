#include "train/swiglu.h"

#include "kernels/activation.h"

#include <vector>

namespace mariana::train {

template <typename T>
void swiglu_forward(const T* gate, const T* up, int64_t n, T* h, ThreadPool& pool)
{
    pool.parallel_for(n, 16384, [&](int64_t begin, int64_t end) {
        silu_mul(gate + begin, up + begin, end - begin, h + begin);
    });
}

template <typename T>
void swiglu_backward(const T* gate, const T* up, const T* dh, int64_t n, T* dgate, T* dup, ThreadPool& pool)
{
    pool.parallel_for(n, 16384, [&](int64_t begin, int64_t end) {
        thread_local std::vector<T> e;
        e.resize(size_t(end - begin));
        exp_affine(gate + begin, T(-1), T(0), end - begin, e.data());
        for (int64_t i = begin; i < end; ++i) {
            const T g = gate[i];
            const T sigma = T(1) / (T(1) + e[size_t(i - begin)]);
            dgate[i] += dh[i] * up[i] * sigma * (T(1) + g * (T(1) - sigma));
            dup[i] += dh[i] * g * sigma;
        }
    });
}

template void swiglu_forward<float>(const float*, const float*, int64_t, float*, ThreadPool&);
template void swiglu_forward<double>(const double*, const double*, int64_t, double*, ThreadPool&);
template void swiglu_backward<float>(const float*, const float*, const float*, int64_t, float*, float*, ThreadPool&);
template void swiglu_backward<double>(const double*, const double*, const double*, int64_t, double*, double*,
                                        ThreadPool&);

}  // namespace mariana::train
