// Reading JSON documents (config.json, index files, argument files) with errors that name
// the file and the field, instead of nlohmann's generic type errors.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace mariana {

using Json = nlohmann::json;

// Parses a whole file; throws Error naming the file (and the parser's position) on failure.
Json read_json_file(const std::string& path);
Json parse_json(std::string_view text, std::string_view what);
// The same keeping objects' keys in the order written (chat templates' tojson prints them so).
nlohmann::ordered_json parse_ordered_json(std::string_view text, std::string_view what);

// A short description of a value for an error message: numbers and short strings as JSON,
// long strings cut, lists and objects by their size only. Never recurses into the value, so
// hostile input (a list nested a million deep, megabytes of text) cannot blow up the message.
std::string json_summary(const Json& value);

// A JSON object together with where it came from, for messages like
// "config.json: field 'hidden_size' must be an integer, got string".
class JsonFields {
public:
    JsonFields(const Json& object, std::string source);

    bool has(std::string_view key) const;  // present and not null
    int64_t integer(std::string_view key) const;
    int64_t integer_or(std::string_view key, int64_t fallback) const;
    double number(std::string_view key) const;
    double number_or(std::string_view key, double fallback) const;
    bool boolean_or(std::string_view key, bool fallback) const;
    std::string string(std::string_view key) const;
    std::string string_or(std::string_view key, std::string fallback) const;
    JsonFields object(std::string_view key) const;
    const Json& raw(std::string_view key) const;
    const std::string& source() const { return source_; }

    [[noreturn]] void fail_field(std::string_view key, std::string_view problem) const;

private:
    const Json& require(std::string_view key) const;

    const Json& object_;
    std::string source_;
};

}  // namespace mariana
