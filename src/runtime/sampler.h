// Picks the next token from logits: greedy at temperature 0, otherwise temperature-scaled
// softmax restricted by top-k and top-p (nucleus), with its own seeded generator.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace mariana {

struct SamplerOptions {
    float temperature = 0.0f;  // 0: greedy (argmax, lowest id on ties)
    int64_t top_k = 0;         // 0: no limit
    float top_p = 1.0f;        // 1: no limit
    uint64_t seed = 0;
};

class Sampler {
public:
    // Throws Error for impossible options (negative temperature, top_p outside (0, 1], ...).
    explicit Sampler(const SamplerOptions& options);

    int32_t sample(std::span<const float> logits);

private:
    SamplerOptions options_;
    std::mt19937_64 rng_;
};

}  // namespace mariana
