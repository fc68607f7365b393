#include "train/flops.h"

namespace mariana::train {

namespace {

// Weights a token multiplies through in decoder layer `layer`, and its attention width.
struct LayerWork {
    double weights = 0;
    double attention_width = 0;  // heads · (key width + value width)
};

LayerWork layer_work(const ModelConfig& c, int64_t layer)
{
    const double H = double(c.hidden_size);
    LayerWork w;
    if (c.is_mla()) {
        const double nh = double(c.num_attention_heads), qk = double(c.qk_head_dim());
        w.weights += c.q_lora_rank > 0 ? H * double(c.q_lora_rank) + double(c.q_lora_rank) * nh * qk : H * nh * qk;
        w.weights += H * double(c.kv_lora_rank + c.qk_rope_head_dim);
        w.weights += double(c.kv_lora_rank) * nh * double(c.qk_nope_head_dim + c.v_head_dim);
        w.weights += nh * double(c.v_head_dim) * H;
        w.attention_width = nh * (qk + double(c.v_head_dim));
    } else {
        const double hd = double(c.head_dim);
        w.weights += H * double(c.num_attention_heads + 2 * c.num_key_value_heads) * hd;
        w.weights += double(c.num_attention_heads) * hd * H;
        w.attention_width = double(c.num_attention_heads) * 2 * hd;
    }
    if (c.is_moe_layer(layer))
        w.weights += H * double(c.n_routed_experts) +
                     3 * H * double(c.moe_intermediate_size) * double(c.num_experts_per_tok + c.n_shared_experts);
    else
        w.weights += 3 * H * double(c.intermediate_size);
    return w;
}

}  // namespace

double training_flops_per_token(const ModelConfig& c, int64_t seq_len, int64_t mtp_depth)
{
    const double H = double(c.hidden_size), V = double(c.vocab_size);
    // Causal attention: query i meets i + 1 keys, (S + 1) / 2 on average, 2 FLOP per
    // multiply-add in the scores and again in the weighted sum of values.
    const double attention_per_width = double(seq_len + 1);
    double weights = H * V, attention = 0;
    for (int64_t l = 0; l < c.num_hidden_layers + mtp_depth; ++l) {
        const LayerWork w = layer_work(c, l);
        weights += w.weights;
        attention += w.attention_width * attention_per_width;
    }
    weights += double(mtp_depth) * (2 * H * H + H * V);  // eh_proj and each module's head
    return 6 * weights + 3 * attention;
}

}  // namespace mariana::train
