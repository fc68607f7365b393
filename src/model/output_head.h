// The output of a model: RMSNorm → head projection, the logits (inference), or the
// softmax cross-entropy with the backward taken at once (training), a block of rows at a time: the logits exist for one block
// only ([kRowsPerBlock, vocab], not [rows, vocab], which for a 150K-token vocabulary and
// 2048 rows would be 1.2 GB), and one buffer serves the main head and every MTP head.
#pragma once

#include "core/huge_pages.h"
#include "model/linear.h"

#include <vector>

namespace mariana {

template <typename T>
class OutputHead {
public:
    // Rows per block of the loss: each block packs the head's weight for its products
    // again, which costs little against 512 rows of products.
    static constexpr int64_t kRowsPerBlock = 512;

    OutputHead(VectorParam norm, Linear head, double eps) : norm_(norm), head_(head), eps_(T(eps)) {}

    // Returns Σ cross-entropy over the rows whose target is not kNoTarget. With dh (and
    // w.grads) set, adds scale · ∂(that sum)/∂h into dh [rows, hidden] and the parameters'
    // gradients. `logits` is scratch (one block's).
    T loss(const WeightsView<T>& w, const T* h, const int32_t* targets, int64_t rows, T scale, T* dh,
           LargeVector<T>& logits, ThreadPool& pool);

    // out [rows, vocab] (overwritten).
    void logits(const WeightsView<T>& w, const T* h, int64_t rows, T* out, ThreadPool& pool);

private:
    // x_ = RMSNorm(h), keeping rstd_ for the backward.
    void normalize(const WeightsView<T>& w, const T* h, int64_t rows, ThreadPool& pool);

    VectorParam norm_;
    Linear head_;
    T eps_;
    LargeVector<T> x_, rstd_, dx_;
};

}  // namespace mariana
