#include "train/transformer.h"

#include "kernels/cross_entropy.h"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace mariana::train {

namespace {

// The output head of the declared weights: the final norm, then the output projection (the
// embedding itself when a dense model ties them).
template <typename T>
OutputHead<T> output_head(const ModelConfig& c, const ParameterSet& layout)
{
    return std::visit(
        [&](const auto& w) {
            const bool tied = std::is_same_v<std::decay_t<decltype(w)>, DenseWeights> && c.tie_word_embeddings;
            return OutputHead<T>(layout.vector(w.final_norm), Linear::of(layout, tied ? w.embed : w.lm_head),
                                 c.rms_norm_eps);
        },
        layout.declared());
}

}  // namespace

template <typename T>
Transformer<T>::Transformer(const ModelConfig& c, const ParameterSet& layout, Objective objective)
    : config_(c), objective_(objective),
      embed_(std::visit([&](const auto& w) { return EmbeddingTable<T>(layout, w.embed); }, layout.declared())),
      head_(output_head<T>(c, layout))
{
    layers_.reserve(size_t(c.num_hidden_layers));
    if (const auto* w = std::get_if<DenseWeights>(&layout.declared())) {
        for (const DenseLayer& layer : w->layers) layers_.emplace_back(c, layout, layer);
        return;
    }
    const DeepSeekWeights& w = std::get<DeepSeekWeights>(layout.declared());
    for (int64_t l = 0; l < c.num_hidden_layers; ++l)
        layers_.emplace_back(c, layout, w.layers[size_t(l)], c.is_moe_layer(l), objective.balance_alpha);
    if (objective.mtp_weight == 0) return;
    // Modules the checkpoint has, in depth order (a missing one ends the chain).
    for (const MtpWeights& module : w.mtp) {
        if (!layout.has(module.eh_proj)) break;
        mtp_.emplace_back(c, layout, module, objective.balance_alpha);
    }
}

template <typename T>
void Transformer<T>::run_layers(const WeightsView<T>& w, int64_t B, int64_t S, ThreadPool& pool)
{
    const int64_t N = B * S, H = config_.hidden_size;
    hidden_.resize(layers_.size() + 1);
    for (auto& h : hidden_) h.resize(size_t(N * H));
    embed_.forward(w, inputs_.data(), N, hidden_[0].data());
    for (size_t l = 0; l < layers_.size(); ++l) layers_[l].forward(w, hidden_[l].data(), B, S, hidden_[l + 1].data(), pool);
}

template <typename T>
void Transformer<T>::logits(const WeightsView<T>& w, const int32_t* tokens, int64_t B, int64_t S, T* out,
                            ThreadPool& pool)
{
    inputs_.assign(tokens, tokens + B * S);
    run_layers(w, B, S, pool);
    head_.logits(w, hidden_.back().data(), B * S, out, pool);
}

template <typename T>
void Transformer<T>::read_windows(const int32_t* windows, int64_t B, int64_t S)
{
    inputs_.resize(size_t(B * S));
    targets_.resize(size_t(B * S));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < S; ++i) {
            inputs_[size_t(b * S + i)] = windows[b * (S + 1) + i];
            targets_[size_t(b * S + i)] = windows[b * (S + 1) + i + 1];
        }
}

template <typename T>
double Transformer<T>::next_token_loss(const WeightsView<T>& w, const int32_t* windows, int64_t B, int64_t S,
                                       ThreadPool& pool)
{
    read_windows(windows, B, S);
    run_layers({w.values, nullptr, w.precision}, B, S, pool);
    const int64_t N = B * S;
    return double(head_.loss({w.values, nullptr, w.precision}, hidden_.back().data(), targets_.data(), N, T(1), nullptr,
                             logits_, pool)) / double(N);
}

template <typename T>
StepLosses Transformer<T>::step(const WeightsView<T>& w, const int32_t* windows, int64_t B, int64_t S, T scale,
                                ThreadPool& pool)
{
    const int64_t N = B * S, H = config_.hidden_size;
    read_windows(windows, B, S);
    run_layers(w, B, S, pool);

    const bool train = w.grads != nullptr;
    StepLosses losses;
    if (train) dh_.assign(size_t(N * H), T(0));
    losses.loss = double(head_.loss(w, hidden_.back().data(), targets_.data(), N, scale / T(N),
                                    train ? dh_.data() : nullptr, logits_, pool)) / double(N);

    // MTP depth k at position i reads t_{i+k} and predicts t_{i+k+1}; rows past the window
    // have no target (and, being last in causal order, affect no other row).
    const int64_t D = int64_t(mtp_.size());
    mtp_tokens_.resize(size_t(N));
    mtp_targets_.resize(size_t(N));
    for (int64_t k = 1; k <= D; ++k) {
        for (int64_t b = 0; b < B; ++b)
            for (int64_t i = 0; i < S; ++i) {
                mtp_tokens_[size_t(b * S + i)] = windows[b * (S + 1) + std::min(i + k, S)];
                mtp_targets_[size_t(b * S + i)] = i + k + 1 <= S ? windows[b * (S + 1) + i + k + 1] : kNoTarget;
            }
        MtpModule<T>& m = mtp_[size_t(k - 1)];
        m.forward(w, k == 1 ? hidden_.back().data() : mtp_[size_t(k - 2)].output(), mtp_tokens_.data(), B, S, pool);
        const int64_t targets = B * std::max<int64_t>(0, S - k);
        if (targets == 0) continue;
        const T weight = T(objective_.mtp_weight) / T(D * targets);
        const T sum = m.head().loss(w, m.output(), mtp_targets_.data(), N, scale * weight,
                                    train ? m.output_grad().data() : nullptr, logits_, pool);
        losses.mtp_loss += double(sum) / double(targets) / double(D);
    }
    for (MoeBlock<T>* moe : moe_blocks()) losses.balance_loss += moe->balance_loss();
    losses.objective = losses.loss + objective_.mtp_weight * losses.mtp_loss + losses.balance_loss;
    if (!train) return losses;

    for (int64_t k = D; k >= 1; --k) {
        const bool first = k == 1;
        mtp_[size_t(k - 1)].backward(w, first ? hidden_.back().data() : mtp_[size_t(k - 2)].output(), B, S, scale,
                                     first ? dh_.data() : mtp_[size_t(k - 2)].output_grad().data(), pool);
    }
    dh_next_.resize(dh_.size());
    for (size_t l = layers_.size(); l-- > 0;) {
        layers_[l].backward(w, hidden_[l].data(), dh_.data(), B, S, scale, dh_next_.data(), pool);
        std::swap(dh_, dh_next_);
    }
    embed_.backward(w, inputs_.data(), dh_.data(), N);
    return losses;
}

template <typename T>
std::vector<MoeBlock<T>*> Transformer<T>::moe_blocks()
{
    std::vector<MoeBlock<T>*> blocks;
    for (DecoderLayer<T>& layer : layers_)
        if (MoeBlock<T>* moe = layer.moe()) blocks.push_back(moe);
    for (MtpModule<T>& m : mtp_)
        if (MoeBlock<T>* moe = m.block().moe()) blocks.push_back(moe);
    return blocks;
}

template class Transformer<float>;
template class Transformer<double>;

}  // namespace mariana::train
