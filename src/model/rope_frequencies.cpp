#include "model/rope_frequencies.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mariana {

namespace {

double yarn_mscale(double factor, double mscale) { return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0; }

// The dimension index at which a rotation completes `rotations` turns over the original
// context (YaRN paper, eq. 17; DeepSeek's find_correction_dim).
double correction_dim(double rotations, int64_t dim, double theta, int64_t original_length)
{
    return double(dim) * std::log(double(original_length) / (rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(theta));
}

void apply_yarn(const RopeConfig& rope, int64_t dim, std::vector<float>& inv_freq)
{
    const double low_d = std::floor(correction_dim(rope.beta_fast, dim, rope.theta, rope.original_max_position_embeddings));
    const double high_d = std::ceil(correction_dim(rope.beta_slow, dim, rope.theta, rope.original_max_position_embeddings));
    // Clamped by dim - 1 (not dim/2 - 1), as both references do.
    const float low = float(std::max(low_d, 0.0));
    float high = float(std::min(high_d, double(dim - 1)));
    if (low == high) high += 0.001f;
    for (size_t i = 0; i < inv_freq.size(); ++i) {
        const float ramp = std::clamp((float(i) - low) / (high - low), 0.0f, 1.0f);
        // ramp 0: fast pairs keep their frequency; ramp 1: slow pairs are divided by factor.
        inv_freq[i] = inv_freq[i] * (1.0f - ramp) + inv_freq[i] / float(rope.factor) * ramp;
    }
}

void apply_llama3(const RopeConfig& rope, std::vector<float>& inv_freq)
{
    const double low_wavelen = double(rope.original_max_position_embeddings) / rope.low_freq_factor;
    const double high_wavelen = double(rope.original_max_position_embeddings) / rope.high_freq_factor;
    for (float& f : inv_freq) {
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen > low_wavelen) {
            f = float(f / rope.factor);
        } else if (wavelen >= high_wavelen) {
            const double smooth = (double(rope.original_max_position_embeddings) / wavelen - rope.low_freq_factor) /
                                  (rope.high_freq_factor - rope.low_freq_factor);
            f = float((1.0 - smooth) * f / rope.factor + smooth * f);
        }
    }
}

}  // namespace

std::vector<float> rope_inv_frequencies(const RopeConfig& rope, int64_t dim)
{
    std::vector<float> inv_freq(static_cast<size_t>(dim / 2));
    for (int64_t i = 0; i < dim / 2; ++i)
        inv_freq[size_t(i)] = 1.0f / std::pow(float(rope.theta), float(2 * i) / float(dim));
    switch (rope.type) {
    case RopeScalingType::none: break;
    case RopeScalingType::linear:
        for (float& f : inv_freq) f = float(f / rope.factor);
        break;
    case RopeScalingType::yarn: apply_yarn(rope, dim, inv_freq); break;
    case RopeScalingType::llama3: apply_llama3(rope, inv_freq); break;
    }
    return inv_freq;
}

double yarn_softmax_scale_factor(const RopeConfig& rope)
{
    if (rope.type != RopeScalingType::yarn || rope.mscale_all_dim == 0.0) return 1.0;
    const double m = yarn_mscale(rope.factor, rope.mscale_all_dim);
    return m * m;
}

double yarn_rotation_scale(const RopeConfig& rope)
{
    if (rope.type != RopeScalingType::yarn) return 1.0;
    return yarn_mscale(rope.factor, rope.mscale) / yarn_mscale(rope.factor, rope.mscale_all_dim);
}

}  // namespace mariana
