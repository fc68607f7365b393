// Rotary position embedding for training, forward and backward. The rotation of each pair
// by (cos, sin) is linear, so the backward applies its transpose: the same pairs rotated
// with sin negated. That stays exact when YaRN scales cos and sin (no longer a rotation).
#pragma once

#include "kernels/rope.h"

#include <cstdint>
#include <vector>

namespace mariana::train {

// x: n_tokens rows of `stride` values, each holding `heads` vectors of `dim` values, the
// first starting at x and the next `head_stride` further on; token t is rotated by
// cos_sin + t · dim (cos for i < dim/2, then sin, as kernels/rope.h's rope_angles writes).
struct RopeSpan {
    int64_t n_tokens, stride, heads, head_stride, dim;
    RopeLayout layout;
};

// cos/sin rows for positions 0..length-1, as the inference kernels compute them from the
// float inverse frequencies, each value times `scale` (YaRN's rotation scale, else 1).
template <typename T>
std::vector<T> rope_table(const std::vector<float>& inv_freq, int64_t dim, int64_t length, double scale);

template <typename T>
void rope_forward(T* x, const RopeSpan& span, const T* cos_sin);

// dx arrives as the gradient of the rotated values and leaves as that of the inputs.
template <typename T>
void rope_backward(T* dx, const RopeSpan& span, const T* cos_sin);

}  // namespace mariana::train
