#include "model/dense_weights.h"

#include <fmt/format.h>

namespace mariana {

void for_each_tensor(const ModelConfig& c, DenseWeights& w, const TensorVisitor& visit)
{
    const int64_t V = c.vocab_size, H = c.hidden_size, q_dim = c.num_attention_heads * c.head_dim,
                  kv_dim = c.num_key_value_heads * c.head_dim;
    visit({"model.embed_tokens.weight", {V, H}, TensorRole::embedding, &w.embed});
    w.layers.resize(size_t(c.num_hidden_layers));
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        DenseLayer& layer = w.layers[size_t(i)];
        const std::string p = fmt::format("model.layers.{}.", i);
        visit({p + "input_layernorm.weight", {H}, TensorRole::norm, nullptr, &layer.attn_norm});
        visit({p + "post_attention_layernorm.weight", {H}, TensorRole::norm, nullptr, &layer.ffn_norm});
        visit({p + "self_attn.q_proj.weight", {q_dim, H}, TensorRole::linear, &layer.q_proj});
        visit({p + "self_attn.k_proj.weight", {kv_dim, H}, TensorRole::linear, &layer.k_proj});
        visit({p + "self_attn.v_proj.weight", {kv_dim, H}, TensorRole::linear, &layer.v_proj});
        visit({p + "self_attn.o_proj.weight", {H, q_dim}, TensorRole::linear, &layer.o_proj});
        if (c.attention_bias) {
            visit({p + "self_attn.q_proj.bias", {q_dim}, TensorRole::bias, nullptr, &layer.q_bias});
            visit({p + "self_attn.k_proj.bias", {kv_dim}, TensorRole::bias, nullptr, &layer.k_bias});
            visit({p + "self_attn.v_proj.bias", {kv_dim}, TensorRole::bias, nullptr, &layer.v_bias});
        }
        visit_mlp(p + "mlp.", H, c.intermediate_size, layer.mlp, false, visit);
    }
    visit({"model.norm.weight", {H}, TensorRole::norm, nullptr, &w.final_norm});
    if (!c.tie_word_embeddings) visit({"lm_head.weight", {V, H}, TensorRole::lm_head, &w.lm_head});
}

}  // namespace mariana
