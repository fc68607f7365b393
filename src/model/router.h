// The DeepSeekMoE router: which experts a token goes to (MoeBlock weighs them).
#pragma once

#include "model/config.h"

#include <cstdint>
#include <vector>

namespace mariana {

// The router's scores of one token: softmax or sigmoid of its n_routed_experts logits.
template <typename T>
void router_scores(const ModelConfig& config, const T* logits, T* scores);

// The num_experts_per_tok experts one token goes to, from its scores and the
// e_score_correction_bias (null without one), which takes part in the choice only:
// choice scores (scores + bias) → group limit (the top topk_group of n_group groups, a
// group scored by its best expert, or its best two with a bias) → top-k, ties to the
// lower index.
template <typename T>
std::vector<int32_t> select_experts(const ModelConfig& config, const T* scores, const T* bias);

}  // namespace mariana
