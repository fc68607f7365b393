// What a checkpoint costs: parameters (total and active per token), bytes by dtype, KV
// cache per token, memory needed. Computed from the declared tensors and the checkpoint.
#pragma once

#include "formats/checkpoint.h"
#include "model/config.h"

#include <map>
#include <string>

namespace mariana {

struct ModelSummary {
    int64_t total_params = 0;
    int64_t active_params = 0;        // per token: routed experts count num_experts_per_tok / E
    int64_t weight_bytes = 0;         // as stored, scales included
    int64_t active_weight_bytes = 0;  // read per decoded token: all but the embedding table
    std::map<std::string, int64_t> params_by_dtype;
    int64_t kv_floats_per_token = 0;        // Mariana's cache (MLA: latent + rope key)
    int64_t per_head_kv_floats_per_token = 0;  // a plain per-head K/V cache of the same model
};

ModelSummary summarize(const ModelConfig& config, const Checkpoint& checkpoint);

}  // namespace mariana
