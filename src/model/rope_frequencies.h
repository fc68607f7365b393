// RoPE inverse frequencies with the configured scaling (YaRN, Llama 3, linear), and YaRN's
// correction of the attention softmax scale.
#pragma once

#include "model/config.h"

#include <vector>

namespace mariana {

// inv_freq[i] for i < dim/2, in float32 as the references compute them.
std::vector<float> rope_inv_frequencies(const RopeConfig& rope, int64_t dim);

// YaRN's softmax-scale multiplier m² with m = 0.1 · mscale_all_dim · ln(factor) + 1
// (DeepSeek); 1 without YaRN.
double yarn_softmax_scale_factor(const RopeConfig& rope);

// HF DeepSeek scales cos/sin by mscale(factor, mscale) / mscale(factor, mscale_all_dim);
// 1 in every official config.
double yarn_rotation_scale(const RopeConfig& rope);

}  // namespace mariana
