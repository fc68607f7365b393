// What one forward runs over: chunks of sequences, each at its own position in its own
// cache slot, flattened to tokens, so projections run once over all tokens and attention
// per chunk.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mariana {

// New tokens of one sequence: they take positions start_pos.. in the sequence's cache pages
// and attend to everything before them in those pages. `pages` is the sequence's page table
// (model/kv_cache.h), covering at least start_pos + tokens positions; no two chunks of a
// batch may write to one page. A chunk of a prompt whose logits nobody reads (not the
// prompt's last) sets wants_logits false: LogitsFor::last_token then skips it.
struct SequenceChunk {
    std::span<const int32_t> pages;
    int64_t start_pos = 0;
    std::span<const int32_t> tokens;
    bool wants_logits = true;
};

enum class LogitsFor { all_tokens, last_token };

struct TokenBatch {
    std::span<const SequenceChunk> chunks;
    std::vector<int64_t> chunk_begin;  // [chunks + 1]: chunk c has tokens [begin[c], begin[c+1])
    std::vector<int32_t> tokens;       // [T]
    std::vector<int64_t> positions;    // [T]

    explicit TokenBatch(std::span<const SequenceChunk> batch);
    int64_t size() const { return int64_t(tokens.size()); }
    int64_t chunk_size(size_t c) const { return chunk_begin[c + 1] - chunk_begin[c]; }
    // The rows whose logits are wanted: every token, or the last of each chunk that wants
    // them.
    std::vector<int64_t> logit_rows(LogitsFor which) const;
    // The length of every chunk of a batch whose chunks all start at position 0 with one
    // length (sequences that attend only within themselves, as training runs them). Error
    // for any other batch.
    int64_t uniform_length() const;
};

}  // namespace mariana
