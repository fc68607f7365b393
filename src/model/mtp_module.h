// One of DeepSeek-V3's multi-token prediction modules (§2.2). The module of depth k
// (checkpoint layer num_hidden_layers + k - 1) combines, at position i, the previous
// depth's hidden state h_i with the embedding of token t_{i+k}:
//   h'_i = eh_proj([enorm(Emb(t_{i+k})); hnorm(h_i)])  (this order, as the checkpoints'
// eh_proj expects), passes it through its decoder layer, and its head (shared_head.norm,
// then the output head) predicts t_{i+k+1}. Emb and the output head are the main model's:
// DeepSeek shares them, and the parameter layout aliases the copies checkpoints store.
#pragma once

#include "core/huge_pages.h"
#include "model/decoder_layer.h"
#include "model/embedding_table.h"
#include "model/output_head.h"

#include <optional>
#include <vector>

namespace mariana {

template <typename T>
class MtpModule {
public:
    // The parameters of `w`, an MTP module bound by `bind`.
    MtpModule(const ModelConfig& config, const ParameterBinding& bind, const MtpWeights& w, double balance_alpha);

    // h_prev [batch.size(), hidden]; tokens [batch.size()]: t_{i+k} for each row of the
    // batch, whose sequences start at 0 with one length (the module runs without a cache).
    void forward(const WeightsView<T>& w, const T* h_prev, const int32_t* tokens, const TokenBatch& batch,
                 ThreadPool& pool);
    const T* output() const { return out_.data(); }  // [batch.size(), hidden]
    // The gradient with respect to output(), to be filled (added to) before backward.
    LargeVector<T>& output_grad() { return dout_; }

    // dh_prev += ∂/∂h_prev, for the inputs of the last forward; parameter gradients added.
    void backward(const WeightsView<T>& w, const T* h_prev, const TokenBatch& batch, T loss_scale, T* dh_prev,
                  ThreadPool& pool);

    OutputHead<T>& head() { return head_; }
    // The module's MoE block with its last forward's activations, when its block has one.
    std::optional<MoeRun<T>> moe_run() const;

private:
    int64_t hidden_;
    T eps_;
    EmbeddingTable<T> embed_;
    VectorParam enorm_, hnorm_;
    Linear eh_proj_;
    DecoderLayer<T> block_;
    typename DecoderLayer<T>::Activations block_activations_;
    OutputHead<T> head_;
    std::vector<int32_t> tokens_;
    LargeVector<T> emb_, e_rstd_, h_rstd_, cat_, in_, out_;  // cat_ [N, 2H]: [enorm(emb), hnorm(h)]
    LargeVector<T> normed_;                                   // [N, H] one half of cat_ or of its gradient
    LargeVector<T> dout_, din_, dcat_, demb_;
};

}  // namespace mariana
