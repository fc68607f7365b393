// Jinja2's built-in filters that chat templates use (jinja2/filters.py semantics), plus
// transformers' tojson (json.dumps with ensure_ascii=False). Filters that build sequences
// (map, select, unique, ...) return lists where Jinja2 returns generators; templates see
// the same items. Filters not listed here are a parse error ("unsupported filter").
#include "core/error.h"
#include "formats/jinja/interpreter.h"
#include "formats/jinja/json_dump.h"
#include "formats/jinja/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace mariana::jinja {

namespace {

using Filter = Value (*)(Interpreter&, const Value&, const CallArgs&);

std::string soft_str(Interpreter& in, const Value& v) { return in.to_text(v); }

// Jinja2's make_attrgetter: "a.b.0" looks up item-or-attribute a, then b, then index 0.
Value get_path(Interpreter& in, const Value& item, const std::string& path)
{
    Value v = item;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        const bool digits = !part.empty() && part.size() < 18 &&
                            std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        v = in.get_item(v, digits ? Value::integer(std::stoll(part)) : Value::string(part));
        if (dot == std::string::npos) return v;
        start = dot + 1;
    }
}

// Sort and uniqueness keys ignore case unless asked not to (Jinja2's ignore_case).
Value fold_case(const Value& v, bool case_sensitive)
{
    if (case_sensitive || !v.is_string()) return v;
    return Value::string(python_lower(v.as_string()));
}

std::vector<Value> keys_of(Interpreter& in, const std::vector<Value>& items, const Value* attribute, bool case_sensitive)
{
    std::vector<Value> keys;
    keys.reserve(items.size());
    for (const Value& item : items) {
        Value k = attribute && !attribute->is_none() ? get_path(in, item, in.to_text(*attribute)) : item;
        keys.push_back(fold_case(k, case_sensitive));
    }
    return keys;
}

// ---- strings ------------------------------------------------------------------------------

Value f_upper(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "upper", {});
    return in.make_string(python_upper(soft_str(in, v)));
}

Value f_lower(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "lower", {});
    return in.make_string(python_lower(soft_str(in, v)));
}

Value f_string(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "string", {});
    return v.is_string() ? v : in.make_string(soft_str(in, v));
}

Value f_safe(Interpreter& in, const Value& v, const CallArgs& args) { return f_string(in, v, args); }

Value f_trim(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "trim", {"chars"});
    CallArgs strip_args;
    if (a.has(0)) strip_args.positional.push_back(a[0]);
    return call_method(in, Value::string(soft_str(in, v)), "strip", strip_args);
}

Value f_string_method(Interpreter& in, const Value& v, const CallArgs& args, const char* method)
{
    return call_method(in, Value::string(soft_str(in, v)), method, args);
}
Value f_capitalize(Interpreter& in, const Value& v, const CallArgs& args) { return f_string_method(in, v, args, "capitalize"); }
Value f_center(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "center", {"width"});
    CallArgs c;
    c.positional.push_back(a.get(0, Value::integer(80)));
    return f_string_method(in, v, c, "center");
}

bool is_title_separator(char32_t c) { return is_python_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; }

// Jinja2's title filter is word[0].upper() + word[1:].lower() for the words between
// whitespace and -({[< (not str.title(), which also starts a word after digits or ').
// lower() sees only word[1:], so the final-sigma rule cannot look at the first letter.
Value f_title(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "title", {});
    const std::string s = soft_str(in, v);
    const std::string_view view = s;
    std::string out;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t next = pos;
        if (is_title_separator(next_code_point(s, next))) {
            out.append(view.substr(pos, next - pos));
            pos = next;
            continue;
        }
        size_t end = next;
        while (end < s.size()) {
            size_t p = end;
            if (is_title_separator(next_code_point(s, p))) break;
            end = p;
        }
        out += python_upper(view.substr(pos, next - pos));
        out += python_lower(view.substr(next, end - next));
        pos = end;
    }
    return in.make_string(std::move(out));
}

Value f_replace(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "replace", {"old", "new", "count"}, 2);
    CallArgs c;
    c.positional = {Value::string(soft_str(in, a[0])), Value::string(soft_str(in, a[1]))};
    if (a.has(2) && !a[2].is_none()) c.positional.push_back(a[2]);
    return call_method(in, Value::string(soft_str(in, v)), "replace", c);
}

Value f_escape(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "escape", {});
    const std::string s = soft_str(in, v);
    std::string out;
    for (const char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return in.make_string(std::move(out));
}

