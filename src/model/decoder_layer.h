// One pre-norm decoder layer for training, any architecture:
//   h_mid = h + attention(RMSNorm(h)),  h_out = h_mid + ffn(RMSNorm(h_mid)),
// the feed-forward being a dense SwiGLU MLP or, in DeepSeek's MoE layers, DeepSeekMoE.
#pragma once

#include "core/huge_pages.h"
#include "model/gqa_block.h"
#include "model/mla_block.h"
#include "model/mlp_block.h"
#include "model/moe_block.h"

#include <memory>
#include <optional>
#include <vector>

namespace mariana {

template <typename T>
class DecoderLayer {
public:
    // A DeepSeek layer bound by `bind` (a main layer or an MTP module's): MLA, then
    // DeepSeekMoE when `moe` (balance_alpha weighs its sequence-wise balance loss), else the
    // dense SwiGLU.
    DecoderLayer(const ModelConfig& config, const ParameterBinding& bind, const DeepSeekLayer& w, int64_t layer,
                 bool moe, double balance_alpha);
    // A dense layer bound by `bind`: grouped-query attention, then SwiGLU.
    DecoderLayer(const ModelConfig& config, const ParameterBinding& bind, const DenseLayer& w, int64_t layer);

    // h_in [batch.size(), hidden] → h_out (overwritten). With a cache (float only), the
    // attention writes and reads the rows of this layer (AttentionBlock).
    void forward(const WeightsView<T>& w, const T* h_in, const TokenBatch& batch, KvCache* cache, T* h_out,
                 ThreadPool& pool);
    // For the h_in of the last forward: dh_in = ∂/∂h_in of Σ dh_out ⊙ h_out + loss_scale ·
    // (balance loss), overwritten; parameter gradients added.
    void backward(const WeightsView<T>& w, const T* h_in, const T* dh_out, const TokenBatch& batch, T loss_scale,
                  T* dh_in, ThreadPool& pool);

    MoeBlock<T>* moe() { return moe_ ? &*moe_ : nullptr; }
    AttentionBlock<T>& attention() { return *attention_; }

private:
    int64_t hidden_;
    T eps_;
    VectorParam attn_norm_, ffn_norm_;
    std::unique_ptr<AttentionBlock<T>> attention_;
    std::optional<MlpBlock<T>> mlp_;
    std::optional<MoeBlock<T>> moe_;
    LargeVector<T> x_attn_, rstd_attn_, branch_, h_mid_, x_ffn_, rstd_ffn_;
    LargeVector<T> dx_, dh_mid_;
};

}  // namespace mariana
