#include "formats/jinja/value.h"

#include "core/error.h"
#include "formats/jinja/text.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cmath>
#include <fmt/format.h>

namespace mariana::jinja {

int nesting_depth(const Value& v)
{
    if (v.is_list()) return v.as_list().depth;
    if (v.is_dict()) return v.as_dict().depth();
    return 0;
}

ListPtr make_list(std::vector<Value> items, bool is_tuple)
{
    auto l = std::make_shared<List>();
    for (const Value& item : items) l->depth = std::max(l->depth, nesting_depth(item) + 1);
    if (l->depth > kMaxValueDepth) fail("values nested more than {} levels deep", kMaxValueDepth);
    l->items = std::move(items);
    l->is_tuple = is_tuple;
    return l;
}

Value Value::list(std::vector<Value> items, bool is_tuple) { return Value(make_list(std::move(items), is_tuple)); }

const std::string& Value::undefined_hint() const
{
    static const std::string kNoHint = "value is undefined";
    const auto& u = std::get<UndefinedValue>(v_);
    return u.hint ? *u.hint : kNoHint;
}

const void* Value::identity() const
{
    switch (kind()) {
    case Kind::Namespace: return std::get<Namespace*>(v_);
    case Kind::Callable: return std::get<CallablePtr>(v_).get();
    case Kind::Loop: return std::get<LoopPtr>(v_).get();
    case Kind::List: return std::get<ListPtr>(v_).get();
    case Kind::Dict: return std::get<DictPtr>(v_).get();
    case Kind::String: return std::get<StringPtr>(v_).get();
    default: return nullptr;
    }
}

const Value* Dict::find(std::string_view key) const
{
    const auto it = string_index_.find(key);
    return it == string_index_.end() ? nullptr : &entries[it->second].second;
}

const Value* Dict::find(const Value& key) const
{
    if (key.is_string()) return find(std::string_view(key.as_string()));
    for (const auto& [k, v] : entries)
        if (!k.is_string() && equals(k, key)) return &v;
    return nullptr;
}

void Dict::set(Value key, Value value)
{
    depth_ = std::max({depth_, nesting_depth(key) + 1, nesting_depth(value) + 1});
    if (depth_ > kMaxValueDepth) fail("values nested more than {} levels deep", kMaxValueDepth);
    if (key.is_string()) {
        const auto it = string_index_.find(std::string_view(key.as_string()));
        if (it != string_index_.end()) {
            entries[it->second].second = std::move(value);
            return;
        }
        string_index_.emplace(key.as_string(), entries.size());
    } else {
        for (auto& [k, v] : entries)
            if (!k.is_string() && equals(k, key)) {
                v = std::move(value);
                return;
            }
    }
    entries.emplace_back(std::move(key), std::move(value));
}

const Value* Namespace::find(std::string_view name) const
{
    for (const auto& [k, v] : attributes)
        if (k == name) return &v;
    return nullptr;
}

void Namespace::set(const std::string& name, Value value)
{
    for (auto& [k, v] : attributes)
        if (k == name) {
            v = std::move(value);
            return;
        }
    attributes.emplace_back(name, std::move(value));
}

std::string_view type_name(const Value& v)
{
    switch (v.kind()) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return v.as_list().is_tuple ? "tuple" : "list";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Callable: return v.as_callable().type == Callable::Type::Macro ? "Macro" : "function";
    case Kind::Loop: return "LoopContext";
    }
    return "object";
}

bool truthy(const Value& v)
{
    switch (v.kind()) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return v.as_bool();
    case Kind::Int: return v.as_int() != 0;
    case Kind::Float: return v.as_float() != 0.0;
    case Kind::String: return !v.as_string().empty();
    case Kind::List: return !v.as_list().items.empty();
    case Kind::Dict: return !v.as_dict().entries.empty();
    default: return true;
    }
}

namespace {

void check_depth(int depth)
{
    if (depth > kMaxValueDepth) fail("values nested more than {} levels deep", kMaxValueDepth);
}

// Python compares int and float exactly (2**53 + 1 != 2.0**53).
int compare_numbers(const Value& a, const Value& b)
{
    if (!a.is_float() && !b.is_float()) {
        const int64_t x = a.as_integer(), y = b.as_integer();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_float() && b.is_float()) {
        const double x = a.as_float(), y = b.as_float();
        return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;  // 2: unordered (NaN)
    }
    const bool a_float = a.is_float();
    const double f = a_float ? a.as_float() : b.as_float();
    const int64_t i = a_float ? b.as_integer() : a.as_integer();
    if (std::isnan(f)) return 2;
    int result;  // sign of (f - i)
    if (f >= 9223372036854775808.0) result = 1;
    else if (f < -9223372036854775808.0) result = -1;
    else {
        const double t = std::trunc(f);
        const int64_t ti = static_cast<int64_t>(t);
        result = ti < i ? -1 : ti > i ? 1 : (f > t ? 1 : f < t ? -1 : 0);
    }
    return a_float ? result : -result;
}

}  // namespace

