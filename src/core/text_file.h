// Reading and writing a text file (configs, manifests, metrics, data) whole, with one clear
// error naming the path.
#pragma once

#include <string>
#include <string_view>

namespace mariana {

// The file's bytes; throws Error naming the path when it cannot be opened or read.
std::string read_text_file(const std::string& path);

// Creates or truncates `path` and writes `text`; throws Error naming the path on failure.
void write_text_file(const std::string& path, std::string_view text);

}  // namespace mariana
