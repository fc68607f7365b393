// Writing a small text file (configs, manifests, metrics) whole, with one clear error.
#pragma once

#include <string>
#include <string_view>

namespace mariana {

// Creates or truncates `path` and writes `text`; throws Error naming the path on failure.
void write_text_file(const std::string& path, std::string_view text);

}  // namespace mariana
