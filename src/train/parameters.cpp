#include "train/parameters.h"

#include "core/error.h"
#include "model/model.h"
#include "model/weight_loader.h"
#include "kernels/elementwise.h"

#include <algorithm>

namespace mariana::train {

ParameterSet ParameterSet::load(const ModelConfig& config, const Checkpoint& checkpoint)
{
    ParameterSet set;
    const TensorVisitor load_tensor = tensor_loader(checkpoint);
    // The loader binds matrices as views of the mapped file and converts vectors; the
    // values are then copied out as float32, whatever the stored dtype, and the field is
    // unbound again: the declared struct keeps the structure, the set the values.
    const TensorVisitor collect = [&](const TensorDecl& decl) {
        if (decl.optional && !checkpoint.find(decl.name)) return;
        set.by_field_[decl.matrix ? static_cast<const void*>(decl.matrix) : decl.vector] = set.parameters_.size();
        if (!decl.same_as.empty()) {
            const Parameter& original = set.find(decl.same_as);
            set.parameters_.push_back({decl.name, decl.shape, decl.role, original.offset, original.size, true});
            return;
        }
        load_tensor(decl);
        Parameter p{decl.name, decl.shape, decl.role, int64_t(set.values_.size()), 1};
        for (const int64_t d : decl.shape) p.size *= d;
        set.values_.resize(set.values_.size() + size_t(p.size));
        float* out = set.values_.data() + p.offset;
        if (decl.vector) {
            std::copy(decl.vector->begin(), decl.vector->end(), out);
        } else {
            const Weight& w = *decl.matrix;
            for (int64_t r = 0; r < w.rows; ++r)
                for (int64_t c = 0; c < w.cols; ++c) out[r * w.cols + c] = w.at(r, c);
        }
        if (decl.matrix) *decl.matrix = Weight{};
        else std::vector<float>().swap(*decl.vector);
        set.parameters_.push_back(std::move(p));
    };
    auto declared = std::make_shared<DeclaredWeights>();
    declare_weights(config, *declared, collect);
    set.declared_ = std::move(declared);
    set.grads_.assign(set.values_.size(), 0.0f);
    return set;
}

const Parameter& ParameterSet::find(std::string_view name) const
{
    const auto it = std::ranges::find(parameters_, name, &Parameter::name);
    if (it == parameters_.end()) fail("no parameter named '{}'", name);
    return *it;
}

const Parameter& ParameterSet::of_field(const void* field) const
{
    const auto it = by_field_.find(field);
    if (it == by_field_.end()) fail("the model's layout has a tensor this parameter set lacks (an optional one)");
    return parameters_[it->second];
}

MatrixParam ParameterSet::matrix(const Weight& field) const
{
    const Parameter& p = of(field);
    if (p.shape.size() != 2) fail("parameter '{}' is not a matrix", p.name);
    return {p.offset, Weight{DType::f32, p.shape[0], p.shape[1]}};
}

VectorParam ParameterSet::vector(const std::vector<float>& field) const
{
    const Parameter& p = of(field);
    return {p.offset, nullptr, p.size};
}

void ParameterSet::zero_grads(ThreadPool& pool)
{
    fill_zero(grads_.data(), int64_t(grads_.size()), pool);
}

std::shared_ptr<const TensorSource> ParameterSet::as_tensors(DType matrices, ThreadPool& pool) const
{
    if (matrices != DType::f32 && matrices != DType::bf16)
        fail("parameters can be used as F32 or BF16 tensors, not {}", dtype_name(matrices));
    auto map = std::make_shared<TensorMap>(matrices == DType::f32 ? "parameters in memory (F32)"
                                                                  : "parameters in memory (BF16 copy)");
    std::shared_ptr<std::vector<uint16_t>> words;
    if (matrices == DType::bf16) {
        words = std::make_shared<std::vector<uint16_t>>(values_.size());
        pool.parallel_for(int64_t(values_.size()), 1 << 16, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) (*words)[size_t(i)] = f32_to_bf16(values_[size_t(i)]);
        });
        map->keep(words);
    }
    for (const Parameter& p : parameters_) {
        const bool vector = p.shape.size() == 1;
        if (words && !vector) map->add(p.name, DType::bf16, p.shape, words->data() + p.offset);
        else map->add(p.name, DType::f32, p.shape, values_.data() + p.offset);
    }
    return map;
}

}  // namespace mariana::train