Value f_format(Interpreter& in, const Value& v, const CallArgs& args)
{
    if (!args.keyword.empty()) fail("keyword arguments (%(name)s formatting) are not supported");
    return in.make_string(percent_format(in, soft_str(in, v), Value::list(args.positional, true)));
}

Value f_indent(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "indent", {"width", "first", "blank"});
    const Value width = a.get(0, Value::integer(4));
    std::string indentation;
    if (width.is_string()) indentation = width.as_string();
    else {
        const int64_t n = require_int(width, "width");
        if (n > 10'000) fail("indent width {} is too large", n);
        indentation.assign(size_t(std::max<int64_t>(n, 0)), ' ');
    }
    const bool first = a.has(1) && truthy(a[1]), blank = a.has(2) && truthy(a[2]);
    // Jinja2's indent appends "\n" to its input without converting it first.
    if (v.is_undefined()) fail("{}", v.undefined_hint());
    if (!v.is_string()) fail("unsupported operand type(s) for +=: '{}' and 'str'", type_name(v));
    CallArgs none;
    const Value lines_value = call_method(in, Value::string(v.as_string() + "\n"), "splitlines", none);
    const auto& lines = lines_value.as_list().items;
    std::string out;
    const auto add = [&](std::string_view s) {
        if (out.size() + s.size() > in.limits().max_output_bytes) in.charge_bytes(out.size() + s.size());
        out += s;
    };
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i].as_string();
        if (i > 0) {
            add("\n");
            if (blank || !line.empty()) add(indentation);
        }
        add(line);
    }
    if (first) out.insert(0, indentation);
    return in.make_string(std::move(out));
}

Value f_truncate(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "truncate", {"length", "killwords", "end", "leeway"});
    const std::string s = soft_str(in, v);
    const int64_t length = a.has(0) ? require_int(a[0], "length") : 255;
    const bool killwords = a.has(1) && truthy(a[1]);
    const std::string end = a.has(2) ? soft_str(in, a[2]) : "...";
    const int64_t leeway = a.has(3) && !a[3].is_none() ? require_int(a[3], "leeway") : 5;
    const int64_t end_length = int64_t(count_code_points(end));
    if (length < end_length) fail("expected length >= {}, got {}", end_length, length);
    if (leeway < 0) fail("expected leeway >= 0, got {}", leeway);
    const auto offsets = code_point_offsets(s);
    const int64_t n = int64_t(offsets.size()) - 1;
    if (n <= length + leeway) return Value::string(s);
    std::string head = s.substr(0, offsets[size_t(length - end_length)]);
    if (!killwords) {
        const size_t space = head.rfind(' ');
        if (space != std::string::npos) head.resize(space);
    }
    return in.make_string(head + end);
}

Value f_wordcount(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "wordcount", {});
    const std::string s = soft_str(in, v);
    int64_t words = 0;
    bool in_word = false;
    size_t pos = 0;
    while (pos < s.size()) {
        const char32_t c = next_code_point(s, pos);
        const bool word_char = c == '_' || (c < 0x80 ? std::isalnum(int(c)) != 0 : !is_python_space(c) && c > 0xBF);
        if (word_char && !in_word) ++words;
        in_word = word_char;
    }
    return Value::integer(words);
}

// ---- numbers ------------------------------------------------------------------------------

// What Python's int() and float() read of a string: surrounding ASCII whitespace removed,
// then an optional sign, reported in `negative` and removed too.
std::string_view strip_number_text(std::string_view s, bool& negative)
{
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    s = s.substr(b, e - b);
    negative = !s.empty() && s[0] == '-';
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
    return s;
}

// Python's int(str, base): optional sign, optional prefix, digits with single underscores.
bool parse_python_int(std::string_view s, int base, int64_t& out)
{
    bool negative = false;
    s = strip_number_text(s, negative);
    if (s.size() > 2 && s[0] == '0') {
        const char p = char(s[1] | 0x20);
        const int prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        if (prefixed && (base == prefixed || base == 0)) {
            base = prefixed;
            s.remove_prefix(2);
            if (!s.empty() && s[0] == '_') s.remove_prefix(1);
        }
    }
    if (base == 0) base = 10;
    if (s.empty() || s.back() == '_') return false;
    __int128 value = 0;
    bool previous_underscore = true;
    for (const char c : s) {
        if (c == '_') {
            if (previous_underscore) return false;
            previous_underscore = true;
            continue;
        }
        previous_underscore = false;
        const char l = char(c | 0x20);
        const int d = c >= '0' && c <= '9' ? c - '0' : l >= 'a' && l <= 'z' ? l - 'a' + 10 : 99;
        if (d >= base) return false;
        value = value * base + d;
        if (value > (__int128(1) << 63)) fail("integer out of range (Python's unbounded integers are not supported)");
    }
    if (negative) value = -value;
    if (value > INT64_MAX) fail("integer out of range (Python's unbounded integers are not supported)");
    out = int64_t(value);
    return true;
}

