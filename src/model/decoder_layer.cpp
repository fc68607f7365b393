#include "model/decoder_layer.h"

#include "kernels/elementwise.h"
#include "kernels/rms_norm.h"

#include <algorithm>

namespace mariana {

template <typename T>
DecoderLayer<T>::DecoderLayer(const ModelConfig& c, const ParameterBinding& bind, const DeepSeekLayer& w,
                              int64_t layer, bool moe, double balance_alpha)
    : hidden_(c.hidden_size), eps_(T(c.rms_norm_eps)), attn_norm_(bind.vector(w.attn_norm)),
      ffn_norm_(bind.vector(w.ffn_norm)), attention_(std::make_unique<MlaBlock<T>>(c, bind, w.attn, layer))
{
    if (moe) moe_.emplace(c, bind, w.moe, balance_alpha);
    else mlp_.emplace(bind, w.dense);
}

template <typename T>
DecoderLayer<T>::DecoderLayer(const ModelConfig& c, const ParameterBinding& bind, const DenseLayer& w, int64_t layer)
    : hidden_(c.hidden_size), eps_(T(c.rms_norm_eps)), attn_norm_(bind.vector(w.attn_norm)),
      ffn_norm_(bind.vector(w.ffn_norm)), attention_(std::make_unique<GqaBlock<T>>(c, bind, w, layer))
{
    mlp_.emplace(bind, w.mlp);
}

template <typename T>
void DecoderLayer<T>::forward(const WeightsView<T>& w, const T* h_in, const TokenBatch& batch, KvCache* cache,
                              T* h_out, ThreadPool& pool)
{
    const int64_t N = batch.size(), H = hidden_;
    x_attn_.resize(size_t(N * H));
    rstd_attn_.resize(size_t(N));
    branch_.resize(size_t(N * H));
    h_mid_.resize(size_t(N * H));
    x_ffn_.resize(size_t(N * H));
    rstd_ffn_.resize(size_t(N));

    rms_norm_forward(h_in, w.at(attn_norm_), N, H, eps_, x_attn_.data(), rstd_attn_.data(), pool);
    attention_->forward(w, x_attn_.data(), batch, cache, branch_.data(), pool);
    add(h_in, branch_.data(), N * H, h_mid_.data(), pool);

    rms_norm_forward(h_mid_.data(), w.at(ffn_norm_), N, H, eps_, x_ffn_.data(), rstd_ffn_.data(), pool);
    if (moe_) moe_->forward(w, x_ffn_.data(), batch, branch_.data(), pool);
    else mlp_->forward(w, x_ffn_.data(), N, branch_.data(), pool);
    add(h_mid_.data(), branch_.data(), N * H, h_out, pool);
}

template <typename T>
void DecoderLayer<T>::backward(const WeightsView<T>& w, const T* h_in, const T* dh_out, const TokenBatch& batch,
                               T loss_scale, T* dh_in, ThreadPool& pool)
{
    const int64_t N = batch.size(), H = hidden_;
    dh_mid_.resize(size_t(N * H));
    dx_.resize(size_t(N * H));
    if (moe_) {  // the MoE adds its experts' gradients one by one
        fill_zero(dx_.data(), N * H, pool);
        moe_->backward(w, x_ffn_.data(), dh_out, batch, loss_scale, dx_.data(), pool);
    } else {
        mlp_->backward(w, x_ffn_.data(), dh_out, N, dx_.data(), pool, Into::overwrite);
    }
    // Each residual's gradient passes through as the base the norm's gradient adds onto.
    rms_norm_backward(h_mid_.data(), w.at(ffn_norm_), rstd_ffn_.data(), dx_.data(), N, H, dh_out, dh_mid_.data(),
                      w.grad(ffn_norm_), pool);
    attention_->backward(w, x_attn_.data(), dh_mid_.data(), batch, dx_.data(), pool);
    rms_norm_backward(h_in, w.at(attn_norm_), rstd_attn_.data(), dx_.data(), N, H, dh_mid_.data(), dh_in,
                      w.grad(attn_norm_), pool);
}

template class DecoderLayer<float>;
template class DecoderLayer<double>;

}  // namespace mariana
