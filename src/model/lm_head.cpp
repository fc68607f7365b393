#include "model/lm_head.h"

#include "kernels/matmul.h"
#include "kernels/norm.h"

namespace mariana {

void embed_tokens(const Weight& embed, const std::vector<int32_t>& tokens, float* h)
{
    for (size_t t = 0; t < tokens.size(); ++t)
        for (int64_t c = 0; c < embed.cols; ++c) h[int64_t(t) * embed.cols + c] = embed.at(tokens[t], c);
}

void final_logits(const std::vector<float>& norm, const Weight& lm_head, float eps, const float* h, int64_t hidden,
                  const std::vector<int64_t>& rows, float* logits, ThreadPool& pool, GemmPrecision precision)
{
    std::vector<float> normed(rows.size() * size_t(hidden));
    for (size_t i = 0; i < rows.size(); ++i)
        rmsnorm(h + rows[i] * hidden, norm.data(), 1, hidden, eps, normed.data() + i * size_t(hidden));
    matmul(lm_head, normed.data(), int64_t(rows.size()), logits, pool, precision);
}

}  // namespace mariana
