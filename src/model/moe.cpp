#include "model/moe.h"

#include "kernels/matmul.h"
#include "model/mlp.h"
#include "model/router.h"

#include <algorithm>
#include <cstring>

namespace mariana {

void Moe::forward(const MoeWeights& w, const float* x, int64_t T, float* out, ThreadPool& pool,
                  GemmPrecision precision)
{
    const int64_t E = config_.n_routed_experts, H = config_.hidden_size;
    logits_.resize(size_t(T * E));
    matmul(w.router, x, T, logits_.data(), pool);  // [T, E], float32 as HF's router

    // Per expert: the tokens that chose it and their weights.
    std::vector<std::vector<std::pair<int64_t, float>>> routed(static_cast<size_t>(E));
    const float* bias = w.correction_bias.empty() ? nullptr : w.correction_bias.data();
    for (int64_t t = 0; t < T; ++t) {
        const ExpertChoice choice = route_token(config_, logits_.data() + t * E, bias);
        for (size_t k = 0; k < choice.experts.size(); ++k)
            routed[size_t(choice.experts[k])].emplace_back(t, choice.weights[k]);
    }

    std::fill_n(out, T * H, 0.0f);
    expert_out_.resize(size_t(T * H));
    // Expert-index order, shared experts last, as DeepSeek's reference accumulates.
    for (int64_t e = 0; e < E; ++e) {
        const auto& tokens = routed[size_t(e)];
        if (tokens.empty()) continue;
        const int64_t n = int64_t(tokens.size());
        gathered_.resize(size_t(n * H));
        for (int64_t i = 0; i < n; ++i) std::memcpy(gathered_.data() + i * H, x + tokens[size_t(i)].first * H, size_t(H) * sizeof(float));
        mlp_forward(w.experts[size_t(e)], gathered_.data(), n, expert_out_.data(), mlp_scratch_, pool, precision);
        for (int64_t i = 0; i < n; ++i) axpy(out + tokens[size_t(i)].first * H, tokens[size_t(i)].second, expert_out_.data() + i * H, H);
    }
    if (config_.n_shared_experts > 0) {
        mlp_forward(w.shared, x, T, expert_out_.data(), mlp_scratch_, pool, precision);
        for (int64_t i = 0; i < T * H; ++i) out[i] += expert_out_[size_t(i)];
    }
}

}  // namespace mariana
