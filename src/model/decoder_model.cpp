#include "model/decoder_model.h"

#include "model/weight_loader.h"

#include <algorithm>

namespace mariana {

DecoderModel::DecoderModel(ModelConfig config, std::shared_ptr<const TensorSource> source)
    : Model(std::move(config), std::move(source))
{
    declare_weights(config_, weights_, tensor_loader(*source_));
    stack_.emplace(config_, StoredBinding(), weights_, 0.0);
    projection_dtype_ = std::visit(
        [](const auto& w) {
            if constexpr (std::is_same_v<std::decay_t<decltype(w)>, DeepSeekWeights>)
                return w.layers.front().attn.kv_a_proj.dtype;
            else return w.layers.front().q_proj.dtype;
        },
        weights_);
}

void DecoderModel::set_mla_form(MlaForm form)
{
    for (DecoderLayer<float>& layer : stack_->layers())
        if (MlaBlock<float>* mla = layer.mla()) mla->form = form;
}

void DecoderModel::forward(std::span<const SequenceChunk> chunks, KvCache& cache, LogitsFor which, float* logits,
                           ThreadPool& pool)
{
    validate_batch(chunks, cache);
    const TokenBatch batch(chunks);
    const WeightsView<float> w{nullptr, nullptr, compute_};
    stack_->forward(w, batch, &cache, pool);
    // bf16 products of F32 or BF16 weights read the copies packed by this forward, not the
    // source's pages, so a mapped checkpoint's pages can go rather than be resident twice
    // (a MoE expert no token chose yet is read, and packed, from the file when one does).
    // FP8 and F16 weights are read from the source on every forward and keep their pages.
    if (compute_ == GemmPrecision::bf16 && gemm_bf16_available() && !pages_released_ &&
        (projection_dtype_ == DType::bf16 || projection_dtype_ == DType::f32)) {
        source_->release_pages();
        pages_released_ = true;
    }

    const int64_t H = config_.hidden_size;
    const std::vector<int64_t> rows = batch.logit_rows(which);
    if (rows.empty()) return;
    rows_.resize(rows.size() * size_t(H));
    for (size_t i = 0; i < rows.size(); ++i)
        std::copy_n(stack_->output() + rows[i] * H, H, rows_.data() + int64_t(i) * H);
    stack_->head().logits(w, rows_.data(), int64_t(rows.size()), logits, pool);
}

}  // namespace mariana
