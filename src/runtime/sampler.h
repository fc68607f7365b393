// Picks the next token from logits: greedy at temperature 0, otherwise temperature-scaled
// softmax restricted by top-k, top-p (nucleus) and min-p, with its own seeded generator.
// A repetition penalty (as in CTRL and transformers) first makes every token already in
// the context less likely: positive logits are divided by it, negative ones multiplied.
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

class Sampler {
public:
    // Throws Error for impossible options (negative temperature, top_p outside (0, 1], ...).
    explicit Sampler(const SamplerOptions& options);

    // `context` is the prompt and everything generated so far (for the repetition penalty).
    int32_t sample(std::span<const float> logits, std::span<const int32_t> context = {});

private:
    SamplerOptions options_;
    std::mt19937_64 rng_;
    std::vector<float> penalized_;  // scratch: logits after the repetition penalty
};

}  // namespace mariana
