#include "train/cross_entropy.h"

#include <algorithm>
#include <cmath>

namespace mariana::train {

template <typename T>
T cross_entropy(const T* logits, const int32_t* targets, int64_t rows, int64_t vocab, T scale, T* dlogits)
{
    double total = 0;  // float rows would lose digits summed in float
    for (int64_t r = 0; r < rows; ++r) {
        const T* z = logits + r * vocab;
        T* dz = dlogits ? dlogits + r * vocab : nullptr;
        if (targets[r] == kNoTarget) {
            if (dz) std::fill(dz, dz + vocab, T(0));
            continue;
        }
        const T max = *std::max_element(z, z + vocab);
        T sum = 0;
        for (int64_t i = 0; i < vocab; ++i) sum += std::exp(z[i] - max);
        const T log_sum = std::log(sum) + max;
        total += double(log_sum - z[targets[r]]);
        if (dz) {
            for (int64_t i = 0; i < vocab; ++i) dz[i] = scale * std::exp(z[i] - log_sum);
            dz[targets[r]] -= scale;
        }
    }
    return T(total);
}

template float cross_entropy<float>(const float*, const int32_t*, int64_t, int64_t, float, float*);
template double cross_entropy<double>(const double*, const int32_t*, int64_t, int64_t, double, double*);

}  // namespace mariana::train
