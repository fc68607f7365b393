// Dense decoder-only transformers with grouped-query attention: Qwen2ForCausalLM (q/k/v
// biases) and LlamaForCausalLM (Llama 3 RoPE scaling), the DeepSeek-R1-Distill students.
#pragma once

#include "model/dense_weights.h"
#include "model/model.h"

namespace mariana {

struct TokenBatch;

class DenseModel final : public Model {
public:
    DenseModel(ModelConfig config, std::shared_ptr<const TensorSource> source);

    // [keys of every KV head, then their values]
    int64_t cache_row_floats() const override { return 2 * config_.num_key_value_heads * config_.head_dim; }
    void forward(std::span<const SequenceChunk> batch, KvCache& cache, LogitsFor which, float* logits,
                 ThreadPool& pool) override;

private:
    void attention(const DenseLayer& layer, int64_t l, const TokenBatch& batch, KvCache& cache, ThreadPool& pool);

    DenseWeights weights_;
    std::vector<float> inv_freq_;
    std::vector<float> h_, normed_, branch_, q_, k_, v_, attn_, scores_, lse_, mlp_scratch_;
};

}  // namespace mariana
