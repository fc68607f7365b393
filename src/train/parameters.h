// A model's trainable tensors as float32 master copies: all values in one contiguous
// buffer and all gradients in another of the same layout, so the optimiser, gradient
// clipping and (later) an all-reduce each run over one array.
#pragma once

#include "core/huge_pages.h"
#include "core/thread_pool.h"
#include "formats/checkpoint.h"
#include "formats/tensor_source.h"
#include "model/config.h"
#include "model/declared_weights.h"
#include "model/parameter_binding.h"
#include "model/tensor_decl.h"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mariana::train {

struct Parameter {
    std::string name;  // as in the checkpoint, e.g. "model.layers.0.mlp.gate_proj.weight"
    std::vector<int64_t> shape;
    TensorRole role;
    int64_t offset = 0;  // into values() and grads()
    int64_t size = 0;
    // A stored copy of another parameter (TensorDecl::same_as): it shares that one's
    // offset, so values and gradients exist once and checkpoints get both names.
    bool alias = false;
    // AdamW's decoupled weight decay applies to projections and embeddings, not to norm
    // weights and biases.
    bool decays() const { return role != TensorRole::norm && role != TensorRole::bias; }
    // What the optimiser updates: not the router's selection bias, which moves by the
    // load-balancing rule, and not aliases, whose storage their original's update covers.
    bool learned() const { return role != TensorRole::correction_bias && !alias; }
};

// Also the binding blocks are built on (model/parameter_binding.h): fields of declared()
// map to their offsets in values() and grads().
class ParameterSet final : public ParameterBinding {
public:
    // Every tensor the architecture declares, converted from its stored dtype (BF16, FP8
    // with block scales, ...) to float32. Optional tensors (the MTP module) are included
    // when the checkpoint has them; declared copies of another tensor become aliases of it
    // (their stored values are not read). Throws Error naming a missing or mis-shaped tensor.
    static ParameterSet load(const ModelConfig& config, const Checkpoint& checkpoint);

    const std::vector<Parameter>& parameters() const { return parameters_; }
    const Parameter& find(std::string_view name) const;  // throws Error for an unknown name

    // The parameters' structure: the architecture's weight struct (DeepSeekWeights or
    // DenseWeights) from the one declared-tensor list, its fields bound to no data. Blocks
    // find their parameters by field, of(layer.attn.o_proj), never by restating a name.
    const DeclaredWeights& declared() const { return *declared_; }
    // The parameter a field of declared() stands for. Throws Error for a field whose tensor
    // is not in the set (an optional one the checkpoint lacks: see has).
    const Parameter& of(const Weight& field) const { return of_field(&field); }
    const Parameter& of(const std::vector<float>& field) const { return of_field(&field); }
    bool has(const Weight& field) const override { return by_field_.contains(&field); }
    MatrixParam matrix(const Weight& field) const override;
    VectorParam vector(const std::vector<float>& field) const override;

    std::span<float> values() { return values_; }
    std::span<const float> values() const { return values_; }
    std::span<float> grads() { return grads_; }
    std::span<const float> grads() const { return grads_; }
    float* value(const Parameter& p) { return values_.data() + p.offset; }
    const float* value(const Parameter& p) const { return values_.data() + p.offset; }
    float* grad(const Parameter& p) { return grads_.data() + p.offset; }
    const float* grad(const Parameter& p) const { return grads_.data() + p.offset; }

    void zero_grads(ThreadPool& pool);

    // The parameters as named tensors a model can be built on (build_model), with no file
    // written. f32: views of values() themselves, so the set must outlive the model and a
    // model built before an update must be built again after it (its norm copies would be
    // stale). bf16: the matrices (projections, embeddings, router, output head) rounded to
    // bfloat16 in a copy the source owns, as a BF16 checkpoint stores them, and the norms
    // and biases as views in float32. Every declared name is there, aliases included.
    std::shared_ptr<const TensorSource> as_tensors(DType matrices, ThreadPool& pool) const;

private:
    const Parameter& of_field(const void* field) const;

    std::vector<Parameter> parameters_;
    std::shared_ptr<const DeclaredWeights> declared_;
    std::unordered_map<const void*, size_t> by_field_;  // field of *declared_ -> index in parameters_
    LargeVector<float> values_, grads_;
};

}  // namespace mariana::train