// Python's float(str): surrounding whitespace, sign, inf/nan, digits with underscores.
bool parse_python_float(std::string_view s, double& out)
{
    bool negative = false;
    s = strip_number_text(s, negative);
    std::string clean;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '_') {
            const bool between_digits = i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
                                        std::isdigit(static_cast<unsigned char>(s[i + 1]));
            if (!between_digits) return false;
            continue;
        }
        if (s[i] == '+' || s[i] == '-') {
            if (i == 0 || (s[i - 1] | 0x20) != 'e') return false;
        }
        clean += s[i];
    }
    if (clean.empty()) return false;
    double value = 0;
    const auto r = std::from_chars(clean.data(), clean.data() + clean.size(), value);
    if (r.ptr != clean.data() + clean.size()) return false;
    if (r.ec == std::errc::result_out_of_range) value = std::strtod(clean.c_str(), nullptr);
    else if (r.ec != std::errc()) return false;
    out = negative ? -value : value;
    return true;
}

Value f_int(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "int", {"default", "base"});
    const Value fallback = a.get(0, Value::integer(0));
    const int64_t base = a.has(1) ? require_int(a[1], "base") : 10;
    if (base != 0 && (base < 2 || base > 36)) fail("int() base must be >= 2 and <= 36, or 0");
    if (v.is_undefined()) fail("{}", v.undefined_hint());  // Undefined.__int__ raises in Jinja2
    if (v.is_int()) return v;
    if (v.is_bool()) return Value::integer(v.as_integer());
    double d;
    if (v.is_string()) {
        int64_t i;
        if (parse_python_int(v.as_string(), int(base), i)) return Value::integer(i);
        if (!parse_python_float(v.as_string(), d)) return fallback;
    } else if (v.is_float()) {
        d = v.as_float();
    } else {
        return fallback;
    }
    if (std::isnan(d)) return fallback;
    if (!(std::fabs(d) < 9.2e18)) fail("cannot convert float {} to integer", float_repr(d));
    return Value::integer(int64_t(d));
}

Value f_float(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "float", {"default"});
    const Value fallback = a.get(0, Value::number(0.0));
    if (v.is_undefined()) fail("{}", v.undefined_hint());  // Undefined.__float__ raises in Jinja2
    if (v.is_number()) return Value::number(v.as_double());
    double d;
    if (v.is_string() && parse_python_float(v.as_string(), d)) return Value::number(d);
    return fallback;
}

Value f_abs(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "abs", {});
    if (v.is_float()) return Value::number(std::fabs(v.as_float()));
    if (v.is_int() || v.is_bool()) {
        if (v.as_integer() == INT64_MIN) fail("integer overflow");
        return Value::integer(std::llabs(v.as_integer()));
    }
    fail("bad operand type for abs(): '{}'", type_name(v));
}

// Python's round(x, n): exact decimal rounding, ties to even (printf does the same).
double round_half_even(double x, int64_t digits)
{
    if (!std::isfinite(x)) return x;
    if (digits >= 0) {
        if (digits > 300) return x;
        std::vector<char> buf(size_t(digits) + 400);
        std::snprintf(buf.data(), buf.size(), "%.*f", int(digits), x);
        return std::strtod(buf.data(), nullptr);
    }
    if (digits < -308) return 0.0 * x;
    const double scale = std::pow(10.0, double(-digits));
    return std::nearbyint(x / scale) * scale;
}

Value f_round(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "round", {"precision", "method"});
    const int64_t precision = a.has(0) ? require_int(a[0], "precision") : 0;
    const std::string method = a.has(1) ? soft_str(in, a[1]) : "common";
    if (method != "common" && method != "ceil" && method != "floor")
        fail("method must be common, ceil or floor");
    if (!v.is_number()) fail("type {} doesn't define __round__ method", type_name(v));
    if (method == "common") {
        if (!v.is_float()) {
            if (precision >= 0) return Value::integer(v.as_integer());
            return Value::integer(int64_t(round_half_even(double(v.as_integer()), precision)));
        }
        return Value::number(round_half_even(v.as_float(), precision));
    }
    const double scale = std::pow(10.0, double(precision));
    const double x = v.as_double() * scale;
    return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

