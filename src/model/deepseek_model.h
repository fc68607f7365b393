// DeepSeek-V2/V3/R1 (DeepseekV2ForCausalLM, DeepseekV3ForCausalLM): MLA attention and
// DeepSeekMoE feed-forward after the first first_k_dense_replace dense layers.
#pragma once

#include "model/deepseek_weights.h"
#include "model/mla.h"
#include "model/model.h"
#include "model/moe.h"

namespace mariana {

class DeepSeekModel final : public Model {
public:
    DeepSeekModel(ModelConfig config, std::shared_ptr<const TensorSource> source);

    int64_t cache_row_floats() const override { return mla_.cache_row_floats(); }
    void forward(std::span<const SequenceChunk> batch, KvCache& cache, LogitsFor which, float* logits,
                 ThreadPool& pool) override;

    void set_mla_form(MlaForm form) { mla_.form = form; }

private:
    DeepSeekWeights weights_;
    Mla mla_;
    Moe moe_;
    std::vector<float> h_, normed_, branch_, mlp_scratch_;
};

}  // namespace mariana
