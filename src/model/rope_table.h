// A block's rotary table, grown to the furthest position a batch reaches, and the rotation
// of every chunk's rows by their own positions (token i of a chunk sits at start_pos + i).
#pragma once

#include "core/thread_pool.h"
#include "kernels/rope.h"
#include "model/batch.h"

#include <vector>

namespace mariana {

template <typename T>
class RopeTable {
public:
    // `scale` multiplies cos and sin (YaRN's rotation scale, else 1).
    RopeTable(std::vector<float> inv_freq, int64_t dim, double scale)
        : inv_freq_(std::move(inv_freq)), dim_(dim), scale_(scale)
    {
    }

    // x: the batch's rows, `span` describing one row (its n_tokens is ignored).
    void forward(T* x, RopeSpan span, const TokenBatch& batch, ThreadPool& pool) { rotate(x, span, batch, pool, false); }
    // dx: the gradient of the rotated rows, in place.
    void backward(T* dx, RopeSpan span, const TokenBatch& batch, ThreadPool& pool) { rotate(dx, span, batch, pool, true); }

private:
    void rotate(T* x, RopeSpan span, const TokenBatch& batch, ThreadPool& pool, bool backward);

    std::vector<float> inv_freq_;
    int64_t dim_;
    double scale_;
    std::vector<T> cos_sin_;  // [positions, dim]
};

}  // namespace mariana
