#include "formats/jinja/json_dump.h"

#include "core/error.h"
#include "formats/jinja/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mariana::jinja {

namespace {

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii)
{
    out += '"';
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t start = pos;
        const char32_t c = next_code_point(s, pos);
        switch (c) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        case '\b': out += "\\b"; continue;
        case '\f': out += "\\f"; continue;
        default: break;
        }
        if (c < 0x20) {
            out += fmt::format("\\u{:04x}", unsigned(c));
        } else if (ensure_ascii && c >= 0x80) {
            if (c >= 0x10000) {  // a UTF-16 surrogate pair, as Python writes it
                const char32_t v = c - 0x10000;
                out += fmt::format("\\u{:04x}\\u{:04x}", unsigned(0xD800 + (v >> 10)), unsigned(0xDC00 + (v & 0x3FF)));
            } else {
                out += fmt::format("\\u{:04x}", unsigned(c));
            }
        } else {
            out.append(s.substr(start, pos - start));
        }
    }
    out += '"';
}

std::string json_float(double x)
{
    if (std::isnan(x)) return "NaN";
    if (std::isinf(x)) return x < 0 ? "-Infinity" : "Infinity";
    return float_repr(x);
}

// json.dumps converts non-string keys: 1 → "1", 1.5 → "1.5", True → "true", None → "null".
std::string json_key(const Value& key)
{
    switch (key.kind()) {
    case Kind::String: return key.as_string();
    case Kind::Int: return std::to_string(key.as_int());
    case Kind::Float: return json_float(key.as_float());
    case Kind::Bool: return key.as_bool() ? "true" : "false";
    case Kind::None: return "null";
    default: fail("keys must be str, int, float, bool or None, not {}", type_name(key));
    }
}

class Writer {
public:
    explicit Writer(const JsonDumpOptions& options) : o_(options) {}

    void write(const Value& v, int depth)
    {
        if (depth > kMaxValueDepth) fail("tojson: data nested more than {} levels deep", kMaxValueDepth);
        if (out.size() > o_.max_bytes) fail("tojson: text longer than the limit of {} bytes", o_.max_bytes);
        switch (v.kind()) {
        case Kind::None: out += "null"; return;
        case Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
        case Kind::Int: out += std::to_string(v.as_int()); return;
        case Kind::Float: out += json_float(v.as_float()); return;
        case Kind::String: append_json_string(out, v.as_string(), o_.ensure_ascii); return;
        case Kind::List: {
            const auto& items = v.as_list().items;
            if (items.empty()) {
                out += "[]";
                return;
            }
            out += '[';
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += o_.item_separator;
                newline(depth + 1);
                write(items[i], depth + 1);
            }
            newline(depth);
            out += ']';
            return;
        }
        case Kind::Dict: {
            std::vector<const std::pair<Value, Value>*> entries;
            for (const auto& e : v.as_dict().entries) entries.push_back(&e);
            if (entries.empty()) {
                out += "{}";
                return;
            }
            if (o_.sort_keys)
                std::stable_sort(entries.begin(), entries.end(),
                                 [](const auto* a, const auto* b) { return less_than(a->first, b->first); });
            out += '{';
            for (size_t i = 0; i < entries.size(); ++i) {
                if (i) out += o_.item_separator;
                newline(depth + 1);
                append_json_string(out, json_key(entries[i]->first), o_.ensure_ascii);
                out += o_.key_separator;
                write(entries[i]->second, depth + 1);
            }
            newline(depth);
            out += '}';
            return;
        }
        default: fail("Object of type {} is not JSON serializable", type_name(v));
        }
    }

    std::string out;

private:
    void newline(int depth)
    {
        if (!o_.indent) return;
        out += '\n';
        for (int i = 0; i < depth; ++i) out += *o_.indent;
    }

    const JsonDumpOptions& o_;
};

}  // namespace

std::string to_json_text(const Value& value, const JsonDumpOptions& options)
{
    Writer w(options);
    w.write(value, 0);
    if (w.out.size() > options.max_bytes) fail("tojson: text longer than the limit of {} bytes", options.max_bytes);
    return std::move(w.out);
}

}  // namespace mariana::jinja
