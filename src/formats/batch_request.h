// One line of `mariana batch`'s JSON Lines input:
//   {"messages": [...]}  a conversation, rendered with the model's chat template and its
//                        generation prompt ("tools" and "template_kwargs" as in
//                        chat-template's input)
//   {"prompt": "..."}    raw text, encoded with the tokenizer's BOS
// with optional sampling fields under OpenAI's names: "temperature" (>= 0), "top_p" (in
// (0, 1]), "max_tokens" (>= 1), "stop" (a string or a list of up to 16), "seed" (>= 0) and
// "n" (samples, 1 to 1024). Any other field is kept and written back with the output.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mariana {

struct BatchRequest {
    nlohmann::ordered_json input;  // the line as written, fields in order
    std::optional<std::string> prompt;
    nlohmann::ordered_json messages, tools, template_kwargs;  // with no prompt
    std::optional<double> temperature, top_p;
    std::optional<int64_t> max_tokens, n;
    std::optional<uint64_t> seed;
    std::optional<std::vector<std::string>> stop;
};

// Throws Error starting with `where` ("input.jsonl line 3") and naming the field for
// invalid JSON, a line that is not an object, one with neither or both of "messages" and
// "prompt", or a field of the wrong type or range. Messages never quote a string value.
BatchRequest parse_batch_request(std::string_view line, std::string_view where);

}  // namespace mariana
