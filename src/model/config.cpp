#include "model/config.h"

#include "core/error.h"
#include "kernels/weight.h"

#include <algorithm>

namespace mariana {

namespace {

Architecture parse_architecture(const JsonFields& f, std::string& name)
{
    const Json& list = f.raw("architectures");
    if (!list.is_array() || list.size() != 1 || !list[0].is_string())
        f.fail_field("architectures", fmt::format("must be a list with one name, got {}", json_summary(list)));
    name = list[0].get<std::string>();
    if (name == "DeepseekV3ForCausalLM") return Architecture::deepseek_v3;
    if (name == "DeepseekV2ForCausalLM") return Architecture::deepseek_v2;
    if (name == "Qwen2ForCausalLM") return Architecture::qwen2;
    if (name == "LlamaForCausalLM") return Architecture::llama;
    f.fail_field("architectures",
                 fmt::format("names '{}', which Mariana does not implement (supported: DeepseekV3ForCausalLM, "
                             "DeepseekV2ForCausalLM, Qwen2ForCausalLM, LlamaForCausalLM)",
                             name));
}

// Upper limits keep every product of sizes (tensor elements, bytes, offsets) far
// inside int64; they are orders of magnitude above any real checkpoint
// (V3: hidden 7168, 61 layers, 256 experts, vocab 129280, 163840 positions).
constexpr int64_t kMaxWidth = int64_t{1} << 20;     // hidden, intermediate, ranks, head dims
constexpr int64_t kMaxCount = int64_t{1} << 14;     // layers, heads, experts
constexpr int64_t kMaxLength = int64_t{1} << 24;    // vocab, positions
constexpr double kMaxParameters = 1e14;

int64_t bounded(const JsonFields& f, std::string_view key, int64_t value, int64_t min, int64_t max)
{
    if (value < min) f.fail_field(key, fmt::format("must be at least {}, got {}", min, value));
    if (value > max) f.fail_field(key, fmt::format("{} exceeds the limit of {}", value, max));
    return value;
}

int64_t positive(const JsonFields& f, std::string_view key, int64_t max)
{
    return bounded(f, key, f.integer(key), 1, max);
}

int64_t non_negative(const JsonFields& f, std::string_view key, int64_t fallback, int64_t max)
{
    return bounded(f, key, f.integer_or(key, fallback), 0, max);
}

// Sizes are capped one by one above, but their products can still be absurd;
// this bounds the parameter count (in double, which cannot overflow) so that
// every int64 size computed later is safe.
void check_total_size(const JsonFields& f, const ModelConfig& c)
{
    auto d = [](int64_t v) { return static_cast<double>(v); };
    const double hidden = d(c.hidden_size), heads = d(c.num_attention_heads);
    double attention = 0;
    if (c.is_mla()) {
        const double qk = d(c.qk_nope_head_dim + c.qk_rope_head_dim);
        attention = (c.q_lora_rank ? hidden * d(c.q_lora_rank) + d(c.q_lora_rank) * heads * qk : hidden * heads * qk) +
                    hidden * d(c.kv_lora_rank + c.qk_rope_head_dim) +
                    d(c.kv_lora_rank) * heads * d(c.qk_nope_head_dim + c.v_head_dim) + heads * d(c.v_head_dim) * hidden;
    } else {
        attention = hidden * d(c.head_dim) * (2 * heads + 2 * d(c.num_key_value_heads));
    }
    const double experts = 1 + d(c.n_routed_experts + c.n_shared_experts);
    const double mlp = 3 * hidden * d(std::max(c.intermediate_size, c.moe_intermediate_size)) * experts;
    const double total = d(c.num_hidden_layers + c.num_nextn_predict_layers) * (attention + mlp) +
                         2 * d(c.vocab_size) * hidden;
    if (total > kMaxParameters)
        f.fail_field("hidden_size", fmt::format("and the other sizes describe about {:.3g} parameters, beyond the "
                                                "limit of {:.0g}",
                                                total, kMaxParameters));
}

RopeConfig parse_rope(const JsonFields& f, Architecture arch, int64_t rotary_dim)
{
    RopeConfig rope;
    rope.theta = f.number_or("rope_theta", 10000.0);
    if (rope.theta <= 1.0) f.fail_field("rope_theta", fmt::format("must be > 1, got {}", rope.theta));
    if (!f.has("rope_scaling")) return rope;

    const JsonFields s = f.object("rope_scaling");
    // Older configs spell it "type", newer ones "rope_type".
    const std::string type = s.has("rope_type") ? s.string("rope_type") : s.string("type");
    if (type == "default") return rope;
    rope.factor = s.number("factor");
    if (rope.factor < 1.0) s.fail_field("factor", fmt::format("must be >= 1, got {}", rope.factor));
    const bool mla = arch == Architecture::deepseek_v2 || arch == Architecture::deepseek_v3;
    if (type == "yarn") {
        rope.type = RopeScalingType::yarn;
        rope.original_max_position_embeddings = positive(s, "original_max_position_embeddings", kMaxLength);
        rope.beta_fast = s.number_or("beta_fast", 32.0);
        rope.beta_slow = s.number_or("beta_slow", 1.0);
        rope.mscale = s.number_or("mscale", 1.0);
        rope.mscale_all_dim = s.number_or("mscale_all_dim", 0.0);
        if (!mla && (s.has("attention_factor") || s.has("mscale_all_dim")))
            s.fail_field("attention_factor", "is not implemented for dense models");
    } else if (type == "llama3" && arch == Architecture::llama) {
        rope.type = RopeScalingType::llama3;
        rope.original_max_position_embeddings = positive(s, "original_max_position_embeddings", kMaxLength);
        rope.low_freq_factor = s.number("low_freq_factor");
        rope.high_freq_factor = s.number("high_freq_factor");
        if (!(rope.high_freq_factor > rope.low_freq_factor))
            s.fail_field("high_freq_factor", "must be larger than low_freq_factor");
    } else if (type == "linear" && !mla) {
        rope.type = RopeScalingType::linear;
    } else {
        s.fail_field("type", fmt::format("'{}' is not implemented for this architecture", type));
    }
    if (rotary_dim % 2) f.fail_field("qk_rope_head_dim", "must be even for RoPE");
    return rope;
}

void parse_mla_moe(const JsonFields& f, ModelConfig& c)
{
    c.q_lora_rank = non_negative(f, "q_lora_rank", 0, kMaxWidth);
    c.kv_lora_rank = positive(f, "kv_lora_rank", kMaxWidth);
    c.qk_nope_head_dim = positive(f, "qk_nope_head_dim", kMaxWidth);
    c.qk_rope_head_dim = positive(f, "qk_rope_head_dim", kMaxWidth);
    c.v_head_dim = positive(f, "v_head_dim", kMaxWidth);
    if (c.qk_rope_head_dim % 2) f.fail_field("qk_rope_head_dim", "must be even");

    c.n_routed_experts = non_negative(f, "n_routed_experts", 0, kMaxCount);
    c.first_k_dense_replace = non_negative(f, "first_k_dense_replace", 0, kMaxCount);
    if (c.n_routed_experts == 0) return;
    c.n_shared_experts = non_negative(f, "n_shared_experts", 0, kMaxCount);
    c.num_experts_per_tok = positive(f, "num_experts_per_tok", kMaxCount);
    c.moe_intermediate_size = positive(f, "moe_intermediate_size", kMaxWidth);
    c.n_group = f.integer_or("n_group", 1);
    c.topk_group = f.integer_or("topk_group", 1);
    if (f.integer_or("moe_layer_freq", 1) != 1) f.fail_field("moe_layer_freq", "other than 1 is not implemented");
    if (c.num_experts_per_tok > c.n_routed_experts)
        f.fail_field("num_experts_per_tok", fmt::format("{} exceeds n_routed_experts {}", c.num_experts_per_tok, c.n_routed_experts));

    const std::string method = f.string_or("topk_method", "greedy");
    if (method == "noaux_tc") {
        c.group_limited = c.correction_bias = true;
    } else if (method == "group_limited_greedy") {
        c.group_limited = true;
    } else if (method != "greedy") {
        f.fail_field("topk_method", fmt::format("'{}' is not implemented (greedy, group_limited_greedy, noaux_tc)", method));
    }
    if (c.group_limited) {
        if (c.n_group <= 0 || c.n_routed_experts % c.n_group)
            f.fail_field("n_group", fmt::format("{} must divide n_routed_experts {}", c.n_group, c.n_routed_experts));
        if (c.topk_group <= 0 || c.topk_group > c.n_group)
            f.fail_field("topk_group", fmt::format("{} must be in [1, n_group {}]", c.topk_group, c.n_group));
        if (c.topk_group * (c.n_routed_experts / c.n_group) < c.num_experts_per_tok)
            f.fail_field("topk_group", "leaves fewer experts than num_experts_per_tok");
        if (c.correction_bias && c.n_routed_experts / c.n_group < 2)
            f.fail_field("n_group", "noaux_tc scores groups by their top two experts; groups need >= 2 experts");
    }
    const std::string scoring = f.string_or("scoring_func", "softmax");
    if (scoring == "sigmoid") c.scoring_func = ScoringFunc::sigmoid;
    else if (scoring != "softmax") f.fail_field("scoring_func", fmt::format("'{}' is not implemented (softmax, sigmoid)", scoring));
    c.norm_topk_prob = f.boolean_or("norm_topk_prob", false);
    c.routed_scaling_factor = f.number_or("routed_scaling_factor", 1.0);
    c.num_nextn_predict_layers = non_negative(f, "num_nextn_predict_layers", 0, kMaxCount);
}

}  // namespace

ModelConfig parse_model_config(const Json& json, const std::string& source)
{
    const JsonFields f(json, source);
    ModelConfig c;
    c.architecture = parse_architecture(f, c.architecture_name);
    c.vocab_size = positive(f, "vocab_size", kMaxLength);
    c.hidden_size = positive(f, "hidden_size", kMaxWidth);
    c.num_hidden_layers = positive(f, "num_hidden_layers", kMaxCount);
    c.num_attention_heads = positive(f, "num_attention_heads", kMaxCount);
    c.max_position_embeddings = positive(f, "max_position_embeddings", kMaxLength);
    c.intermediate_size = positive(f, "intermediate_size", kMaxWidth);
    c.rms_norm_eps = f.number_or("rms_norm_eps", 1e-6);
    if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1)) f.fail_field("rms_norm_eps", "must be in (0, 1)");
    c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
    c.bos_token_id = f.integer_or("bos_token_id", -1);
    if (f.has("eos_token_id") && f.raw("eos_token_id").is_number()) c.eos_token_id = f.integer("eos_token_id");
    const std::string act = f.string_or("hidden_act", "silu");
    if (act != "silu") f.fail_field("hidden_act", fmt::format("'{}' is not implemented (silu)", act));

    if (c.is_mla()) {
        parse_mla_moe(f, c);
        c.rope = parse_rope(f, c.architecture, c.qk_rope_head_dim);
        if (f.has("quantization_config")) {
            const JsonFields q = f.object("quantization_config");
            const std::string method = q.string("quant_method");
            if (method != "fp8") q.fail_field("quant_method", fmt::format("'{}' is not implemented (fp8)", method));
            const Json& block = q.raw("weight_block_size");
            if (block != Json::array({kFp8BlockSize, kFp8BlockSize}))
                q.fail_field("weight_block_size", fmt::format("must be [128, 128], got {}", json_summary(block)));
            c.fp8_weights = true;
        }
    } else {
        c.num_key_value_heads = f.integer_or("num_key_value_heads", c.num_attention_heads);
        if (c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads)
            f.fail_field("num_key_value_heads", fmt::format("{} must divide num_attention_heads {}", c.num_key_value_heads,
                                                            c.num_attention_heads));
        c.head_dim = bounded(f, "head_dim", f.integer_or("head_dim", c.hidden_size / c.num_attention_heads), 2, kMaxWidth);
        if (c.head_dim % 2) f.fail_field("head_dim", "must be even");
        c.attention_bias = c.architecture == Architecture::qwen2 || f.boolean_or("attention_bias", false);
        if (f.boolean_or("mlp_bias", false)) f.fail_field("mlp_bias", "true is not implemented");
        if (f.boolean_or("use_sliding_window", false))
            f.fail_field("use_sliding_window", "true is not implemented (full attention only)");
        c.rope = parse_rope(f, c.architecture, c.head_dim);
    }
    check_total_size(f, c);
    return c;
}

}  // namespace mariana
