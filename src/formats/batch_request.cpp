#include "formats/batch_request.h"

#include "core/error.h"
#include "core/json.h"

#include <cmath>

namespace mariana {

namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr int64_t kMaxSamples = 1024, kMaxStops = 16;

std::optional<double> number_field(const OrderedJson& input, const char* key, double low, double high, bool low_open)
{
    if (!input.contains(key) || input[key].is_null()) return std::nullopt;
    const OrderedJson& v = input[key];
    if (!v.is_number()) fail("field '{}' must be a number", key);
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < low || (low_open && x == low) || x > high)
        fail("field '{}' must be in {}{}, {}], got {}", key, low_open ? "(" : "[", low, high, x);
    return x;
}

std::optional<int64_t> integer_field(const OrderedJson& input, const char* key, int64_t low, int64_t high)
{
    if (!input.contains(key) || input[key].is_null()) return std::nullopt;
    const OrderedJson& v = input[key];
    if (v.is_number_unsigned()) {
        if (v.get<uint64_t>() > uint64_t(high)) fail("field '{}' must be at most {}", key, high);
        return int64_t(v.get<uint64_t>());
    }
    if (!v.is_number_integer()) fail("field '{}' must be an integer", key);
    const int64_t x = v.get<int64_t>();
    if (x < low || x > high) fail("field '{}' must be between {} and {}, got {}", key, low, high, x);
    return x;
}

void read_fields(BatchRequest& r);

}  // namespace

BatchRequest parse_batch_request(std::string_view line, std::string_view where)
{
    BatchRequest r;
    r.input = parse_ordered_json(line, where);
    try {
        read_fields(r);
    } catch (const Error& e) {
        fail("{}: {}", where, e.what());
    }
    return r;
}

namespace {

void read_fields(BatchRequest& r)
{
    const OrderedJson& in = r.input;
    if (!in.is_object()) fail("expected a JSON object");
    const bool messages = in.contains("messages"), prompt = in.contains("prompt");
    if (messages == prompt) fail("expected exactly one of \"messages\" (a conversation) and \"prompt\" (raw text)");
    if (prompt) {
        if (!in["prompt"].is_string()) fail("field 'prompt' must be a string");
        r.prompt = in["prompt"].get<std::string>();
    } else {
        if (!in["messages"].is_array() || in["messages"].empty()) fail("field 'messages' must be a non-empty list");
        r.messages = in["messages"];
        r.tools = in.contains("tools") ? in["tools"] : OrderedJson();
        if (!r.tools.is_null() && !r.tools.is_array()) fail("field 'tools' must be a list or null");
        r.template_kwargs = in.contains("template_kwargs") ? in["template_kwargs"] : OrderedJson::object();
        if (!r.template_kwargs.is_object()) fail("field 'template_kwargs' must be an object");
    }
    r.temperature = number_field(in, "temperature", 0.0, 100.0, false);
    r.top_p = number_field(in, "top_p", 0.0, 1.0, true);
    r.max_tokens = integer_field(in, "max_tokens", 1, INT32_MAX);
    r.n = integer_field(in, "n", 1, kMaxSamples);
    if (in.contains("seed") && !in["seed"].is_null()) {
        if (!in["seed"].is_number_unsigned()) fail("field 'seed' must be an integer >= 0");
        r.seed = in["seed"].get<uint64_t>();
    }
    if (in.contains("stop") && !in["stop"].is_null()) {
        const OrderedJson& stop = in["stop"];
        std::vector<std::string> stops;
        if (stop.is_string()) {
            stops.push_back(stop.get<std::string>());
        } else if (stop.is_array() && int64_t(stop.size()) <= kMaxStops) {
            for (const OrderedJson& s : stop) {
                if (!s.is_string()) fail("field 'stop' must be a string or a list of strings");
                stops.push_back(s.get<std::string>());
            }
        } else {
            fail("field 'stop' must be a string or a list of at most {} strings", kMaxStops);
        }
        for (const std::string& s : stops)
            if (s.empty()) fail("field 'stop' holds an empty string");
        r.stop = std::move(stops);
    }
}

}  // namespace
}  // namespace mariana
