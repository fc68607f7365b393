// Picks the next token from logits: greedy at temperature 0, otherwise temperature-scaled
// softmax restricted by top-k, top-p (nucleus) and min-p, with its own seeded generator
// (one per sequence, so a seeded sequence samples the same tokens whatever else runs).
// A repetition penalty (as in CTRL and transformers) first makes every token already in
// the context less likely: positive logits are divided by it, negative ones multiplied.
//
// Log-probabilities are those of the model's distribution at the sampling temperature:
// log_softmax(logits / T), T the temperature (1 when greedy), before the repetition
// penalty and the top-k/top-p/min-p truncation. So they are what the policy's forward
// computes for the same tokens (GRPO compares the two), whatever the truncation.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace mariana {

struct SamplerOptions {
    float temperature = 0.0f;  // 0: greedy (argmax, lowest id on ties)
    int64_t top_k = 0;         // 0: no limit
    float top_p = 1.0f;        // 1: no limit
    float min_p = 0.0f;        // keep tokens at least this fraction as likely as the best; 0: off
    float repetition_penalty = 1.0f;  // 1: off
    uint64_t seed = 0;
};

struct TokenLogprob {
    int32_t token;
    float logprob;
    bool operator==(const TokenLogprob&) const = default;
};

struct Sampled {
    int32_t token;
    float logprob;                  // of `token`
    std::vector<TokenLogprob> top;  // the most likely tokens, most likely first (ties: lowest id)
};

class Sampler {
public:
    // Throws Error for impossible options (negative temperature, top_p outside (0, 1], ...).
    explicit Sampler(const SamplerOptions& options);

    // `context` is the prompt and everything generated so far (for the repetition penalty);
    // `top_logprobs` how many alternatives to return.
    Sampled sample(std::span<const float> logits, std::span<const int32_t> context = {}, int64_t top_logprobs = 0);

private:
    int32_t pick(std::span<const float> logits, std::span<const int32_t> context);

    SamplerOptions options_;
    std::mt19937_64 rng_;
    std::vector<float> penalized_;  // scratch: logits after the repetition penalty
    std::vector<float> weights_;    // scratch: exp((logit - max) / temperature)
    std::vector<int32_t> ids_;      // scratch: the candidates
    std::vector<double> probs_;     // scratch: the kept candidates' weights
};

}  // namespace mariana
