// New checkpoints with random weights in the real Hugging Face layout, initialised the way
// DeepSeek's Hugging Face code initialises its models (modeling_deepseek.py:
// DeepseekV3PreTrainedModel._init_weights, and MoEGate.reset_parameters for the router):
//   projections and embeddings ~ N(0, initializer_range) (config.json, default 0.02),
//   MoE router weight ~ U(-1/sqrt(H), 1/sqrt(H)) (kaiming_uniform with a = sqrt(5)),
//   RMSNorm weights = 1, biases = 0, e_score_correction_bias = 0.
#pragma once

#include "core/dtype.h"
#include "core/json.h"
#include "core/thread_pool.h"

#include <cstdint>
#include <string>

namespace mariana {

struct InitOptions {
    uint64_t seed = 0;
    // Storage of the projections: F32, BF16, or F8_E4M3 with 128×128 block scales (then
    // embeddings, norms, router and lm_head stay BF16 and config.json gains the V3
    // quantization_config). Vectors other than norms are F32 when dtype is F32.
    DType dtype = DType::bf16;
    int64_t max_shard_bytes = int64_t(4) << 30;  // more than one shard adds an index file
    std::string config_source = "config";       // named in errors about the config
};

// Validates `config` (as config.json would be), then writes config.json and the
// safetensors file(s) into `out_dir`, which must not exist or be empty. Everything is
// written under a temporary name and renamed at the end, so a failure leaves no
// half-written checkpoint. Deterministic for a given seed, whatever the thread count.
void write_random_checkpoint(const Json& config, const std::string& out_dir, const InitOptions& options,
                             ThreadPool& pool);

}  // namespace mariana
