// A forward batch flattened to tokens: the chunks' tokens back to back, with each token's
// position and slot, so projections run once over all tokens and attention per chunk.
#pragma once

#include "model/model.h"

#include <vector>

namespace mariana {

struct TokenBatch {
    std::span<const SequenceChunk> chunks;
    std::vector<int64_t> chunk_begin;  // [chunks + 1]: chunk c has tokens [begin[c], begin[c+1])
    std::vector<int32_t> tokens;       // [T]
    std::vector<int64_t> positions;    // [T]
    std::vector<int64_t> slots;        // [T]

    explicit TokenBatch(std::span<const SequenceChunk> batch);
    int64_t size() const { return int64_t(tokens.size()); }
    // The rows whose logits are wanted: every token, or the last of each chunk.
    std::vector<int64_t> logit_rows(LogitsFor which) const;
};

}  // namespace mariana