// ---- sequences ----------------------------------------------------------------------------

Value f_length(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "length", {});
    switch (v.kind()) {
    case Kind::Undefined: return Value::integer(0);
    case Kind::String: in.charge_steps(1 + v.as_string().size() / 64); return Value::integer(int64_t(count_code_points(v.as_string())));
    case Kind::List: return Value::integer(int64_t(v.as_list().items.size()));
    case Kind::Dict: return Value::integer(int64_t(v.as_dict().entries.size()));
    default: fail("object of type '{}' has no len()", type_name(v));
    }
}

Value f_list(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "list", {});
    const ListPtr items = in.iterate(v);
    return Value::list(items->items);
}

Value f_first(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "first", {});
    const ListPtr items = in.iterate(v);
    if (items->items.empty()) return Value::undefined("No first item, sequence was empty.");
    return items->items.front();
}

Value f_last(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "last", {});
    const ListPtr items = in.iterate(v);
    if (items->items.empty()) return Value::undefined("No last item, sequence was empty.");
    return items->items.back();
}

Value f_reverse(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "reverse", {});
    const ListPtr items = in.iterate(v);
    in.charge_steps(items->items.size());
    if (v.is_string()) {
        std::string out;
        for (auto it = items->items.rbegin(); it != items->items.rend(); ++it) out += it->as_string();
        return in.make_string(std::move(out));
    }
    return Value::list(std::vector<Value>(items->items.rbegin(), items->items.rend()));
}

Value f_join(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "join", {"d", "attribute"});
    const std::string separator = a.has(0) ? soft_str(in, a[0]) : "";
    const ListPtr items = in.iterate(v);
    in.charge_steps(items->items.size());
    std::string out;
    for (size_t i = 0; i < items->items.size(); ++i) {
        const Value item = a.has(1) && !a[1].is_none() ? get_path(in, items->items[i], soft_str(in, a[1])) : items->items[i];
        if (i) out += separator;
        out += soft_str(in, item);
        if (out.size() > in.limits().max_output_bytes) in.charge_bytes(out.size());
    }
    return in.make_string(std::move(out));
}

Value f_default(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "default", {"default_value", "boolean"});
    const bool boolean = a.has(1) && truthy(a[1]);
    if (v.is_undefined() || (boolean && !truthy(v))) return a.get(0, Value::string(std::string()));
    return v;
}

Value f_items(Interpreter& in, const Value& v, const CallArgs& args)
{
    BoundArgs(args, "items", {});
    if (v.is_undefined()) return Value::list(std::vector<Value>{});
    if (!v.is_dict()) fail("Can only get item pairs from a mapping.");
    CallArgs none;
    return call_method(in, v, "items", none);
}

Value f_dictsort(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "dictsort", {"case_sensitive", "by", "reverse"});
    const bool case_sensitive = a.has(0) && truthy(a[0]);
    const std::string by = a.has(1) ? soft_str(in, a[1]) : "key";
    const bool reverse = a.has(2) && truthy(a[2]);
    if (by != "key" && by != "value") fail("You can only sort by either \"key\" or \"value\"");
    if (v.is_undefined()) fail("{}", v.undefined_hint());
    if (!v.is_dict()) fail("dictsort expects a mapping, not '{}'", type_name(v));
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& e : v.as_dict().entries) entries.push_back(&e);
    in.charge_steps(entries.size() * 8);
    std::stable_sort(entries.begin(), entries.end(), [&](const auto* x, const auto* y) {
        const Value& kx = by == "key" ? x->first : x->second;
        const Value& ky = by == "key" ? y->first : y->second;
        return reverse ? less_than(fold_case(ky, case_sensitive), fold_case(kx, case_sensitive))
                       : less_than(fold_case(kx, case_sensitive), fold_case(ky, case_sensitive));
    });
    std::vector<Value> out;
    for (const auto* e : entries) out.push_back(Value::list({e->first, e->second}, true));
    return Value::list(std::move(out));
}

