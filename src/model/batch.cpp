#include "model/batch.h"

#include "core/error.h"

namespace mariana {

TokenBatch::TokenBatch(std::span<const SequenceChunk> batch) : chunks(batch)
{
    chunk_begin.push_back(0);
    for (const SequenceChunk& chunk : batch) {
        for (size_t i = 0; i < chunk.tokens.size(); ++i) {
            tokens.push_back(chunk.tokens[i]);
            positions.push_back(chunk.start_pos + int64_t(i));
        }
        chunk_begin.push_back(int64_t(tokens.size()));
    }
}

std::vector<int64_t> TokenBatch::logit_rows(LogitsFor which) const
{
    std::vector<int64_t> rows;
    if (which == LogitsFor::all_tokens) {
        for (int64_t t = 0; t < size(); ++t) rows.push_back(t);
    } else {
        for (size_t c = 0; c < chunks.size(); ++c)
            if (chunks[c].wants_logits) rows.push_back(chunk_begin[c + 1] - 1);
    }
    return rows;
}

int64_t TokenBatch::uniform_length() const
{
    const int64_t length = chunks.empty() ? 0 : int64_t(chunks[0].tokens.size());
    for (const SequenceChunk& chunk : chunks)
        if (chunk.start_pos != 0 || int64_t(chunk.tokens.size()) != length)
            fail("without a KV cache, every sequence must start at position 0 and have one length");
    if (length == 0) fail("a batch without tokens");
    return length;
}

}  // namespace mariana
