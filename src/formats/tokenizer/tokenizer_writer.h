// Writing a trained BPE as Hugging Face files (tokenizer.json + tokenizer_config.json) laid
// out like DeepSeek-R1's: the DeepSeek-V3 pre-tokenizer, byte-level vocabulary and merges,
// R1's special tokens and an R1-style chat template. docs/tokenizer_training.md has the
// layout; Tokenizer::load, transformers and the JavaScript ports read the result.
//
// Ids: the special tokens are 0-6 (BOS 0 and EOS 1 as in DeepSeek's files), then the 256
// single bytes in byte order (byte b is id 7 + b), then the merged tokens in the order they
// were learned. The special tokens are also model.vocab entries, as Hugging Face's trainer
// writes them, so the vocabulary has no holes.
#pragma once

#include "formats/tokenizer/bpe_trainer.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mariana {

struct TrainedSpecialToken {
    std::string_view content;
    bool special;     // skipped by decode(skip_special_tokens); R1 keeps User/Assistant/think
    bool normalized;  // as DeepSeek's files mark them (the normalizer is empty: no effect)
};

// Index = id.
inline constexpr std::array<TrainedSpecialToken, 7> kTrainedSpecialTokens = {{
    {"<｜begin▁of▁sentence｜>", true, false},
    {"<｜end▁of▁sentence｜>", true, false},
    {"<｜▁pad▁｜>", true, false},
    {"<｜User｜>", false, true},
    {"<｜Assistant｜>", false, true},
    {"<think>", false, false},
    {"</think>", false, false},
}};
inline constexpr int32_t kTrainedBosId = 0, kTrainedEosId = 1, kTrainedPadId = 2;

// The special tokens' contents, to keep them out of the training text (WordCounter).
std::vector<std::string> trained_special_token_contents();

// The chat template written into tokenizer_config.json (see docs/tokenizer_training.md).
const std::string& trained_chat_template();

// The two files' contents, keys in Hugging Face's order.
nlohmann::ordered_json trained_tokenizer_json(const BpeModel& model);
nlohmann::ordered_json trained_tokenizer_config(int64_t model_max_length);

struct TokenizerWriteOptions {
    int64_t model_max_length = 131072;
};

// Writes DIR/tokenizer.json and DIR/tokenizer_config.json. DIR must not exist or be empty;
// the files are written into DIR.partial, which is renamed to DIR only when complete (and
// removed on failure), so DIR never holds half a tokenizer.
void write_trained_tokenizer(const BpeModel& model, const std::string& dir, const TokenizerWriteOptions& options);

}  // namespace mariana
