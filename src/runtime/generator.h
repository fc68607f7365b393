// Autoregressive generation for one sequence: prefill the prompt, then decode one token
// per forward call through the KV cache.
#pragma once

#include "model/model.h"
#include "runtime/sampler.h"

#include <functional>
#include <vector>

namespace mariana {

struct GenerateOptions {
    int64_t max_new_tokens = 32;
    SamplerOptions sampler;
    bool stop_at_eos = true;  // config.json's eos_token_id
};

// Returns the new tokens; on_token (if set) sees each as it is produced. Throws Error if
// the prompt is empty or prompt + max_new_tokens exceeds max_position_embeddings.
std::vector<int32_t> generate(Model& model, std::span<const int32_t> prompt, const GenerateOptions& options,
                              ThreadPool& pool, const std::function<void(int32_t)>& on_token = {});

}  // namespace mariana