bool equals(const Value& a, const Value& b, int depth)
{
    check_depth(depth);
    if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.as_string() == b.as_string();
    case Kind::List: {
        const List& x = a.as_list();
        const List& y = b.as_list();
        if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
        if (&x == &y) return true;
        for (size_t i = 0; i < x.items.size(); ++i)
            if (!equals(x.items[i], y.items[i], depth + 1)) return false;
        return true;
    }
    case Kind::Dict: {
        const Dict& x = a.as_dict();
        const Dict& y = b.as_dict();
        if (x.entries.size() != y.entries.size()) return false;
        if (&x == &y) return true;
        for (const auto& [k, v] : x.entries) {
            const Value* other = y.find(k);
            if (!other || !equals(v, *other, depth + 1)) return false;
        }
        return true;
    }
    case Kind::Callable: {
        const Callable& x = a.as_callable();
        const Callable& y = b.as_callable();
        return &x == &y || (x.type == y.type && x.name == y.name && x.macro == y.macro && x.type != Callable::Type::Method &&
                            x.type != Callable::Type::LoopCycle);
    }
    default: return a.identity() == b.identity();
    }
}

bool less_than(const Value& a, const Value& b, std::string_view op, bool swapped, int depth)
{
    check_depth(depth);
    if (a.is_undefined()) fail("{}", a.undefined_hint());
    if (b.is_undefined()) fail("{}", b.undefined_hint());
    if (a.is_number() && b.is_number()) return compare_numbers(a, b) == -1;
    if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();  // UTF-8 byte order = code point order
    if (a.is_list() && b.is_list() && a.as_list().is_tuple == b.as_list().is_tuple) {
        const auto& x = a.as_list().items;
        const auto& y = b.as_list().items;
        for (size_t i = 0; i < x.size() && i < y.size(); ++i)
            if (!equals(x[i], y[i], depth + 1)) return less_than(x[i], y[i], op, swapped, depth + 1);
        return x.size() < y.size();
    }
    fail("'{}' not supported between instances of '{}' and '{}'", op, type_name(swapped ? b : a), type_name(swapped ? a : b));
}

std::string float_repr(double x)
{
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
    if (x == 0.0) return std::signbit(x) ? "-0.0" : "0.0";
    // Shortest round-trip digits, as Python's repr picks them, then Python's layout.
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
    const std::string_view sci(buf, size_t(result.ptr - buf));
    std::string out;
    size_t i = 0;
    if (sci[i] == '-') out += '-', ++i;
    std::string digits;
    for (; i < sci.size() && sci[i] != 'e'; ++i)
        if (sci[i] != '.') digits += sci[i];
    const int exponent = std::atoi(std::string(sci.substr(i + 1)).c_str());
    const int decpt = exponent + 1;  // position of the decimal point relative to the digits
    const int n = int(digits.size());
    if (decpt <= -4 || decpt > 16) {
        out += digits[0];
        if (n > 1) out += '.', out += digits.substr(1);
        out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
    } else if (decpt <= 0) {
        out += "0." + std::string(size_t(-decpt), '0') + digits;
    } else if (decpt < n) {
        out += digits.substr(0, size_t(decpt)) + "." + digits.substr(size_t(decpt));
    } else {
        out += digits + std::string(size_t(decpt - n), '0') + ".0";
    }
    return out;
}

std::string repr_string(std::string_view s)
{
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t start = pos;
        const char32_t c = next_code_point(s, pos);
        if (c == '\\') out += "\\\\";
        else if (c == char32_t(quote)) out += '\\', out += quote;
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (!is_printable(c)) {
            if (c < 0x100) out += fmt::format("\\x{:02x}", unsigned(c));
            else if (c < 0x10000) out += fmt::format("\\u{:04x}", unsigned(c));
            else out += fmt::format("\\U{:08x}", unsigned(c));
        } else {
            out.append(s.substr(start, pos - start));
        }
    }
    out += quote;
    return out;
}

namespace {

// Builds str()/repr() text, failing as soon as it outgrows max_bytes (a list holding the
// same long string a million times must not be printed into memory first).
struct ReprWriter {
    std::string out;
    size_t max_bytes;

