// What `add_special_tokens` puts around the ids of one sequence: tokenizer.json's
// "post_processor" (TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing,
// Sequence), unless tokenizer_config.json asks for transformers' override: its
// LlamaTokenizerFast (DeepSeek-V3/R1, R1-Distill-Qwen) rebuilds the template from
// add_bos_token / add_eos_token, so DeepSeek gets a BOS that tokenizer.json never adds.
#pragma once

#include "core/json.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mariana {

struct SpecialTokensAround {
    std::vector<int32_t> prefix, suffix;
};

// `lookup` finds the id of a token by its content. Throws Error naming `what` for an
// unsupported processor or a token it cannot find.
SpecialTokensAround parse_post_processor(const Json& spec, const Json& config,
                                         const std::function<std::optional<int32_t>(std::string_view)>& lookup,
                                         const std::string& what);

// A special token's content from tokenizer_config.json, written either as a string or as
// {"__type": "AddedToken", "content": ...}; nothing when absent or null.
std::optional<std::string> config_token(const Json& config, const char* key);

}  // namespace mariana
