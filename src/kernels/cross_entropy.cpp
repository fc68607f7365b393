#include "kernels/cross_entropy.h"

#include "kernels/activation.h"
#include "kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mariana {

template <typename T>
T cross_entropy(const T* logits, const int32_t* targets, int64_t rows, int64_t vocab, T scale, T* dlogits,
                ThreadPool& pool)
{
    std::vector<double> row_loss(size_t(rows), 0.0);  // float rows would lose digits summed in float
    pool.parallel_for(rows, std::max<int64_t>(1, 65536 / (vocab + 1)), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const T* z = logits + r * vocab;
            T* dz = dlogits ? dlogits + r * vocab : nullptr;
            if (targets[r] == kNoTarget) {
                if (dz) std::fill(dz, dz + vocab, T(0));
                continue;
            }
            // e^(z - max) once: summed for the loss and, kept in dz, scaled to the gradient
            // (dz may be z, so the target's logit is read first).
            const T max = max_of(z, vocab), target = z[targets[r]];
            const T sum = exp_affine(z, T(1), -max, vocab, dz);
            row_loss[size_t(r)] = double(std::log(sum) + max - target);
            if (dz) {  // scale · softmax(z), less scale at the target
                const T factor = scale / sum;
                for (int64_t i = 0; i < vocab; ++i) dz[i] *= factor;
                dz[targets[r]] -= scale;
            }
        }
    });
    double total = 0;
    for (const double l : row_loss) total += l;
    return T(total);
}

template float cross_entropy<float>(const float*, const int32_t*, int64_t, int64_t, float, float*, ThreadPool&);
template double cross_entropy<double>(const double*, const int32_t*, int64_t, int64_t, double, double*, ThreadPool&);

}  // namespace mariana
