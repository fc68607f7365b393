// Rotary position embedding: rotates pairs of dimensions by position-dependent angles.
#pragma once

#include <cstdint>
#include <vector>

namespace mariana {

enum class RopeLayout {
    // Pairs (x[2i], x[2i+1]): DeepSeek's reference (model.py) and its checkpoints' MLA.
    interleaved,
    // Pairs (x[i], x[i + d/2]): Hugging Face's rotate_half, used by Qwen2 and Llama.
    half_split,
};

// The forward and backward over spans of tokens. The rotation of each pair by (cos, sin) is
// linear, so the backward applies its transpose: the same pairs rotated with sin negated.
// That stays exact when YaRN scales cos and sin (no longer a rotation).
// x: n_tokens rows of `stride` values, each holding `heads` vectors of `dim` values, the
// first starting at x and the next `head_stride` further on; token t is rotated by the
// table row cos_sin + t · dim (as rope_table makes them).
struct RopeSpan {
    int64_t n_tokens, stride, heads, head_stride, dim;
    RopeLayout layout;
};

// cos/sin rows for positions 0..length-1: cos(θ_i) for i < dim/2, then sin(θ_i), with
// θ_i = position · inv_freq[i] in float32 as the references compute it, each value times
// `scale` (YaRN's rotation scale, else 1).
template <typename T>
std::vector<T> rope_table(const std::vector<float>& inv_freq, int64_t dim, int64_t length, double scale);

template <typename T>
void rope_forward(T* x, const RopeSpan& span, const T* cos_sin);

// dx arrives as the gradient of the rotated values and leaves as that of the inputs.
template <typename T>
void rope_backward(T* dx, const RopeSpan& span, const T* cos_sin);

}  // namespace mariana
