// The weights of a dense decoder (Qwen2ForCausalLM, LlamaForCausalLM: grouped-query
// attention, SwiGLU), with the one list of their checkpoint names.
#pragma once

#include "model/config.h"
#include "model/tensor_decl.h"

#include <vector>

namespace mariana {

struct DenseLayer {
    std::vector<float> attn_norm, ffn_norm;  // [H]
    Weight q_proj, k_proj, v_proj, o_proj;   // [nh·hd, H], [nkv·hd, H], [nkv·hd, H], [H, nh·hd]
    std::vector<float> q_bias, k_bias, v_bias;  // Qwen2 only
    MlpWeights mlp;
};

struct DenseWeights {
    Weight embed;  // [V, H]
    std::vector<DenseLayer> layers;
    std::vector<float> final_norm;
    Weight lm_head;  // [V, H]; the embedding itself when tie_word_embeddings
};

// Sizes the layer list for `config` and visits every tensor.
void for_each_tensor(const ModelConfig& config, DenseWeights& w, const TensorVisitor& visit);

}  // namespace mariana
