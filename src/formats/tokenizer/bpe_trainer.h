// Learning a byte-level BPE from text, as Hugging Face's BpeTrainer does for a ByteLevel
// tokenizer: cut the text into pieces with the DeepSeek-V3 pre-tokenizer, count each
// distinct piece ("word"), start from the 256 single bytes, then repeatedly merge the most
// frequent adjacent pair of tokens, counted over all words weighted by their frequency,
// until the vocabulary has the size asked for.
//
// Two steps, so a corpus never has to be in memory at once:
//   WordCounter counter(reserved);
//   counter.add(documents, pool);  // as often as needed, e.g. per batch read from a file
//   const BpeModel model = train_bpe(counter.counts(), {.vocab_size = 8000});
//
// Ties between pairs of equal count go to the pair whose (left bytes, right bytes) is
// lexicographically smallest, so the result depends only on the word counts: the same text
// gives the same merges in any order, with any number of threads.
#pragma once

#include "core/json.h"
#include "core/thread_pool.h"
#include "formats/tokenizer/pre_tokenizer.h"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mariana {

// DeepSeek-V3's tokenizer.json "pre_tokenizer", verbatim and in the file's key order: three
// Split steps (numbers in threes, CJK/kana runs, the word/punctuation/space pattern) and a
// ByteLevel step.
const nlohmann::ordered_json& deepseek_v3_pre_tokenizer();

// Word frequencies keyed by the word's raw bytes; looked up by string_view without a copy.
struct WordHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using WordCounts = std::unordered_map<std::string, int64_t, WordHash, std::equal_to<>>;

// Distinct pre-tokenized pieces of the text seen so far, with their frequencies.
class WordCounter {
public:
    // `reserved` strings (the special tokens) are cut out of every document before it is
    // pre-tokenized, as Hugging Face cuts added tokens out of training text: no merge is
    // ever learned across or inside them.
    explicit WordCounter(std::vector<std::string> reserved);

    // Counts the pieces of each document (valid UTF-8; pieces never cross documents).
    // Documents are shared out over the pool's threads; the caller must not call add()
    // from two threads at once. Memory grows with the distinct pieces, not the text.
    void add(std::span<const std::string> documents, ThreadPool& pool);

    const WordCounts& counts() const { return counts_; }
    int64_t total_pieces() const { return total_pieces_; }

private:
    void count_document(std::string_view document, std::unordered_map<std::string_view, int64_t>& counts,
                        std::vector<std::string_view>& pieces, std::deque<std::string>& arena) const;

    PreTokenizer pre_tokenizer_;
    std::vector<std::string> reserved_;
    std::array<bool, 256> starts_reserved_{};  // index: the first byte of a reserved string
    WordCounts counts_;
    int64_t total_pieces_ = 0;
};

struct BpeTrainerOptions {
    // Tokens to learn in all: the 256 single bytes plus one per new merged token.
    int64_t vocab_size = 0;
    // A pair seen fewer times than this is never merged (training may then stop short).
    int64_t min_frequency = 2;
};

struct BpeModel {
    // Token bytes by id: ids 0-255 are the single bytes in byte order, then the merged
    // tokens in the order they were learned.
    std::vector<std::string> tokens;
    // Merges in rank order as (left id, right id). A merge whose result already exists
    // ("ab"+"c" after "a"+"bc") would reuse that token, as Hugging Face's trainer does; no
    // such case has been found when words start as single bytes, so in practice there is
    // one merge per token after the first 256.
    std::vector<std::pair<int32_t, int32_t>> merges;
    // Why training stopped short of vocab_size ("" when it did not).
    std::string stopped_because;
};

// Learns the merges. Cost: O(total bytes of distinct words) to set up, then per merge
// O(size of the words that hold the pair + log of the queue); single-threaded.
BpeModel train_bpe(const WordCounts& word_counts, const BpeTrainerOptions& options);

}  // namespace mariana
