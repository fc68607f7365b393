// Inference on every architecture: the decoder stack training runs (model/decoder_stack.h),
// bound to the tensors of a TensorSource in their stored dtypes (a checkpoint's BF16 or
// FP8 files, or parameters in memory), run over batches of sequence chunks with a KV cache.
#pragma once

#include "core/huge_pages.h"
#include "model/declared_weights.h"
#include "model/decoder_stack.h"
#include "model/model.h"

#include <optional>

namespace mariana {

class DecoderModel final : public Model {
public:
    DecoderModel(ModelConfig config, std::shared_ptr<const TensorSource> source);

    int64_t cache_row_floats() const override { return stack_->cache_row_floats(); }
    void forward(std::span<const SequenceChunk> batch, KvCache& cache, LogitsFor which, float* logits,
                 ThreadPool& pool) override;

    // DeepSeek's MLA layers all compute in `form` (tests compare the two).
    void set_mla_form(MlaForm form);

private:
    DeclaredWeights weights_;  // bound to source_'s tensors; the blocks point into it
    std::optional<DecoderStack<float>> stack_;
    LargeVector<float> rows_;  // the hidden states whose logits are wanted
    bool pages_released_ = false;
};

}  // namespace mariana
