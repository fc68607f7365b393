#include "core/json.h"

#include "core/error.h"
#include "core/text_file.h"

#include <cmath>
#include <limits>

namespace mariana {

Json read_json_file(const std::string& path)
{
    return parse_json(read_text_file(path), path);
}

std::string json_summary(const Json& value)
{
    constexpr size_t kLongest = 60;  // bytes of a string shown before "..."
    const auto count = [](size_t n, const char* noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); };
    if (value.is_array()) return "a list of " + count(value.size(), "item");
    if (value.is_object()) return "an object of " + count(value.size(), "field");
    if (value.is_string()) {
        const std::string& text = value.get_ref<const std::string&>();
        if (text.size() <= kLongest) return value.dump(-1, ' ', false, Json::error_handler_t::replace);
        return Json(text.substr(0, kLongest)).dump(-1, ' ', false, Json::error_handler_t::replace) + "...";
    }
    return value.dump();  // a number, true, false or null: short, and no nesting to recurse into
}

namespace {

template <typename Document>
Document parse_document(std::string_view text, std::string_view what)
{
    try {
        return Document::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        fail("{}: invalid JSON at byte {}", what, e.byte);
    } catch (const nlohmann::json::exception& e) {
        // The parser also throws out_of_range (406) for a number too large for a double,
        // such as 1e999; found by fuzz/safetensors_fuzzer, and again by chat_request_fuzzer
        // where a reader caught parse errors only.
        fail("{}: invalid JSON: {}", what, e.what());
    }
}

}  // namespace

Json parse_json(std::string_view text, std::string_view what) { return parse_document<Json>(text, what); }

nlohmann::ordered_json parse_ordered_json(std::string_view text, std::string_view what)
{
    return parse_document<nlohmann::ordered_json>(text, what);
}

JsonFields::JsonFields(const Json& object, std::string source) : object_(object), source_(std::move(source))
{
    if (!object_.is_object()) fail("{}: expected a JSON object, got {}", source_, object_.type_name());
}

void JsonFields::fail_field(std::string_view key, std::string_view problem) const
{
    fail("{}: field '{}' {}", source_, key, problem);
}

bool JsonFields::has(std::string_view key) const
{
    const auto it = object_.find(key);
    return it != object_.end() && !it->is_null();
}

const Json& JsonFields::require(std::string_view key) const
{
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) fail_field(key, "is missing");
    return *it;
}

const Json& JsonFields::raw(std::string_view key) const { return require(key); }

int64_t JsonFields::integer(std::string_view key) const
{
    const Json& value = require(key);
    // Above INT64_MAX nlohmann stores an unsigned integer, which get<int64_t> would wrap
    // to a negative number.
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        fail_field(key, fmt::format("is too large, got {}", json_summary(value)));
    if (value.is_number_integer()) return value.get<int64_t>();
    // Some exporters write integers as 2.0; accept those, reject 2.5.
    if (value.is_number_float()) {
        const double d = value.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return int64_t(d);
    }
    fail_field(key, fmt::format("must be an integer, got {}", json_summary(value)));
}

int64_t JsonFields::integer_or(std::string_view key, int64_t fallback) const
{
    return has(key) ? integer(key) : fallback;
}

double JsonFields::number(std::string_view key) const
{
    const Json& value = require(key);
    if (!value.is_number()) fail_field(key, fmt::format("must be a number, got {}", json_summary(value)));
    return value.get<double>();
}

double JsonFields::number_or(std::string_view key, double fallback) const
{
    return has(key) ? number(key) : fallback;
}

bool JsonFields::boolean_or(std::string_view key, bool fallback) const
{
    if (!has(key)) return fallback;
    const Json& value = require(key);
    if (!value.is_boolean()) fail_field(key, fmt::format("must be true or false, got {}", json_summary(value)));
    return value.get<bool>();
}

std::string JsonFields::string(std::string_view key) const
{
    const Json& value = require(key);
    if (!value.is_string()) fail_field(key, fmt::format("must be a string, got {}", json_summary(value)));
    return value.get<std::string>();
}

std::string JsonFields::string_or(std::string_view key, std::string fallback) const
{
    return has(key) ? string(key) : fallback;
}

JsonFields JsonFields::object(std::string_view key) const
{
    const Json& value = require(key);
    if (!value.is_object()) fail_field(key, fmt::format("must be an object, got {}", json_summary(value)));
    return JsonFields(value, fmt::format("{} ({})", source_, key));
}

}  // namespace mariana
