#include "model/mlp.h"

#include "kernels/activation.h"
#include "kernels/matmul.h"

namespace mariana {

void mlp_forward(const MlpWeights& w, const float* x, int64_t n_tokens, float* out, std::vector<float>& scratch,
                 ThreadPool& pool, GemmPrecision precision)
{
    const int64_t inter = w.gate.rows;
    if (scratch.size() < size_t(2 * n_tokens * inter)) scratch.resize(size_t(2 * n_tokens * inter));
    float* gate = scratch.data();                   // [n, I]
    float* up = scratch.data() + n_tokens * inter;  // [n, I]
    matmul(w.gate, x, n_tokens, gate, pool, precision);
    matmul(w.up, x, n_tokens, up, pool, precision);
    silu_mul(gate, up, n_tokens * inter, gate);
    matmul(w.down, gate, n_tokens, out, pool, precision);
}

}  // namespace mariana
