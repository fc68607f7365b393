// The `tojson` filter as transformers defines it: Python's json.dumps(x, ensure_ascii=False)
// by default (separators ", " and ": ", keys in insertion order, non-ASCII written as is),
// with json.dumps' indent, separators, sort_keys and ensure_ascii options.
#pragma once

#include "formats/jinja/value.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace mariana::jinja {

struct JsonDumpOptions {
    std::optional<std::string> indent;  // per level; set: newlines between items, as json.dumps(indent=...)
    std::string item_separator = ", ";  // json.dumps uses "," instead when indent is set
    std::string key_separator = ": ";
    bool sort_keys = false;
    bool ensure_ascii = false;
    size_t max_bytes = SIZE_MAX;  // an error once the text grows beyond this
};

// Throws mariana::Error for what json.dumps rejects ("Object of type Undefined is not JSON
// serializable") and for nesting deeper than kMaxValueDepth.
std::string to_json_text(const Value& value, const JsonDumpOptions& options);

}  // namespace mariana::jinja
