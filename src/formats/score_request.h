// One line of `mariana score`'s JSON Lines input, turned into the token ids to run and the
// first one to score:
//   {"text": "..."}                        the text's ids, BOS added as the tokenizer's config says
//                                          (transformers' add_special_tokens=True); every token
//                                          after the first is scored
//   {"prompt": "...", "completion": "..."} the ids of prompt + completion, encoded as one text
//                                          (BOS as above); only the completion's tokens are
//                                          scored: those after the longest run of ids that the
//                                          whole text's encoding shares with the prompt's alone
//                                          (a token spanning the boundary counts as completion)
//   {"ids": [...]}                         the ids as given, nothing added; all but the first scored
#pragma once

#include "core/json.h"
#include "formats/tokenizer/tokenizer.h"

#include <cstdint>
#include <vector>

namespace mariana {

struct ScoreRequest {
    std::vector<int32_t> tokens;
    int64_t first_scored = 1;  // tokens[first_scored..] are scored, each given those before it
};

// `fields` names the line in errors ("input.jsonl line 3"). tokenizer may be null when the
// model has none (then only "ids" lines work). Throws Error, naming the line and field, for a
// line that is not one of the three forms, an id outside [0, vocab_size), fewer than 2 tokens,
// no completion tokens, or more than max_tokens tokens.
ScoreRequest parse_score_request(const JsonFields& fields, const Tokenizer* tokenizer, int64_t vocab_size,
                                 int64_t max_tokens);

}  // namespace mariana
