// Reads tokenizer.json with its two large members streamed into flat lists: model.vocab
// (128k entries for DeepSeek-V3) and model.merges would otherwise become a DOM of a few
// hundred thousand nodes that is built, walked once and freed, which took most of the
// load time. Everything else (normalizer, pre_tokenizer, added_tokens, ...) stays JSON.
#pragma once

#include "core/json.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mariana {

struct TokenizerJson {
    // The document, with model.vocab and model.merges left as an empty object and an empty
    // list when they were read into the lists below (so shape checks still see their type).
    Json document;
    std::vector<std::pair<std::string, int64_t>> vocab;           // token text, id; file order
    std::vector<std::pair<std::string, std::string>> merges;      // left, right as written; rank order
};

// Throws Error naming `path` for invalid JSON, a vocab value that is not an integer, or a
// merge that is neither "a b" nor ["a", "b"].
TokenizerJson read_tokenizer_json(const std::string& path);
TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& what);

}  // namespace mariana
