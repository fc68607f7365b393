#include "model/decoder_stack.h"

#include <type_traits>
#include <variant>

namespace mariana {

namespace {

template <typename T>
EmbeddingTable<T> embedding(const ParameterBinding& bind, const DeclaredWeights& weights)
{
    return std::visit([&](const auto& w) { return EmbeddingTable<T>(bind, w.embed); }, weights);
}

template <typename T>
OutputHead<T> output_head(const ModelConfig& c, const ParameterBinding& bind, const DeclaredWeights& weights)
{
    return std::visit(
        [&](const auto& w) {
            const bool tied = std::is_same_v<std::decay_t<decltype(w)>, DenseWeights> && c.tie_word_embeddings;
            return OutputHead<T>(bind.vector(w.final_norm), Linear::of(bind, tied ? w.embed : w.lm_head),
                                 c.rms_norm_eps);
        },
        weights);
}

}  // namespace

template <typename T>
DecoderStack<T>::DecoderStack(const ModelConfig& c, const ParameterBinding& bind, const DeclaredWeights& weights,
                              double balance_alpha)
    : hidden_size_(c.hidden_size), embed_(embedding<T>(bind, weights)), head_(output_head<T>(c, bind, weights))
{
    layers_.reserve(size_t(c.num_hidden_layers));
    if (const auto* w = std::get_if<DenseWeights>(&weights)) {
        for (int64_t l = 0; l < c.num_hidden_layers; ++l) layers_.emplace_back(c, bind, w->layers[size_t(l)], l);
        return;
    }
    const DeepSeekWeights& w = std::get<DeepSeekWeights>(weights);
    for (int64_t l = 0; l < c.num_hidden_layers; ++l)
        layers_.emplace_back(c, bind, w.layers[size_t(l)], l, c.is_moe_layer(l), balance_alpha);
}

template <typename T>
void DecoderStack<T>::forward(const WeightsView<T>& w, const TokenBatch& batch, KvCache* cache, ThreadPool& pool)
{
    const int64_t N = batch.size(), H = hidden_size_;
    hidden_.resize(cache ? 2 : layers_.size() + 1);
    for (auto& h : hidden_) h.resize(size_t(N * H));
    activations_.resize(cache ? 1 : layers_.size());
    embed_.forward(w, batch.tokens.data(), N, hidden_[0].data());
    for (size_t l = 0; l < layers_.size(); ++l) {
        const size_t in = cache ? l % 2 : l, out = cache ? (l + 1) % 2 : l + 1;
        layers_[l].forward(w, hidden_[in].data(), batch, cache, hidden_[out].data(), activations_[cache ? 0 : l], pool);
    }
    // The last layer's output is where output() reads it.
    if (cache && layers_.size() % 2 == 0) std::swap(hidden_[0], hidden_[1]);
}

template <typename T>
void DecoderStack<T>::backward(const WeightsView<T>& w, const TokenBatch& batch, LargeVector<T>& dh, T loss_scale,
                               ThreadPool& pool)
{
    MARIANA_CHECK(activations_.size() == layers_.size(), "a backward after a forward that kept no activations");
    dh_next_.resize(dh.size());
    for (size_t l = layers_.size(); l-- > 0;) {
        layers_[l].backward(w, hidden_[l].data(), dh.data(), batch, loss_scale, dh_next_.data(), activations_[l], pool);
        std::swap(dh, dh_next_);
    }
    embed_.backward(w, batch.tokens.data(), dh.data(), batch.size());
}

template <typename T>
std::vector<MoeRun<T>> DecoderStack<T>::moe_runs() const
{
    MARIANA_CHECK(activations_.size() == layers_.size(), "MoE runs of a forward that kept no activations");
    std::vector<MoeRun<T>> runs;
    for (size_t l = 0; l < layers_.size(); ++l)
        if (const MoeBlock<T>* moe = layers_[l].moe()) runs.push_back({moe, &activations_[l].moe});
    return runs;
}

template class DecoderStack<float>;
template class DecoderStack<double>;

}  // namespace mariana
