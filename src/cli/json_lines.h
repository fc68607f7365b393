// JSON Lines in and out for the commands that read one request per line (tokenize,
// detokenize, score): each non-empty line one JSON object, errors naming the line.
#pragma once

#include "core/json.h"

#include <functional>
#include <istream>
#include <string>

namespace mariana {

// Calls `handle` with each non-empty line of `in` parsed as a JSON object; `source` names the
// input in errors ("stdin", a file name), which say "SOURCE line N: ...".
void for_each_json_line(std::istream& in, const std::string& source,
                        const std::function<void(const JsonFields&)>& handle);

// One object as one line on stdout, flushed, so a consumer sees each answer as it is made
// and an error later in the input loses none of them.
void print_json_line(const Json& output);

}  // namespace mariana
