// The weights of a DeepSeek-V2/V3 model (MLA attention, DeepSeekMoE feed-forward, and the
// V3 multi-token-prediction module), with the one list of their checkpoint names.
#pragma once

#include "model/config.h"
#include "model/tensor_decl.h"

#include <vector>

namespace mariana {

struct MlaWeights {
    Weight q_proj;                  // [nh·(dn+dr), H] when q_lora_rank is 0
    Weight q_a_proj;                // [Rq, H]
    std::vector<float> q_a_norm;    // [Rq]
    Weight q_b_proj;                // [nh·(dn+dr), Rq]
    Weight kv_a_proj;               // [R+dr, H]: latent, then the shared rope key
    std::vector<float> kv_a_norm;   // [R]
    Weight kv_b_proj;               // [nh·(dn+dv), R]: per head dn key rows, then dv value rows
    Weight o_proj;                  // [H, nh·dv]
};

struct MoeWeights {
    Weight router;                         // [E, H]
    std::vector<float> correction_bias;    // [E], noaux_tc only
    std::vector<MlpWeights> experts;       // E experts, moe_intermediate_size wide
    MlpWeights shared;                     // n_shared · moe_intermediate_size wide
};

struct DeepSeekLayer {
    std::vector<float> attn_norm, ffn_norm;  // [H]
    MlaWeights attn;
    MlpWeights dense;  // layers < first_k_dense_replace
    MoeWeights moe;    // the others
};

// V3's multi-token prediction module (layer index num_hidden_layers + k): loaded when
// present, not used by plain decoding.
struct MtpWeights {
    Weight embed;                      // [V, H]
    std::vector<float> enorm, hnorm;   // [H]
    Weight eh_proj;                    // [H, 2H]
    DeepSeekLayer block;
    std::vector<float> head_norm;      // [H]
    Weight head;                       // [V, H]
};

struct DeepSeekWeights {
    Weight embed;                     // [V, H]
    std::vector<DeepSeekLayer> layers;
    std::vector<float> final_norm;    // [H]
    Weight lm_head;                   // [V, H]
    std::vector<MtpWeights> mtp;
};

// Sizes the layer lists for `config` and visits every tensor.
void for_each_tensor(const ModelConfig& config, DeepSeekWeights& w, const TensorVisitor& visit);

}  // namespace mariana
