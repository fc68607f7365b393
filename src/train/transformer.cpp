#include "train/transformer.h"

#include "kernels/cross_entropy.h"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace mariana::train {

template <typename T>
Transformer<T>::Transformer(const ModelConfig& c, const ParameterSet& layout, Objective objective)
    : config_(c), objective_(objective), stack_(c, layout, layout.declared(), objective.balance_alpha)
{
    const auto* w = std::get_if<DeepSeekWeights>(&layout.declared());
    if (!w || objective.mtp_weight == 0) return;
    // Modules the checkpoint has, in depth order (a missing one ends the chain).
    for (const MtpWeights& module : w->mtp) {
        if (!layout.has(module.eh_proj)) break;
        mtp_.emplace_back(c, layout, module, objective.balance_alpha);
    }
}

template <typename T>
void Transformer<T>::read_tokens(const int32_t* tokens, int64_t B, int64_t S)
{
    inputs_.assign(tokens, tokens + B * S);
    chunks_.resize(size_t(B));
    for (int64_t b = 0; b < B; ++b)
        chunks_[size_t(b)] = {{}, 0, std::span<const int32_t>(inputs_.data() + b * S, size_t(S))};
    batch_.emplace(chunks_);
}

template <typename T>
void Transformer<T>::logits(const WeightsView<T>& w, const int32_t* tokens, int64_t B, int64_t S, T* out,
                            ThreadPool& pool)
{
    read_tokens(tokens, B, S);
    stack_.forward(w, *batch_, nullptr, pool);
    stack_.head().logits(w, stack_.output(), B * S, out, pool);
}

template <typename T>
void Transformer<T>::read_windows(const int32_t* windows, int64_t B, int64_t S)
{
    std::vector<int32_t> inputs(size_t(B * S));
    targets_.resize(size_t(B * S));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < S; ++i) {
            inputs[size_t(b * S + i)] = windows[b * (S + 1) + i];
            targets_[size_t(b * S + i)] = windows[b * (S + 1) + i + 1];
        }
    read_tokens(inputs.data(), B, S);
}

template <typename T>
double Transformer<T>::next_token_loss(const WeightsView<T>& w, const int32_t* windows, int64_t B, int64_t S,
                                       ThreadPool& pool)
{
    read_windows(windows, B, S);
    const WeightsView<T> forward_only{w.values, nullptr, w.precision};
    stack_.forward(forward_only, *batch_, nullptr, pool);
    const int64_t N = B * S;
    return double(stack_.head().loss(forward_only, stack_.output(), targets_.data(), N, T(1), nullptr, logits_,
                                     pool)) / double(N);
}

template <typename T>
StepLosses Transformer<T>::step(const WeightsView<T>& w, const int32_t* windows, int64_t B, int64_t S, T scale,
                                ThreadPool& pool)
{
    const int64_t N = B * S, H = config_.hidden_size;
    read_windows(windows, B, S);
    stack_.forward(w, *batch_, nullptr, pool);

    const bool train = w.grads != nullptr;
    StepLosses losses;
    if (train) dh_.assign(size_t(N * H), T(0));
    losses.loss = double(stack_.head().loss(w, stack_.output(), targets_.data(), N, scale / T(N),
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
        m.forward(w, k == 1 ? stack_.output() : mtp_[size_t(k - 2)].output(), mtp_tokens_.data(), *batch_, pool);
        const int64_t targets = B * std::max<int64_t>(0, S - k);
        if (targets == 0) continue;
        const T weight = T(objective_.mtp_weight) / T(D * targets);
        const T sum = m.head().loss(w, m.output(), mtp_targets_.data(), N, scale * weight,
                                    train ? m.output_grad().data() : nullptr, logits_, pool);
        losses.mtp_loss += double(sum) / double(targets) / double(D);
    }
    for (const MoeRun<T>& moe : moe_runs()) losses.balance_loss += moe.activations->balance_loss;
    losses.objective = losses.loss + objective_.mtp_weight * losses.mtp_loss + losses.balance_loss;
    if (!train) return losses;

    for (int64_t k = D; k >= 1; --k) {
        const bool first = k == 1;
        mtp_[size_t(k - 1)].backward(w, first ? stack_.output() : mtp_[size_t(k - 2)].output(), *batch_, scale,
                                     first ? dh_.data() : mtp_[size_t(k - 2)].output_grad().data(), pool);
    }
    stack_.backward(w, *batch_, dh_, scale, pool);
    return losses;
}

template <typename T>
std::vector<MoeRun<T>> Transformer<T>::moe_runs() const
{
    std::vector<MoeRun<T>> runs = stack_.moe_runs();
    for (const MtpModule<T>& m : mtp_)
        if (const auto run = m.moe_run()) runs.push_back(*run);
    return runs;
}

template class Transformer<float>;
template class Transformer<double>;

}  // namespace mariana::train
