#include "model/deepseek_weights.h"

#include <fmt/format.h>

namespace mariana {

namespace {

void visit_layer(const ModelConfig& c, int64_t index, DeepSeekLayer& layer, bool optional, const TensorVisitor& visit)
{
    const std::string p = fmt::format("model.layers.{}.", index);
    const int64_t H = c.hidden_size, nh = c.num_attention_heads;
    auto vec = [&](const std::string& name, int64_t n, TensorRole role, std::vector<float>& v) {
        visit({p + name, {n}, role, nullptr, &v, optional});
    };
    auto mat = [&](const std::string& name, int64_t rows, int64_t cols, TensorRole role, Weight& w) {
        visit({p + name, {rows, cols}, role, &w, nullptr, optional});
    };
    vec("input_layernorm.weight", H, TensorRole::norm, layer.attn_norm);
    vec("post_attention_layernorm.weight", H, TensorRole::norm, layer.ffn_norm);

    // The two projections of x first, one after the other: training stores tensors in this
    // order and runs the pair as one product.
    MlaWeights& a = layer.attn;
    if (c.q_lora_rank == 0) mat("self_attn.q_proj.weight", nh * c.qk_head_dim(), H, TensorRole::linear, a.q_proj);
    else mat("self_attn.q_a_proj.weight", c.q_lora_rank, H, TensorRole::linear, a.q_a_proj);
    mat("self_attn.kv_a_proj_with_mqa.weight", c.kv_lora_rank + c.qk_rope_head_dim, H, TensorRole::linear, a.kv_a_proj);
    if (c.q_lora_rank > 0) {
        vec("self_attn.q_a_layernorm.weight", c.q_lora_rank, TensorRole::norm, a.q_a_norm);
        mat("self_attn.q_b_proj.weight", nh * c.qk_head_dim(), c.q_lora_rank, TensorRole::linear, a.q_b_proj);
    }
    vec("self_attn.kv_a_layernorm.weight", c.kv_lora_rank, TensorRole::norm, a.kv_a_norm);
    mat("self_attn.kv_b_proj.weight", nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank, TensorRole::linear,
        a.kv_b_proj);
    mat("self_attn.o_proj.weight", H, nh * c.v_head_dim, TensorRole::linear, a.o_proj);

    if (!c.is_moe_layer(index)) {
        visit_mlp(p + "mlp.", H, c.intermediate_size, layer.dense, optional, visit);
        return;
    }
    MoeWeights& m = layer.moe;
    mat("mlp.gate.weight", c.n_routed_experts, H, TensorRole::router, m.router);
    if (c.correction_bias) vec("mlp.gate.e_score_correction_bias", c.n_routed_experts, TensorRole::correction_bias, m.correction_bias);
    m.experts.resize(size_t(c.n_routed_experts));
    for (int64_t e = 0; e < c.n_routed_experts; ++e)
        visit_mlp(fmt::format("{}mlp.experts.{}.", p, e), H, c.moe_intermediate_size, m.experts[size_t(e)], optional, visit);
    if (c.n_shared_experts > 0)
        visit_mlp(p + "mlp.shared_experts.", H, c.n_shared_experts * c.moe_intermediate_size, m.shared, optional, visit);
}

}  // namespace

void for_each_tensor(const ModelConfig& c, DeepSeekWeights& w, const TensorVisitor& visit)
{
    const int64_t V = c.vocab_size, H = c.hidden_size;
    visit({"model.embed_tokens.weight", {V, H}, TensorRole::embedding, &w.embed});
    w.layers.resize(size_t(c.num_hidden_layers));
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) visit_layer(c, i, w.layers[size_t(i)], false, visit);
    visit({"model.norm.weight", {H}, TensorRole::norm, nullptr, &w.final_norm});
    visit({"lm_head.weight", {V, H}, TensorRole::lm_head, &w.lm_head});

    w.mtp.resize(size_t(c.num_nextn_predict_layers));
    for (int64_t k = 0; k < c.num_nextn_predict_layers; ++k) {
        const int64_t index = c.num_hidden_layers + k;
        const std::string p = fmt::format("model.layers.{}.", index);
        MtpWeights& m = w.mtp[size_t(k)];
        visit({p + "embed_tokens.weight", {V, H}, TensorRole::embedding, &m.embed, nullptr, true, "model.embed_tokens.weight"});
        visit({p + "enorm.weight", {H}, TensorRole::norm, nullptr, &m.enorm, true});
        visit({p + "hnorm.weight", {H}, TensorRole::norm, nullptr, &m.hnorm, true});
        visit({p + "eh_proj.weight", {H, 2 * H}, TensorRole::linear, &m.eh_proj, nullptr, true});
        visit_layer(c, index, m.block, true, visit);
        visit({p + "shared_head.norm.weight", {H}, TensorRole::norm, nullptr, &m.head_norm, true});
        visit({p + "shared_head.head.weight", {V, H}, TensorRole::lm_head, &m.head, nullptr, true, "lm_head.weight"});
    }
}

}  // namespace mariana
