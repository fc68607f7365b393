#include "model/decoder_layer.h"

#include "kernels/elementwise.h"
#include "kernels/rms_norm.h"

#include <algorithm>
#include <type_traits>

namespace mariana {

namespace {

// The activations of `block`'s kind in `a`, made so on first use.
template <typename Block, typename Variant>
typename Block::Activations& activations_of(const Block&, Variant& a)
{
    using Kind = typename Block::Activations;
    if (!std::holds_alternative<Kind>(a)) a.template emplace<Kind>();
    return std::get<Kind>(a);
}

}  // namespace

template <typename T>
DecoderLayer<T>::DecoderLayer(const ModelConfig& c, const ParameterBinding& bind, const DeepSeekLayer& w,
                              int64_t layer, bool moe, double balance_alpha)
    : hidden_(c.hidden_size), eps_(T(c.rms_norm_eps)), attn_norm_(bind.vector(w.attn_norm)),
      ffn_norm_(bind.vector(w.ffn_norm)), attention_(std::in_place_type<MlaBlock<T>>, c, bind, w.attn, layer)
{
    if (moe) moe_.emplace(c, bind, w.moe, balance_alpha);
    else mlp_.emplace(bind, w.dense);
}

template <typename T>
DecoderLayer<T>::DecoderLayer(const ModelConfig& c, const ParameterBinding& bind, const DenseLayer& w, int64_t layer)
    : hidden_(c.hidden_size), eps_(T(c.rms_norm_eps)), attn_norm_(bind.vector(w.attn_norm)),
      ffn_norm_(bind.vector(w.ffn_norm)), attention_(std::in_place_type<GqaBlock<T>>, c, bind, w, layer)
{
    mlp_.emplace(bind, w.mlp);
}

template <typename T>
int64_t DecoderLayer<T>::cache_row_floats() const
{
    return std::visit([](const auto& block) { return block.cache_row_floats(); }, attention_);
}

template <typename T>
void DecoderLayer<T>::forward(const WeightsView<T>& w, const T* h_in, const TokenBatch& batch, KvCache* cache,
                              T* h_out, Activations& a, ThreadPool& pool) const
{
    const int64_t N = batch.size(), H = hidden_;
    a.x_attn.resize(size_t(N * H));
    a.rstd_attn.resize(size_t(N));
    a.branch.resize(size_t(N * H));
    a.h_mid.resize(size_t(N * H));
    a.x_ffn.resize(size_t(N * H));
    a.rstd_ffn.resize(size_t(N));

    rms_norm_forward(h_in, w.at(attn_norm_), N, H, eps_, a.x_attn.data(), a.rstd_attn.data(), pool);
    std::visit(
        [&](const auto& block) {
            block.forward(w, a.x_attn.data(), batch, cache, a.branch.data(), activations_of(block, a.attention), pool);
        },
        attention_);
    add(h_in, a.branch.data(), N * H, a.h_mid.data(), pool);

    rms_norm_forward(a.h_mid.data(), w.at(ffn_norm_), N, H, eps_, a.x_ffn.data(), a.rstd_ffn.data(), pool);
    if (moe_) moe_->forward(w, a.x_ffn.data(), batch, a.branch.data(), a.moe, pool);
    else mlp_->forward(w, a.x_ffn.data(), N, a.branch.data(), a.mlp, pool);
    add(a.h_mid.data(), a.branch.data(), N * H, h_out, pool);
}

template <typename T>
void DecoderLayer<T>::backward(const WeightsView<T>& w, const T* h_in, const T* dh_out, const TokenBatch& batch,
                               T loss_scale, T* dh_in, Activations& a, ThreadPool& pool) const
{
    const int64_t N = batch.size(), H = hidden_;
    a.dh_mid.resize(size_t(N * H));
    a.dx.resize(size_t(N * H));
    if (moe_) {  // the MoE adds its experts' gradients one by one
        fill_zero(a.dx.data(), N * H, pool);
        moe_->backward(w, a.x_ffn.data(), dh_out, batch, loss_scale, a.dx.data(), a.moe, pool);
    } else {
        mlp_->backward(w, a.x_ffn.data(), dh_out, N, a.dx.data(), a.mlp, pool, Into::overwrite);
    }
    // Each residual's gradient passes through as the base the norm's gradient adds onto.
    rms_norm_backward(a.h_mid.data(), w.at(ffn_norm_), a.rstd_ffn.data(), a.dx.data(), N, H, dh_out, a.dh_mid.data(),
                      w.grad(ffn_norm_), pool);
    std::visit(
        [&](const auto& block) {
            block.backward(w, a.x_attn.data(), a.dh_mid.data(), batch, a.dx.data(), activations_of(block, a.attention),
                           pool);
        },
        attention_);
    rms_norm_backward(h_in, w.at(attn_norm_), a.rstd_attn.data(), a.dx.data(), N, H, a.dh_mid.data(), dh_in,
                      w.grad(attn_norm_), pool);
}

template class DecoderLayer<float>;
template class DecoderLayer<double>;

}  // namespace mariana
