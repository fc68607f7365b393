// Token id lists in JSON requests ({"ids": [...]} in detokenize, score and batch lines).
#pragma once

#include "core/json.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace mariana {

// fields[key] as token ids; Error naming the field and the first bad item when it is not a
// list of integers in [0, vocab_size).
std::vector<int32_t> read_token_ids(const JsonFields& fields, std::string_view key, int64_t vocab_size);

}  // namespace mariana
