#include "runtime/sampler.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace mariana {

Sampler::Sampler(const SamplerOptions& options) : options_(options), rng_(options.seed)
{
    if (!(options.temperature >= 0.0f) || !std::isfinite(options.temperature))
        fail("temperature must be a finite number >= 0, got {}", options.temperature);
    if (!(options.top_p > 0.0f && options.top_p <= 1.0f)) fail("top-p must be in (0, 1], got {}", options.top_p);
    if (options.top_k < 0) fail("top-k must be >= 0, got {}", options.top_k);
    if (!(options.min_p >= 0.0f && options.min_p < 1.0f)) fail("min-p must be in [0, 1), got {}", options.min_p);
    if (!(options.repetition_penalty > 0.0f) || !std::isfinite(options.repetition_penalty))
        fail("repetition penalty must be a finite number > 0, got {}", options.repetition_penalty);
}

namespace {

// log Σ exp(logits / T), in double.
double log_sum_exp(std::span<const float> logits, double temperature)
{
    const double max = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    for (const float l : logits) sum += std::exp((double(l) - max) / temperature);
    return max / temperature + std::log(sum);
}

}  // namespace

Sampled Sampler::sample(std::span<const float> logits, std::span<const int32_t> context, int64_t top_logprobs)
{
    if (logits.empty()) fail("no logits to sample from");
    Sampled result{pick(logits, context), 0.0f, {}};
    const double t = options_.temperature > 0.0f ? double(options_.temperature) : 1.0;
    const double lse = log_sum_exp(logits, t);
    const auto logprob = [&](int32_t id) { return float(double(logits[size_t(id)]) / t - lse); };
    result.logprob = logprob(result.token);
    if (top_logprobs > 0) {
        std::vector<int32_t> ids(logits.size());
        std::iota(ids.begin(), ids.end(), 0);
        const size_t n = std::min(size_t(top_logprobs), ids.size());
        std::partial_sort(ids.begin(), ids.begin() + ptrdiff_t(n), ids.end(), [&](int32_t a, int32_t b) {
            return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
        });
        for (size_t i = 0; i < n; ++i) result.top.push_back({ids[i], logprob(ids[i])});
    }
    return result;
}

int32_t Sampler::pick(std::span<const float> logits, std::span<const int32_t> context)
{
    if (options_.repetition_penalty != 1.0f && !context.empty()) {
        penalized_.assign(logits.begin(), logits.end());
        for (const int32_t id : context) {
            if (id < 0 || size_t(id) >= penalized_.size()) continue;
            // Each token once, however often it occurs: compare with the original logit.
            const float original = logits[size_t(id)];
            penalized_[size_t(id)] =
                original > 0 ? original / options_.repetition_penalty : original * options_.repetition_penalty;
        }
        logits = penalized_;
    }
    if (options_.temperature == 0.0f)
        return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());

    std::vector<int32_t> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    const size_t k = options_.top_k > 0 ? std::min(size_t(options_.top_k), ids.size()) : ids.size();
    std::partial_sort(ids.begin(), ids.begin() + ptrdiff_t(k), ids.end(),
                      [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
    ids.resize(k);

    std::vector<double> probs(k);
    const double max = logits[size_t(ids[0])];
    double sum = 0.0;
    for (size_t i = 0; i < k; ++i) sum += probs[i] = std::exp((logits[size_t(ids[i])] - max) / options_.temperature);
    // Nucleus: the smallest prefix of the sorted candidates whose mass reaches top_p.
    size_t keep = 0;
    double mass = 0.0;
    while (keep < k && mass < options_.top_p * sum) mass += probs[keep++];
    // Min-p: probs[0] is the most likely candidate.
    while (keep > 1 && probs[keep - 1] < options_.min_p * probs[0]) --keep;
    std::discrete_distribution<size_t> pick(probs.begin(), probs.begin() + ptrdiff_t(std::max<size_t>(keep, 1)));
    return ids[pick(rng_)];
}

}  // namespace mariana
