// The model hyper-parameters, read by key from a Hugging Face config.json and validated
// once. Field names follow the HF configs; comments give DeepSeek's reference names.
#pragma once

#include "core/json.h"

#include <cstdint>
#include <string>

namespace mariana {

enum class Architecture { deepseek_v2, deepseek_v3, qwen2, llama };
enum class ScoringFunc { softmax, sigmoid };
enum class RopeScalingType { none, linear, yarn, llama3 };

struct RopeConfig {
    double theta = 10000.0;
    RopeScalingType type = RopeScalingType::none;
    double factor = 1.0;
    int64_t original_max_position_embeddings = 0;
    double beta_fast = 32.0, beta_slow = 1.0;          // yarn
    double mscale = 1.0, mscale_all_dim = 0.0;          // yarn (DeepSeek)
    double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
};

struct ModelConfig {
    Architecture architecture = Architecture::deepseek_v3;
    std::string architecture_name;  // as in config.json, e.g. "DeepseekV3ForCausalLM"
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t max_position_embeddings = 0;
    int64_t intermediate_size = 0;  // dense FFN width
    double rms_norm_eps = 1e-6;
    bool tie_word_embeddings = false;
    RopeConfig rope;
    int64_t bos_token_id = -1, eos_token_id = -1;

    // Dense attention (Qwen2, Llama): grouped-query attention.
    int64_t num_key_value_heads = 0;
    int64_t head_dim = 0;
    bool attention_bias = false;  // q/k/v biases (always on for Qwen2)

    // MLA (DeepSeek): q_lora_rank 0 means a plain q_proj.
    int64_t q_lora_rank = 0;
    int64_t kv_lora_rank = 0;
    int64_t qk_nope_head_dim = 0;
    int64_t qk_rope_head_dim = 0;
    int64_t v_head_dim = 0;

    // DeepSeekMoE: layers [0, first_k_dense_replace) are dense.
    int64_t first_k_dense_replace = 0;
    int64_t n_routed_experts = 0;
    int64_t n_shared_experts = 0;
    int64_t num_experts_per_tok = 0;
    int64_t moe_intermediate_size = 0;
    int64_t n_group = 1;
    int64_t topk_group = 1;
    bool group_limited = false;   // topk_method group_limited_greedy or noaux_tc
    bool correction_bias = false;  // topk_method noaux_tc: e_score_correction_bias
    ScoringFunc scoring_func = ScoringFunc::softmax;
    bool norm_topk_prob = false;
    double routed_scaling_factor = 1.0;
    int64_t num_nextn_predict_layers = 0;  // MTP modules after the last layer

    // FP8 block-quantised projections (quantization_config.quant_method "fp8").
    bool fp8_weights = false;

    bool is_mla() const { return architecture == Architecture::deepseek_v2 || architecture == Architecture::deepseek_v3; }
    bool is_moe_layer(int64_t layer) const { return is_mla() && n_routed_experts > 0 && layer >= first_k_dense_replace; }
    int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
};

// Reads and validates every field the forward pass needs; throws Error naming `source`
// (the config path) and the field.
ModelConfig parse_model_config(const Json& json, const std::string& source);

}  // namespace mariana
