// Training data: every source turned once into one stream of token ids, a file of
// little-endian uint32 (the documented pre-tokenized format), memory-mapped and cut into
// windows of length + 1 tokens. Sources, by file name:
//   *.bin   pre-tokenized little-endian uint32 ids, copied as they are (documents are
//           expected to be separated by EOS already);
//   *.jsonl one JSON object per line, whose "text" field is one document;
//   others  plain UTF-8 text, the whole file one document.
// Text is tokenized line by line as it streams in (with the tokenizer's special tokens,
// e.g. BOS), and EOS follows every document. Nothing is held in memory whole.
#pragma once

#include "core/mapped_file.h"
#include "formats/tokenizer/tokenizer.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mariana::train {

struct DataSpec {
    std::vector<std::string> sources;
    int64_t vocab_size = 0;              // every id must be below it
    int32_t eos = -1;                    // appended after each text document
    const Tokenizer* tokenizer = nullptr;  // needed only for text and JSONL sources
};

// Writes the token stream of `spec` to `path` (through a temporary file renamed at the
// end). Throws Error naming the source file, and its line or byte offset, on bad input.
void write_token_stream(const DataSpec& spec, const std::string& path);

// The windows of a token stream: the last `val_fraction` of it is held out for
// validation; the rest is cut into windows starting every `length` tokens, visited in a
// fresh seeded shuffle each epoch. The order is a pure function of (seed, index), so a
// resumed run continues with exactly the windows the interrupted one would have read.
class TokenWindows {
public:
    TokenWindows(const std::string& stream_path, int64_t length, double val_fraction, uint64_t seed);

    int64_t tokens() const { return int64_t(ids_.size()); }
    int64_t train_windows() const { return train_windows_; }
    int64_t val_windows() const { return val_windows_; }

    // Training windows index .. index + count - 1 of the endless shuffled sequence, each
    // length + 1 ids, into out.
    void train_batch(int64_t index, int64_t count, int32_t* out);
    // Validation window i (of val_windows()).
    void val_window(int64_t i, int32_t* out) const;

private:
    void copy_window(int64_t start, int32_t* out) const;

    MappedFile file_;
    std::span<const uint32_t> ids_;
    int64_t length_;
    uint64_t seed_;
    int64_t train_windows_ = 0, val_begin_ = 0, val_windows_ = 0;
    int64_t epoch_ = -1;
    std::vector<int64_t> order_;  // the current epoch's window order
};

}  // namespace mariana::train
