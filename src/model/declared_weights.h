// A model's declared tensors as its architecture's weight struct, the one list of checkpoint
// names (for_each_tensor) bound to fields. Inference binds the fields to data; training keeps
// the bare structure to find each block's parameters by field instead of by name.
#pragma once

#include "model/deepseek_weights.h"
#include "model/dense_weights.h"

#include <variant>

namespace mariana {

// One alternative per family: DeepSeek-V2/V3 (MLA, MoE, MTP), or dense Qwen2/Llama.
using DeclaredWeights = std::variant<DeepSeekWeights, DenseWeights>;

// Makes `out` the struct of `config`'s architecture, in place (the visitor's targets are
// `out`'s own fields, so their addresses stay valid while `out` lives and is not moved),
// and visits every tensor.
void declare_weights(const ModelConfig& config, DeclaredWeights& out, const TensorVisitor& visit);

}  // namespace mariana
