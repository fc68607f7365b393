// Rotary position embedding: rotates pairs of dimensions by position-dependent angles.
#pragma once

#include <cstdint>

namespace mariana {

enum class RopeLayout {
    // Pairs (x[2i], x[2i+1]): DeepSeek's reference (model.py) and its checkpoints' MLA.
    interleaved,
    // Pairs (x[i], x[i + d/2]): Hugging Face's rotate_half, used by Qwen2 and Llama.
    half_split,
};

// cos_sin holds cos(θ_i) for i < dim/2 followed by sin(θ_i), with θ_i = position · inv_freq[i].
void rope_angles(int64_t position, const float* inv_freq, int64_t dim, float* cos_sin);

// Rotates n_vectors vectors of `dim` floats, `stride` floats apart, in place.
void apply_rope(float* x, int64_t n_vectors, int64_t stride, int64_t dim, const float* cos_sin, RopeLayout layout);

}  // namespace mariana
