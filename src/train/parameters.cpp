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
    // values are then copied out as float32, whatever the stored dtype.
    const TensorVisitor collect = [&](const TensorDecl& decl) {
        if (decl.optional && !checkpoint.find(decl.name)) return;
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
        set.parameters_.push_back(std::move(p));
    };
    visit_declared_tensors(config, collect);
    set.grads_.assign(set.values_.size(), 0.0f);
    return set;
}

const Parameter& ParameterSet::find(std::string_view name) const
{
    const auto it = std::ranges::find(parameters_, name, &Parameter::name);
    if (it == parameters_.end()) fail("no parameter named '{}'", name);
    return *it;
}

void ParameterSet::zero_grads(ThreadPool& pool)
{
    fill_zero(grads_.data(), int64_t(grads_.size()), pool);
}

}  // namespace mariana::train
