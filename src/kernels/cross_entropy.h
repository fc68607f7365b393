// Softmax cross-entropy over the vocabulary, fused with its gradient.
#pragma once

#include "core/thread_pool.h"

#include <cstdint>

namespace mariana {

// Target id -1 marks a position without a target (it adds nothing and gets zero gradient).
inline constexpr int32_t kNoTarget = -1;

// Returns Σ_rows -log softmax(logits[r])[target[r]] (nats). When dlogits is not null it
// receives scale · (softmax(logits[r]) - onehot(target[r])) per row (overwritten; zero for
// rows without a target): scale is d(loss)/d(that sum), e.g. 1 / number of targets.
template <typename T>
// Rows run in parallel; their losses are summed in row order (independent of threads).
T cross_entropy(const T* logits, const int32_t* targets, int64_t rows, int64_t vocab, T scale, T* dlogits,
                ThreadPool& pool);

}  // namespace mariana
