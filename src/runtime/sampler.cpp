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

// log Σ exp(logits / T): each term in float (to 1 ulp; a double exp per token of a 151k
// vocabulary costs a millisecond), summed in double.
double log_sum_exp(std::span<const float> logits, double temperature)
{
    const float max = *std::max_element(logits.begin(), logits.end());
    const float inv_t = float(1.0 / temperature);
    double sum = 0.0;
    for (const float l : logits) sum += std::exp((l - max) * inv_t);
    return double(max) / temperature + std::log(sum);
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

    // Weights relative to the most likely token (which weighs 1).
    const size_t V = logits.size();
    const float max = *std::max_element(logits.begin(), logits.end());
    const float inv_t = 1.0f / options_.temperature;
    weights_.resize(V);
    for (size_t i = 0; i < V; ++i) weights_[i] = std::exp((logits[i] - max) * inv_t);
    const auto heavier = [&](int32_t a, int32_t b) {
        return weights_[size_t(a)] > weights_[size_t(b)] || (weights_[size_t(a)] == weights_[size_t(b)] && a < b);
    };

    // Candidates: the top-k, or every token.
    ids_.clear();
    double sum = 0.0;
    if (options_.top_k > 0 && size_t(options_.top_k) < V) {
        ids_.resize(V);
        std::iota(ids_.begin(), ids_.end(), 0);
        std::nth_element(ids_.begin(), ids_.begin() + options_.top_k - 1, ids_.end(), heavier);
        ids_.resize(size_t(options_.top_k));
        for (const int32_t id : ids_) sum += weights_[size_t(id)];
    } else {
        for (const float w : weights_) sum += w;
        if (options_.top_p >= 1.0f && options_.min_p == 0.0f) {
            // Nothing to cut: one pass over the cumulative weights.
            double u = std::uniform_real_distribution<double>(0.0, sum)(rng_);
            for (size_t i = 0; i < V; ++i)
                if ((u -= weights_[i]) < 0.0) return int32_t(i);
            return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());  // rounding at the end
        }
        // The nucleus and the min-p survivors are the heaviest tokens: sort only those at
        // least `floor` heavy, lowering it until they hold the nucleus's mass (or every
        // token min-p keeps), rather than the whole vocabulary.
        for (float floor = std::max(options_.min_p, 1e-4f);; floor = floor > 1e-30f ? floor * 1e-4f : 0.0f) {
            ids_.clear();
            double mass = 0.0;
            for (size_t i = 0; i < V; ++i)
                if (weights_[i] >= floor) {
                    ids_.push_back(int32_t(i));
                    mass += weights_[i];
                }
            if (mass >= double(options_.top_p) * sum || floor <= options_.min_p || floor == 0.0f) break;
        }
    }
    std::sort(ids_.begin(), ids_.end(), heavier);

    // Nucleus: the smallest prefix of the sorted candidates whose mass reaches top_p.
    size_t keep = 0;
    double mass = 0.0;
    while (keep < ids_.size() && mass < options_.top_p * sum) mass += weights_[size_t(ids_[keep++])];
    // Min-p: ids_[0] is the most likely candidate.
    const float best = weights_[size_t(ids_[0])];
    while (keep > 1 && weights_[size_t(ids_[keep - 1])] < options_.min_p * best) --keep;
    keep = std::max<size_t>(keep, 1);
    probs_.resize(keep);
    for (size_t i = 0; i < keep; ++i) probs_[i] = weights_[size_t(ids_[i])];
    std::discrete_distribution<size_t> pick(probs_.begin(), probs_.end());
    return ids_[pick(rng_)];
}

}  // namespace mariana
