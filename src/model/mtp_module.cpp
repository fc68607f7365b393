#include "model/mtp_module.h"

#include "kernels/rms_norm.h"

#include <algorithm>

namespace mariana {

template <typename T>
MtpModule<T>::MtpModule(const ModelConfig& c, const ParameterBinding& bind, const MtpWeights& w, double balance_alpha)
    : hidden_(c.hidden_size), eps_(T(c.rms_norm_eps)), embed_(bind, w.embed),
      enorm_(bind.vector(w.enorm)), hnorm_(bind.vector(w.hnorm)), eh_proj_(Linear::of(bind, w.eh_proj)),
      // The module's block is a MoE layer exactly when the main model's last layer is.
      block_(c, bind, w.block, c.num_hidden_layers, c.is_moe_layer(c.num_hidden_layers), balance_alpha),
      head_(bind.vector(w.head_norm), Linear::of(bind, w.head), c.rms_norm_eps)
{
}

template <typename T>
void MtpModule<T>::forward(const WeightsView<T>& w, const T* h_prev, const int32_t* tokens, const TokenBatch& batch,
                           ThreadPool& pool)
{
    const int64_t N = batch.size(), H = hidden_;
    tokens_.assign(tokens, tokens + N);
    emb_.resize(size_t(N * H));
    e_rstd_.resize(size_t(N));
    h_rstd_.resize(size_t(N));
    cat_.resize(size_t(N * 2 * H));
    in_.resize(size_t(N * H));
    out_.resize(size_t(N * H));
    embed_.forward(w, tokens, N, emb_.data());
    // Normalise into a scratch of the same shape, then interleave into the concatenation.
    normed_.resize(size_t(N * H));
    rms_norm_forward(emb_.data(), w.at(enorm_), N, H, eps_, normed_.data(), e_rstd_.data(), pool);
    for (int64_t n = 0; n < N; ++n) std::copy_n(normed_.data() + n * H, H, cat_.data() + n * 2 * H);
    rms_norm_forward(h_prev, w.at(hnorm_), N, H, eps_, normed_.data(), h_rstd_.data(), pool);
    for (int64_t n = 0; n < N; ++n) std::copy_n(normed_.data() + n * H, H, cat_.data() + n * 2 * H + H);
    eh_proj_.forward(w, cat_.data(), N, in_.data(), pool);
    block_.forward(w, in_.data(), batch, nullptr, out_.data(), block_activations_, pool);
    dout_.assign(size_t(N * H), T(0));
}

template <typename T>
void MtpModule<T>::backward(const WeightsView<T>& w, const T* h_prev, const TokenBatch& batch, T loss_scale,
                            T* dh_prev, ThreadPool& pool)
{
    const int64_t N = batch.size(), H = hidden_;
    din_.resize(size_t(N * H));
    block_.backward(w, in_.data(), dout_.data(), batch, loss_scale, din_.data(), block_activations_, pool);
    dcat_.resize(cat_.size());
    eh_proj_.backward(w, cat_.data(), din_.data(), N, dcat_.data(), pool, Into::overwrite);

    for (int64_t n = 0; n < N; ++n) std::copy_n(dcat_.data() + n * 2 * H, H, normed_.data() + n * H);
    demb_.resize(emb_.size());
    rms_norm_backward(emb_.data(), w.at(enorm_), e_rstd_.data(), normed_.data(), N, H, nullptr, demb_.data(),
                      w.grad(enorm_), pool);
    embed_.backward(w, tokens_.data(), demb_.data(), N);
    for (int64_t n = 0; n < N; ++n) std::copy_n(dcat_.data() + n * 2 * H + H, H, normed_.data() + n * H);
    rms_norm_backward(h_prev, w.at(hnorm_), h_rstd_.data(), normed_.data(), N, H, dh_prev, dh_prev, w.grad(hnorm_),
                      pool);
}

template <typename T>
std::optional<MoeRun<T>> MtpModule<T>::moe_run() const
{
    if (const MoeBlock<T>* moe = block_.moe()) return MoeRun<T>{moe, &block_activations_.moe};
    return std::nullopt;
}

template class MtpModule<float>;
template class MtpModule<double>;

}  // namespace mariana