Value f_sort(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "sort", {"reverse", "case_sensitive", "attribute"});
    const bool reverse = a.has(0) && truthy(a[0]);
    const bool case_sensitive = a.has(1) && truthy(a[1]);
    const ListPtr items = in.iterate(v);
    const size_t n = items->items.size();
    in.charge_steps(n * 8);
    const std::vector<Value> keys = keys_of(in, items->items, a.has(2) ? &a[2] : nullptr, case_sensitive);
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
        return reverse ? less_than(keys[y], keys[x]) : less_than(keys[x], keys[y]);
    });
    std::vector<Value> out;
    out.reserve(n);
    for (const size_t i : order) out.push_back(items->items[i]);
    return Value::list(std::move(out));
}

Value f_unique(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "unique", {"case_sensitive", "attribute"});
    const bool case_sensitive = a.has(0) && truthy(a[0]);
    const ListPtr items = in.iterate(v);
    const std::vector<Value> keys = keys_of(in, items->items, a.has(1) ? &a[1] : nullptr, case_sensitive);
    std::vector<Value> out, seen;
    for (size_t i = 0; i < keys.size(); ++i) {
        in.charge_steps(1 + seen.size());
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, keys[i]); })) {
            seen.push_back(keys[i]);
            out.push_back(items->items[i]);
        }
    }
    return Value::list(std::move(out));
}

Value min_max(Interpreter& in, const Value& v, const CallArgs& args, bool want_max)
{
    const BoundArgs a(args, want_max ? "max" : "min", {"case_sensitive", "attribute"});
    const ListPtr items = in.iterate(v);
    in.charge_steps(items->items.size());
    if (items->items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    const std::vector<Value> keys = keys_of(in, items->items, a.has(1) ? &a[1] : nullptr, a.has(0) && truthy(a[0]));
    size_t best = 0;
    for (size_t i = 1; i < keys.size(); ++i)
        if (want_max ? less_than(keys[best], keys[i]) : less_than(keys[i], keys[best])) best = i;
    return items->items[best];
}
Value f_max(Interpreter& in, const Value& v, const CallArgs& args) { return min_max(in, v, args, true); }
Value f_min(Interpreter& in, const Value& v, const CallArgs& args) { return min_max(in, v, args, false); }

Value f_sum(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "sum", {"attribute", "start"});
    const ListPtr items = in.iterate(v);
    in.charge_steps(items->items.size());
    Value total = a.get(1, Value::integer(0));
    for (const Value& item : items->items) {
        const Value x = a.has(0) && !a[0].is_none() ? get_path(in, item, soft_str(in, a[0])) : item;
        if (x.is_string() || total.is_string()) fail("unsupported operand type(s) for +: '{}' and '{}'", type_name(total), type_name(x));
        total = arithmetic(in, ast::BinaryOp::Add, total, x);
    }
    return total;
}

