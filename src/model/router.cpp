#include "model/router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mariana {

template <typename T>
void router_scores(const ModelConfig& c, const T* logits, T* scores)
{
    const int64_t E = c.n_routed_experts;
    if (c.scoring_func == ScoringFunc::sigmoid) {
        for (int64_t e = 0; e < E; ++e) scores[e] = T(1) / (T(1) + std::exp(-logits[e]));
        return;
    }
    const T max = *std::max_element(logits, logits + E);
    T sum = 0;
    for (int64_t e = 0; e < E; ++e) sum += (scores[e] = std::exp(logits[e] - max));
    for (int64_t e = 0; e < E; ++e) scores[e] /= sum;
}

template <typename T>
std::vector<int32_t> select_experts(const ModelConfig& c, const T* scores, const T* bias)
{
    const int64_t E = c.n_routed_experts;
    std::vector<T> choice(scores, scores + E);
    if (bias)
        for (int64_t e = 0; e < E; ++e) choice[size_t(e)] += bias[e];

    if (c.group_limited && c.n_group > 1) {
        const int64_t per_group = E / c.n_group;
        std::vector<T> group_score(static_cast<size_t>(c.n_group));
        for (int64_t g = 0; g < c.n_group; ++g) {
            std::vector<T> members(choice.begin() + g * per_group, choice.begin() + (g + 1) * per_group);
            std::sort(members.begin(), members.end(), std::greater<>());
            group_score[size_t(g)] = bias ? members[0] + members[1] : members[0];
        }
        std::vector<int64_t> groups(static_cast<size_t>(c.n_group));
        std::iota(groups.begin(), groups.end(), 0);
        std::stable_sort(groups.begin(), groups.end(), [&](int64_t a, int64_t b) { return group_score[size_t(a)] > group_score[size_t(b)]; });
        for (size_t rank = size_t(c.topk_group); rank < groups.size(); ++rank)
            std::fill_n(choice.begin() + groups[rank] * per_group, per_group, -std::numeric_limits<T>::infinity());
    }

    std::vector<int32_t> order(static_cast<size_t>(E));
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + c.num_experts_per_tok, order.end(), [&](int32_t a, int32_t b) {
        return choice[size_t(a)] > choice[size_t(b)] || (choice[size_t(a)] == choice[size_t(b)] && a < b);
    });
    order.resize(size_t(c.num_experts_per_tok));
    return order;
}

template void router_scores<float>(const ModelConfig&, const float*, float*);
template void router_scores<double>(const ModelConfig&, const double*, double*);
template std::vector<int32_t> select_experts<float>(const ModelConfig&, const float*, const float*);
template std::vector<int32_t> select_experts<double>(const ModelConfig&, const double*, const double*);

}  // namespace mariana
