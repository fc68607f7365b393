#include "model/deepseek_model.h"

#include "kernels/norm.h"
#include "model/lm_head.h"
#include "model/mlp.h"
#include "model/weight_loader.h"

namespace mariana {

DeepSeekModel::DeepSeekModel(ModelConfig config, std::shared_ptr<const TensorSource> source)
    : Model(std::move(config), std::move(source)), mla_(config_), moe_(config_)
{
    for_each_tensor(config_, weights_, tensor_loader(*source_));
    projection_dtype_ = weights_.layers.front().attn.kv_a_proj.dtype;
}

void DeepSeekModel::forward(std::span<const SequenceChunk> chunks, KvCache& cache, LogitsFor which, float* logits,
                            ThreadPool& pool)
{
    validate_batch(chunks, cache);
    const TokenBatch batch(chunks);
    const int64_t T = batch.size(), H = config_.hidden_size;
    const float eps = float(config_.rms_norm_eps);
    h_.resize(size_t(T * H));
    normed_.resize(size_t(T * H));
    branch_.resize(size_t(T * H));

    embed_tokens(weights_.embed, batch.tokens, h_.data());  // [T, H], no scaling
    for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
        const DeepSeekLayer& layer = weights_.layers[size_t(l)];
        rmsnorm(h_.data(), layer.attn_norm.data(), T, H, eps, normed_.data());
        mla_.forward(layer.attn, l, normed_.data(), batch, cache, branch_.data(), pool, compute_);
        for (int64_t i = 0; i < T * H; ++i) h_[size_t(i)] += branch_[size_t(i)];

        rmsnorm(h_.data(), layer.ffn_norm.data(), T, H, eps, normed_.data());
        if (config_.is_moe_layer(l)) moe_.forward(layer.moe, normed_.data(), T, branch_.data(), pool, compute_);
        else mlp_forward(layer.dense, normed_.data(), T, branch_.data(), mlp_scratch_, pool, compute_);
        for (int64_t i = 0; i < T * H; ++i) h_[size_t(i)] += branch_[size_t(i)];
    }
    final_logits(weights_.final_norm, weights_.lm_head, eps, h_.data(), H, batch.logit_rows(which), logits, pool,
                 compute_);
}

}  // namespace mariana
