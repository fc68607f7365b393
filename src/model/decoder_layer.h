// One pre-norm decoder layer, any architecture:
//   h_mid = h + attention(RMSNorm(h)),  h_out = h_mid + ffn(RMSNorm(h_mid)),
// the attention GQA (Qwen2, Llama) or MLA (DeepSeek), the feed-forward a dense SwiGLU MLP
// or, in DeepSeek's MoE layers, DeepSeekMoE. One definition for every mode; rows are the
// batch's tokens, token-major:
//  - With a KV cache (inference: prefill, decode, batches of sequences at different
//    positions), every token writes its cache row of this layer in its sequence's pages,
//    then attends over that sequence's rows up to its own position.
//  - Without one (training), every chunk starts at position 0 with one length and attends
//    within itself, and the Activations keep what the backward needs.
#pragma once

#include "core/huge_pages.h"
#include "model/gqa_block.h"
#include "model/mla_block.h"
#include "model/mlp_block.h"
#include "model/moe_block.h"

#include <optional>
#include <variant>

namespace mariana {

template <typename T>
class DecoderLayer {
public:
    // What a forward computes and a backward reads, held by the caller: one per layer to
    // train; one shared by every layer to infer, where nothing outlives a layer's forward.
    struct Activations {
        LargeVector<T> x_attn, rstd_attn, branch, h_mid, x_ffn, rstd_ffn;
        LargeVector<T> dx, dh_mid;
        std::variant<typename GqaBlock<T>::Activations, typename MlaBlock<T>::Activations> attention;
        typename MlpBlock<T>::Activations mlp;
        typename MoeBlock<T>::Activations moe;
    };

    // A DeepSeek layer (main layer `layer`, or an MTP module's): MLA, then DeepSeekMoE when
    // `moe` (balance_alpha weighs its sequence-wise balance loss), else the dense SwiGLU.
    DecoderLayer(const ModelConfig& config, const ParameterBinding& bind, const DeepSeekLayer& w, int64_t layer,
                 bool moe, double balance_alpha);
    // A dense layer: grouped-query attention, then SwiGLU.
    DecoderLayer(const ModelConfig& config, const ParameterBinding& bind, const DenseLayer& w, int64_t layer);

    // Floats per token of this layer's KV cache rows.
    int64_t cache_row_floats() const;

    // h_in [batch.size(), hidden] → h_out (overwritten). cache: float only.
    void forward(const WeightsView<T>& w, const T* h_in, const TokenBatch& batch, KvCache* cache, T* h_out,
                 Activations& a, ThreadPool& pool) const;
    // For the forward that filled `a`, which ran without a cache: dh_in = ∂/∂h_in of
    // Σ dh_out ⊙ h_out + loss_scale · (balance loss), overwritten; parameter gradients added.
    void backward(const WeightsView<T>& w, const T* h_in, const T* dh_out, const TokenBatch& batch, T loss_scale,
                  T* dh_in, Activations& a, ThreadPool& pool) const;

    const MoeBlock<T>* moe() const { return moe_ ? &*moe_ : nullptr; }
    MlaBlock<T>* mla() { return std::get_if<MlaBlock<T>>(&attention_); }

private:
    int64_t hidden_;
    T eps_;
    VectorParam attn_norm_, ffn_norm_;
    std::variant<GqaBlock<T>, MlaBlock<T>> attention_;
    std::optional<MlpBlock<T>> mlp_;
    std::optional<MoeBlock<T>> moe_;
};

}  // namespace mariana
