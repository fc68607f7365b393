// How a model declares its tensors: one visitor per weight struct lists every tensor with
// its checkpoint name, shape and role. The same list drives loading (weight_loader),
// random initialisation (init) and inspection, so there is no second list to keep in sync.
#pragma once

#include "kernels/weight.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mariana {

enum class TensorRole {
    embedding,        // [vocab, hidden] token embeddings
    linear,           // a projection [out, in]; FP8-quantised in FP8 checkpoints
    norm,             // RMSNorm weight [dim]
    bias,             // a projection's bias [out]
    router,           // MoE router [experts, hidden]; BF16 even in FP8 checkpoints
    correction_bias,  // MoE selection bias [experts]; F32 in DeepSeek-V3 checkpoints
    lm_head,          // [vocab, hidden] output projection
};

struct TensorDecl {
    std::string name;
    std::vector<int64_t> shape;
    TensorRole role;
    Weight* matrix = nullptr;              // matrices are used in their stored dtype
    std::vector<float>* vector = nullptr;  // small vectors are converted to float32
    bool optional = false;                 // loaded when present (the MTP module)
    // Set when the tensor is by design the same as the one named here, which checkpoints
    // store again under this name: DeepSeek-V3's MTP modules share the main model's
    // embedding and output head. Training keeps one copy.
    std::string same_as = {};
};

using TensorVisitor = std::function<void(const TensorDecl&)>;

// A SwiGLU feed-forward block: down(silu(gate x) ⊙ up x).
struct MlpWeights {
    Weight gate, up, down;
};

inline void visit_mlp(const std::string& prefix, int64_t hidden, int64_t inter, MlpWeights& w, bool optional,
                      const TensorVisitor& visit)
{
    visit({prefix + "gate_proj.weight", {inter, hidden}, TensorRole::linear, &w.gate, nullptr, optional});
    visit({prefix + "up_proj.weight", {inter, hidden}, TensorRole::linear, &w.up, nullptr, optional});
    visit({prefix + "down_proj.weight", {hidden, inter}, TensorRole::linear, &w.down, nullptr, optional});
}

}  // namespace mariana
