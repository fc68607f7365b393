#include "train/swiglu.h"

#include <cmath>

namespace mariana::train {

template <typename T>
void swiglu_forward(const T* gate, const T* up, int64_t n, T* h)
{
    for (int64_t i = 0; i < n; ++i) h[i] = gate[i] / (T(1) + std::exp(-gate[i])) * up[i];
}

template <typename T>
void swiglu_backward(const T* gate, const T* up, const T* dh, int64_t n, T* dgate, T* dup)
{
    for (int64_t i = 0; i < n; ++i) {
        const T g = gate[i];
        const T sigma = T(1) / (T(1) + std::exp(-g));
        dgate[i] += dh[i] * up[i] * sigma * (T(1) + g * (T(1) - sigma));
        dup[i] += dh[i] * g * sigma;
    }
}

template void swiglu_forward<float>(const float*, const float*, int64_t, float*);
template void swiglu_forward<double>(const double*, const double*, int64_t, double*);
template void swiglu_backward<float>(const float*, const float*, const float*, int64_t, float*, float*);
template void swiglu_backward<double>(const double*, const double*, const double*, int64_t, double*, double*);

}  // namespace mariana::train
