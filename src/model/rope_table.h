// A block's rotary embedding: the rotation of every chunk's rows by their own positions
// (token i of a chunk sits at start_pos + i), from a cos/sin table the caller keeps with
// its activations, grown to the furthest position a batch reaches.
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

    // x: the batch's rows, `span` describing one row (its n_tokens is ignored). cos_sin:
    // [positions, dim], grown here as needed.
    void forward(T* x, RopeSpan span, const TokenBatch& batch, std::vector<T>& cos_sin, ThreadPool& pool) const
    {
        rotate(x, span, batch, cos_sin, pool, false);
    }
    // dx: the gradient of the rotated rows, in place.
    void backward(T* dx, RopeSpan span, const TokenBatch& batch, std::vector<T>& cos_sin, ThreadPool& pool) const
    {
        rotate(dx, span, batch, cos_sin, pool, true);
    }

private:
    void rotate(T* x, RopeSpan span, const TokenBatch& batch, std::vector<T>& cos_sin, ThreadPool& pool,
                bool backward) const;

    std::vector<float> inv_freq_;
    int64_t dim_;
    double scale_;
};

}  // namespace mariana