// select / reject / selectattr / rejectattr: keep items whose test (or truth) is `keep`.
Value select_items(Interpreter& in, const Value& v, const CallArgs& args, bool with_attribute, bool keep)
{
    const char* name = with_attribute ? (keep ? "selectattr" : "rejectattr") : (keep ? "select" : "reject");
    if (!truthy(v)) return Value::list(std::vector<Value>{});  // Jinja2 skips falsy input ("if value:")
    const ListPtr items = in.iterate(v);
    size_t next = 0;
    std::string attribute;
    if (with_attribute) {
        if (args.positional.empty()) fail("{}() missing the attribute to test", name);
        attribute = soft_str(in, args.positional[next++]);
    }
    TestFn test = nullptr;
    CallArgs test_args;
    if (next < args.positional.size()) {
        const std::string test_name = soft_str(in, args.positional[next++]);
        test = find_test(test_name);
        if (!test) fail("no test named '{}'", test_name);
        test_args.positional.assign(args.positional.begin() + ptrdiff_t(next), args.positional.end());
        test_args.keyword = args.keyword;
    } else if (!args.keyword.empty()) {
        fail("{}() got unexpected keyword arguments", name);
    }
    std::vector<Value> out;
    for (const Value& item : items->items) {
        in.charge_steps(1);
        const Value x = with_attribute ? get_path(in, item, attribute) : item;
        const bool passed = test ? test(in, x, test_args) : truthy(x);
        if (passed == keep) out.push_back(item);
    }
    return Value::list(std::move(out));
}
Value f_select(Interpreter& in, const Value& v, const CallArgs& a) { return select_items(in, v, a, false, true); }
Value f_reject(Interpreter& in, const Value& v, const CallArgs& a) { return select_items(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, const CallArgs& a) { return select_items(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, const CallArgs& a) { return select_items(in, v, a, true, false); }

Value f_map(Interpreter& in, const Value& v, const CallArgs& args)
{
    const ListPtr items = truthy(v) ? in.iterate(v) : make_list({});  // Jinja2 skips falsy input
    std::vector<Value> out;
    out.reserve(items->items.size());
    if (args.positional.empty()) {  // map(attribute='x', default=y)
        const BoundArgs a(args, "map", {"attribute", "default"});
        if (!a.has(0)) fail("map() needs a filter name or attribute=");
        const std::string attribute = soft_str(in, a[0]);
        for (const Value& item : items->items) {
            in.charge_steps(1);
            Value x = get_path(in, item, attribute);
            if (x.is_undefined() && a.has(1)) x = a[1];
            out.push_back(std::move(x));
        }
        return Value::list(std::move(out));
    }
    const std::string filter_name = soft_str(in, args.positional[0]);
    const FilterFn filter = find_filter(filter_name);
    if (!filter) fail("no filter named '{}'", filter_name);
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const Value& item : items->items) {
        in.charge_steps(1);
        out.push_back(filter(in, item, rest));
    }
    return Value::list(std::move(out));
}

Value f_attr(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "attr", {"name"}, 1);
    const std::string name = soft_str(in, a[0]);
    // Attribute lookup only, no item fallback (the sandbox's getattr).
    if (v.is(Kind::Namespace) || v.is(Kind::Loop) || has_method(v, name)) return in.get_attribute(v, name);
    if (v.is_undefined()) fail("{}", v.undefined_hint());
    return Value::undefined(fmt::format("'{} object' has no attribute '{}'", type_name(v), name));
}

Value f_tojson(Interpreter& in, const Value& v, const CallArgs& args)
{
    const BoundArgs a(args, "tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
    JsonDumpOptions options;
    options.ensure_ascii = a.has(0) && truthy(a[0]);
    if (a.has(1) && !a[1].is_none()) {
        if (a[1].is_string()) options.indent = a[1].as_string();
        else {
            const int64_t n = require_int(a[1], "indent");
            if (n > 1000) fail("indent {} is too large", n);
            options.indent = std::string(size_t(std::max<int64_t>(n, 0)), ' ');
        }
        options.item_separator = ",";
    }
    if (a.has(2) && !a[2].is_none()) {
        const ListPtr seps = in.iterate(a[2]);
        if (seps->items.size() != 2) fail("separators must be an (item_separator, key_separator) pair");
        options.item_separator = require_string(seps->items[0], "item separator");
        options.key_separator = require_string(seps->items[1], "key separator");
    }
    options.sort_keys = a.has(3) && truthy(a[3]);
    options.max_bytes = in.limits().max_output_bytes;
    return in.make_string(to_json_text(v, options));
}

struct NamedFilter {
    std::string_view name;
    Filter fn;
};

constexpr NamedFilter kFilters[] = {
    {"abs", f_abs},           {"attr", f_attr},
    {"capitalize", f_capitalize}, {"center", f_center},
    {"count", f_length},      {"d", f_default},
    {"default", f_default},   {"dictsort", f_dictsort},
    {"e", f_escape},          {"escape", f_escape},
    {"first", f_first},       {"float", f_float},
    {"format", f_format},     {"indent", f_indent},
    {"int", f_int},           {"items", f_items},
    {"join", f_join},         {"last", f_last},
    {"length", f_length},     {"list", f_list},
    {"lower", f_lower},       {"map", f_map},
    {"max", f_max},           {"min", f_min},
    {"reject", f_reject},     {"rejectattr", f_rejectattr},
    {"replace", f_replace},   {"reverse", f_reverse},
    {"round", f_round},       {"safe", f_safe},
    {"select", f_select},     {"selectattr", f_selectattr},
    {"sort", f_sort},         {"string", f_string},
    {"sum", f_sum},           {"title", f_title},
    {"tojson", f_tojson},     {"trim", f_trim},
    {"truncate", f_truncate}, {"unique", f_unique},
    {"upper", f_upper},       {"wordcount", f_wordcount},
};

}  // namespace

FilterFn find_filter(std::string_view name)
{
    for (const auto& f : kFilters)
        if (f.name == name) return f.fn;
    return nullptr;
}

}  // namespace mariana::jinja
