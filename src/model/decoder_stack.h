// The stack every model runs, in training and inference alike: the token embedding, the
// decoder layers and the output head (final norm, then the output projection, or the
// embedding itself when a dense model ties them), built for the architecture of a weight
// struct (model/declared_weights.h).
#pragma once

#include "core/huge_pages.h"
#include "model/declared_weights.h"
#include "model/decoder_layer.h"
#include "model/embedding_table.h"
#include "model/output_head.h"

#include <vector>

namespace mariana {

template <typename T>
class DecoderStack {
public:
    // The blocks of `weights`' architecture bound by `bind`; balance_alpha weighs the MoE
    // layers' balance loss (0: none).
    DecoderStack(const ModelConfig& config, const ParameterBinding& bind, const DeclaredWeights& weights,
                 double balance_alpha);

    // The batch's tokens through the embedding and every layer, to output(). With a cache
    // (inference) the layers write and read its rows; without one (training) every
    // layer's input is kept for backward.
    void forward(const WeightsView<T>& w, const TokenBatch& batch, KvCache* cache, ThreadPool& pool);
    const T* output() const { return hidden_.back().data(); }  // [batch.size(), hidden]

    // For the last forward, which ran without a cache: dh holds ∂/∂output() and is used as
    // scratch; adds the parameters' gradients (loss_scale weighs the balance losses).
    void backward(const WeightsView<T>& w, const TokenBatch& batch, LargeVector<T>& dh, T loss_scale,
                  ThreadPool& pool);

    OutputHead<T>& head() { return head_; }
    std::vector<DecoderLayer<T>>& layers() { return layers_; }
    int64_t cache_row_floats() const { return layers_.front().cache_row_floats(); }
    // The MoE layers in order, with their last forward's activations (training only).
    std::vector<MoeRun<T>> moe_runs() const;

private:
    int64_t hidden_size_;
    EmbeddingTable<T> embed_;
    std::vector<DecoderLayer<T>> layers_;
    OutputHead<T> head_;
    // Without a cache: the residual stream before each layer and after the last, and each
    // layer's activations. With one: two buffers, each layer reading one and writing the
    // other, and one set of activations all layers share.
    std::vector<LargeVector<T>> hidden_;
    std::vector<typename DecoderLayer<T>::Activations> activations_;
    LargeVector<T> dh_next_;
};

}  // namespace mariana