    void append(std::string_view s)
    {
        if (out.size() + s.size() > max_bytes) fail("text longer than the limit of {} bytes", max_bytes);
        out += s;
    }
    void append(char c) { append(std::string_view(&c, 1)); }
};

void append_repr(ReprWriter& out, const Value& v, int depth);

void append_str(ReprWriter& out, const Value& v, int depth)
{
    switch (v.kind()) {
    case Kind::Undefined: return;
    case Kind::String: out.append(v.as_string()); return;
    default: append_repr(out, v, depth);
    }
}

void append_repr(ReprWriter& out, const Value& v, int depth)
{
    check_depth(depth);
    switch (v.kind()) {
    case Kind::Undefined: out.append("Undefined"); return;
    case Kind::None: out.append("None"); return;
    case Kind::Bool: out.append(v.as_bool() ? "True" : "False"); return;
    case Kind::Int: out.append(std::to_string(v.as_int())); return;
    case Kind::Float: out.append(float_repr(v.as_float())); return;
    case Kind::String: out.append(repr_string(v.as_string())); return;
    case Kind::List: {
        const List& l = v.as_list();
        out.append(l.is_tuple ? '(' : '[');
        for (size_t i = 0; i < l.items.size(); ++i) {
            if (i) out.append(", ");
            append_repr(out, l.items[i], depth + 1);
        }
        if (l.is_tuple && l.items.size() == 1) out.append(',');
        out.append(l.is_tuple ? ')' : ']');
        return;
    }
    case Kind::Dict: {
        out.append('{');
        bool first = true;
        for (const auto& [k, val] : v.as_dict().entries) {
            if (!first) out.append(", ");
            first = false;
            append_repr(out, k, depth + 1);
            out.append(": ");
            append_repr(out, val, depth + 1);
        }
        out.append('}');
        return;
    }
    case Kind::Namespace: {
        out.append("<Namespace {");
        bool first = true;
        for (const auto& [k, val] : v.as_namespace().attributes) {
            if (!first) out.append(", ");
            first = false;
            out.append(repr_string(k) + ": ");
            append_repr(out, val, depth + 1);
        }
        out.append("}>");
        return;
    }
    case Kind::Callable: {
        const Callable& c = v.as_callable();
        if (c.type == Callable::Type::Macro) out.append(fmt::format("<Macro '{}'>", c.name));
        else if (c.type == Callable::Type::Global) out.append(fmt::format("<function {}>", c.name));
        else out.append(fmt::format("<built-in method {} of {} object>", c.name, type_name(c.self)));
        return;
    }
    case Kind::Loop: {
        const LoopState& l = v.as_loop();
        out.append(fmt::format("<LoopContext {}/{}>", l.index + 1, l.items->items.size()));
        return;
    }
    }
}

}  // namespace

std::string to_str(const Value& v, size_t max_bytes)
{
    ReprWriter w{{}, max_bytes};
    append_str(w, v, 0);
    return std::move(w.out);
}

std::string to_repr(const Value& v, size_t max_bytes)
{
    ReprWriter w{{}, max_bytes};
    append_repr(w, v, 0);
    return std::move(w.out);
}

namespace {

Value from_json_at(const nlohmann::ordered_json& j, int depth)
{
    if (depth > kMaxValueDepth) fail("JSON data nested more than {} levels deep", kMaxValueDepth);
    using T = nlohmann::ordered_json::value_t;
    switch (j.type()) {
    case T::null: return Value::none();
    case T::boolean: return Value::boolean(j.get<bool>());
    case T::number_integer: return Value::integer(j.get<int64_t>());
    case T::number_unsigned: {
        const uint64_t u = j.get<uint64_t>();
        if (u > uint64_t(INT64_MAX)) fail("JSON integer {} is too large (the limit is 2^63 - 1)", u);
        return Value::integer(int64_t(u));
    }
    case T::number_float: return Value::number(j.get<double>());
    case T::string: return Value::string(j.get<std::string>());
    case T::array: {
        std::vector<Value> items;
        items.reserve(j.size());
        for (const auto& item : j) items.push_back(from_json_at(item, depth + 1));
        return Value::list(std::move(items));
    }
    case T::object: {
        auto d = std::make_shared<Dict>();
        for (const auto& [key, item] : j.items()) d->set(Value::string(key), from_json_at(item, depth + 1));
        return Value::dict(std::move(d));
    }
    default: fail("unsupported JSON value (binary data)");
    }
}

}  // namespace

Value from_json(const nlohmann::ordered_json& json) { return from_json_at(json, 0); }

}  // namespace mariana::jinja
