#include "model/rope_table.h"

#include <algorithm>

namespace mariana {

template <typename T>
void RopeTable<T>::rotate(T* x, RopeSpan span, const TokenBatch& batch, std::vector<T>& cos_sin, ThreadPool& pool,
                          bool backward) const
{
    int64_t reach = 0;
    for (const SequenceChunk& chunk : batch.chunks) reach = std::max(reach, chunk.start_pos + int64_t(chunk.tokens.size()));
    // Each row depends on its position alone, so a longer table keeps the rows it had.
    if (int64_t(cos_sin.size()) < reach * dim_) cos_sin = rope_table<T>(inv_freq_, dim_, reach, scale_);
    pool.parallel_for(int64_t(batch.chunks.size()), 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            RopeSpan chunk = span;
            chunk.n_tokens = batch.chunk_size(size_t(c));
            T* rows = x + batch.chunk_begin[size_t(c)] * span.stride;
            const T* angles = cos_sin.data() + batch.chunks[size_t(c)].start_pos * dim_;
            if (backward) rope_backward(rows, chunk, angles);
            else rope_forward(rows, chunk, angles);
        }
    });
}

template class RopeTable<float>;
template class RopeTable<double>;

}  // namespace mariana
