// The DeepSeekMoE router: which experts a token goes to, and with what weights.
#pragma once

#include "model/config.h"

#include <cstdint>
#include <vector>

namespace mariana {

struct ExpertChoice {
    std::vector<int32_t> experts;  // num_experts_per_tok expert indices
    std::vector<float> weights;    // their weights (already scaled by routed_scaling_factor)
};

// logits: the router's [n_routed_experts] outputs for one token; bias: the
// e_score_correction_bias or null. Follows DeepSeek's reference step by step:
// scores (softmax or sigmoid) → choice scores (+ bias, selection only) → group limit
// (top topk_group of n_group groups, a group scored by its best expert, or its best two
// with a bias) → top-k → weights from the unbiased scores, normalised if norm_topk_prob,
// times routed_scaling_factor.
ExpertChoice route_token(const ModelConfig& config, const float* logits, const float* bias);

}  // namespace mariana
