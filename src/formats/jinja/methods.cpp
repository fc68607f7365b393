// Methods of Python's str, list and dict that chat templates call: content.split('</think>'),
// content.strip('\n'), role.startswith('tool'), d.items(), d.get('k', x), ...
// Indices and lengths count code points, as Python's str does. Mutating list and dict
// methods exist (so `x.append` is not mistaken for a missing attribute) but fail when
// called, as in the immutable sandbox transformers uses.
#include "core/error.h"
#include "formats/jinja/interpreter.h"
#include "formats/jinja/text.h"

#include <fmt/format.h>

#include <algorithm>

namespace mariana::jinja {

namespace {

constexpr std::string_view kStringMethods[] = {
    "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "upper",
    "lower", "title", "capitalize", "swapcase", "format", "join", "find", "rfind", "index", "rindex", "count",
    "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper", "isascii",
    "removeprefix", "removesuffix", "partition", "rpartition", "center", "ljust", "rjust", "zfill"};
// Python str methods not implemented: calling one is an error naming it, never a silent "".
constexpr std::string_view kUnsupportedStringMethods[] = {"casefold", "encode", "expandtabs", "format_map", "isidentifier",
                                                          "isprintable", "istitle", "maketrans", "translate"};
constexpr std::string_view kListMethods[] = {"index", "count", "copy"};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get", "copy"};
constexpr std::string_view kUnsafeListMethods[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};
constexpr std::string_view kUnsafeDictMethods[] = {"update", "pop", "popitem", "setdefault", "clear"};

template <size_t N>
bool in_set(const std::string_view (&set)[N], std::string_view name)
{
    return std::find(std::begin(set), std::end(set), name) != std::end(set);
}

// ---- split --------------------------------------------------------------------------------

std::vector<Value> split_whitespace(std::string_view s, int64_t maxsplit, bool from_right)
{
    // Pieces as byte ranges, found left to right; rsplit with a limit works on the reversed
    // list of boundaries, so collect all runs first.
    std::vector<std::pair<size_t, size_t>> words;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t p = pos;
        const bool space = is_python_space(next_code_point(s, p));
        if (space) {
            pos = p;
            continue;
        }
        const size_t start = pos;
        while (pos < s.size()) {
            p = pos;
            if (is_python_space(next_code_point(s, p))) break;
            pos = p;
        }
        words.emplace_back(start, pos);
    }
    std::vector<Value> out;
    if (maxsplit < 0 || size_t(maxsplit) >= words.size()) {
        for (const auto& [a, b] : words) out.push_back(Value::string(std::string(s.substr(a, b - a))));
        return out;
    }
    if (!from_right) {  // maxsplit words, then the rest from the next word on, trailing space kept
        for (size_t i = 0; i < size_t(maxsplit); ++i) out.push_back(Value::string(std::string(s.substr(words[i].first, words[i].second - words[i].first))));
        out.push_back(Value::string(std::string(s.substr(words[size_t(maxsplit)].first))));
    } else {
        const size_t keep = words.size() - size_t(maxsplit);
        out.push_back(Value::string(std::string(s.substr(0, words[keep - 1].second))));
        for (size_t i = keep; i < words.size(); ++i)
            out.push_back(Value::string(std::string(s.substr(words[i].first, words[i].second - words[i].first))));
    }
    return out;
}

std::vector<Value> split_on(Interpreter& in, std::string_view s, std::string_view sep, int64_t maxsplit, bool from_right)
{
    if (sep.empty()) fail("empty separator");
    in.charge_steps(1 + s.size() / 64);
    // Separators are found from the left for split and from the right for rsplit (they
    // differ when separators overlap: 'aaa'.rsplit('aa') is ['a', '']).
    const size_t limit = maxsplit < 0 ? SIZE_MAX : size_t(maxsplit);
    std::vector<size_t> hits;
    if (!from_right) {
        for (size_t p = s.find(sep); p != std::string_view::npos && hits.size() < limit; p = s.find(sep, p + sep.size()))
            hits.push_back(p);
    } else {
        size_t end = s.size();
        while (hits.size() < limit && end >= sep.size()) {
            const size_t p = s.rfind(sep, end - sep.size());
            if (p == std::string_view::npos) break;
            hits.push_back(p);
            end = p;
        }
        std::reverse(hits.begin(), hits.end());
    }
    std::vector<Value> out;
    size_t start = 0;
    for (const size_t h : hits) {
        out.push_back(Value::string(std::string(s.substr(start, h - start))));
        start = h + sep.size();
    }
    out.push_back(Value::string(std::string(s.substr(start))));
    return out;
}

// ---- strip --------------------------------------------------------------------------------

std::string strip(std::string_view s, const Value* chars, bool left, bool right)
{
    std::vector<char32_t> set;
    const bool whitespace = !chars || chars->is_none();
    if (!whitespace) set = code_points(require_string(*chars, "strip() argument"));
    const auto strippable = [&](char32_t c) {
        return whitespace ? is_python_space(c) : std::find(set.begin(), set.end(), c) != set.end();
    };
    size_t begin = 0, end = s.size();
    if (left)
        while (begin < end) {
            size_t p = begin;
            if (!strippable(next_code_point(s, p))) break;
            begin = p;
        }
    if (right)
        while (end > begin) {
            size_t start = end - 1;
            while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
            size_t p = start;
            if (!strippable(next_code_point(s, p))) break;
            end = start;
        }
    return std::string(s.substr(begin, end - begin));
}

// ---- helpers for the rest ------------------------------------------------------------------

// Python's optional start/end arguments of find/count/startswith, in code points, turned
// into a byte range of s.
std::pair<size_t, size_t> byte_range(std::string_view s, const Value* start, const Value* end)
{
    if ((!start || start->is_none()) && (!end || end->is_none())) return {0, s.size()};
    const auto offsets = code_point_offsets(s);
    const int64_t n = int64_t(offsets.size()) - 1;
    const auto clamp = [&](const Value* v, int64_t fallback) {
        if (!v || v->is_none()) return fallback;
        int64_t i = require_int(*v, "slice index");
        if (i < 0) i = std::max<int64_t>(0, i + n);
        return std::min(i, n);
    };
    const int64_t a = clamp(start, 0), b = clamp(end, n);
    if (a > b) return {s.size() + 1, s.size() + 1};  // empty, and matches nothing, as Python
    return {offsets[size_t(a)], offsets[size_t(b)]};
}

int64_t code_point_index(std::string_view s, size_t byte) { return int64_t(count_code_points(s.substr(0, byte))); }

bool is_digit_char(char32_t c)
{
    if (c >= '0' && c <= '9') return true;
    if (c < 0x80) return false;
    constexpr std::pair<char32_t, char32_t> kRanges[] = {
        {0xB2, 0xB3},     {0xB9, 0xB9},     {0x660, 0x669},   {0x6F0, 0x6F9},   {0x966, 0x96F},
        {0x9E6, 0x9EF},   {0xE50, 0xE59},   {0x2070, 0x2070}, {0x2074, 0x2079}, {0x2080, 0x2089},
        {0x2460, 0x2468}, {0x2474, 0x247C}, {0x2488, 0x2490}, {0x24F5, 0x24FD}, {0x2776, 0x277E},
        {0x2780, 0x2788}, {0x278A, 0x2792}, {0xFF10, 0xFF19}};
    for (const auto& [a, b] : kRanges)
        if (c >= a && c <= b) return true;
    return false;
}

bool is_alpha_char(char32_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (is_cased(c) || c == 0xAA || c == 0xBA) return true;
    constexpr std::pair<char32_t, char32_t> kRanges[] = {
        {0x5D0, 0x5EA},   {0x620, 0x64A},   {0x904, 0x939},   {0xE01, 0xE30},   {0x1100, 0x11FF},
        {0x3041, 0x3096}, {0x30A1, 0x30FA}, {0x3131, 0x318E}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF},
        {0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0x20000, 0x2FFFF}};
    for (const auto& [a, b] : kRanges)
        if (c >= a && c <= b) return true;
    return false;
}

Value string_list(std::vector<Value> items) { return Value::list(std::move(items)); }

// str.format: {} {0} {name} with !s / !r; format specs and field attributes are errors.
std::string format_method(Interpreter& in, const std::string& fmt_text, const CallArgs& args)
{
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt_text.size(); ++i) {
        const char c = fmt_text[i];
        if (c == '}') {
            if (i + 1 < fmt_text.size() && fmt_text[i + 1] == '}') ++i;
            else fail("single '}}' encountered in format string");
            out += '}';
            continue;
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < fmt_text.size() && fmt_text[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        const size_t close = fmt_text.find('}', i);
        if (close == std::string::npos) fail("single '{{' encountered in format string");
        std::string field = fmt_text.substr(i + 1, close - i - 1);
        i = close;
        char conversion = 's';
        if (const size_t bang = field.find('!'); bang != std::string::npos) {
            if (bang + 2 != field.size() || (field[bang + 1] != 's' && field[bang + 1] != 'r'))
                fail("unsupported conversion in format string field '{}'", field);
            conversion = field[bang + 1];
            field.resize(bang);
        }
        if (field.find_first_of(":.[{") != std::string::npos)
            fail("format specs and field attributes are not supported in str.format (field '{}')", field);
        const Value* v = nullptr;
        if (field.empty()) {
            if (auto_index >= args.positional.size()) fail("Replacement index {} out of range for positional args tuple", auto_index);
            v = &args.positional[auto_index++];
        } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
            const size_t k = field.size() > 9 ? SIZE_MAX : std::stoul(field);
            if (k >= args.positional.size()) fail("Replacement index {} out of range for positional args tuple", field);
            v = &args.positional[k];
        } else {
            for (const auto& [key, value] : args.keyword)
                if (key == field) v = &value;
            if (!v) fail("format string refers to missing keyword '{}'", field);
        }
        const std::string piece = conversion == 'r' ? to_repr(*v, in.limits().max_output_bytes) : in.to_text(*v);
        if (out.size() + piece.size() > in.limits().max_output_bytes)
            fail("text longer than the limit of {} bytes", in.limits().max_output_bytes);
        out += piece;
    }
    return out;
}

std::string pad(Interpreter& in, const std::string& s, const CallArgs& args, const char* name, char align)
{
    const BoundArgs a(args, name, {"width", "fillchar"}, 1);
    const int64_t width = require_int(a[0], "width");
    std::string fill = " ";
    if (a.has(1)) {
        fill = require_string(a[1], "fillchar");
        if (count_code_points(fill) != 1) fail("The fill character must be exactly one character long");
    }
    const int64_t length = int64_t(count_code_points(s));
    if (width <= length) return s;
    const uint64_t total = uint64_t(width - length);
    if (total * fill.size() > in.limits().max_output_bytes) fail("text longer than the limit of {} bytes", in.limits().max_output_bytes);
    // CPython's center: left = marg / 2 + (marg & width & 1).
    const uint64_t left = align == 'l' ? 0 : align == 'r' ? total : total / 2 + (total & uint64_t(width) & 1);
    std::string out;
    for (uint64_t i = 0; i < left; ++i) out += fill;
    out += s;
    for (uint64_t i = left; i < total; ++i) out += fill;
    return out;
}

Value string_method(Interpreter& in, const std::string& s, const std::string& name, const CallArgs& args)
{
    const auto no_args = [&] {
        if (!args.positional.empty() || !args.keyword.empty()) fail("str.{}() takes no arguments", name);
    };
    if (name == "split" || name == "rsplit") {
        const BoundArgs a(args, name, {"sep", "maxsplit"});
        const int64_t maxsplit = a.has(1) ? require_int(a[1], "maxsplit") : -1;
        const bool from_right = name == "rsplit";
        in.charge_steps(1 + s.size() / 16);
        if (!a.has(0) || a[0].is_none()) return string_list(split_whitespace(s, maxsplit, from_right));
        return string_list(split_on(in, s, require_string(a[0], "separator"), maxsplit, from_right));
    }
    if (name == "splitlines") {
        const BoundArgs a(args, name, {"keepends"});
        const bool keep = a.has(0) && truthy(a[0]);
        in.charge_steps(1 + s.size() / 16);
        std::vector<Value> lines;
        size_t start = 0, pos = 0;
        while (pos < s.size()) {
            const size_t at = pos;
            const char32_t c = next_code_point(s, pos);
            if (!is_line_boundary(c)) continue;
            if (c == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
            lines.push_back(Value::string(s.substr(start, (keep ? pos : at) - start)));
            start = pos;
        }
        if (start < s.size()) lines.push_back(Value::string(s.substr(start)));
        return string_list(std::move(lines));
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        const BoundArgs a(args, name, {"chars"});
        in.charge_steps(1 + s.size() / 64);
        return Value::string(strip(s, a.has(0) ? &a[0] : nullptr, name != "rstrip", name != "lstrip"));
    }
    if (name == "startswith" || name == "endswith") {
        const BoundArgs a(args, name, {"prefix", "start", "end"}, 1);
        const auto [from, to] = byte_range(s, a.has(1) ? &a[1] : nullptr, a.has(2) ? &a[2] : nullptr);
        if (from > s.size()) return Value::boolean(false);
        const std::string_view view = std::string_view(s).substr(from, to - from);
        std::vector<Value> candidates;
        if (a[0].is_list() && a[0].as_list().is_tuple) candidates = a[0].as_list().items;
        else if (a[0].is_string()) candidates.push_back(a[0]);
        else fail("{} first arg must be str or a tuple of str, not {}", name, type_name(a[0]));
        for (const Value& c : candidates) {
            const std::string& x = require_string(c, "tuple item");
            if (name == "startswith" ? view.substr(0, x.size()) == x
                                     : view.size() >= x.size() && view.substr(view.size() - x.size()) == x)
                return Value::boolean(true);
        }
        return Value::boolean(false);
    }
    if (name == "replace") {
        const BoundArgs a(args, name, {"old", "new", "count"}, 2);
        const std::string& old = require_string(a[0], "replace() argument 1");
        const std::string& replacement = require_string(a[1], "replace() argument 2");
        int64_t count = a.has(2) ? require_int(a[2], "count") : -1;
        in.charge_steps(1 + s.size() / 64);
        std::string out;
        if (old.empty()) {  // Python inserts the replacement around every character
            size_t pos = 0;
            while (count != 0) {
                if (out.size() + replacement.size() > in.limits().max_output_bytes) in.charge_bytes(out.size() + replacement.size());
                out += replacement;
                --count;
                if (pos >= s.size()) break;
                const size_t start = pos;
                next_code_point(s, pos);
                out.append(s, start, pos - start);
            }
            out.append(s, std::min(pos, s.size()));
            return in.make_string(std::move(out));
        }
        size_t start = 0;
        for (size_t p = s.find(old); p != std::string::npos && count != 0; p = s.find(old, start), --count) {
            out.append(s, start, p - start);
            out += replacement;
            start = p + old.size();
            if (out.size() > in.limits().max_output_bytes) in.charge_bytes(out.size());
        }
        out.append(s, start);
        return in.make_string(std::move(out));
    }
    if (name == "upper") return no_args(), in.make_string(python_upper(s));
    if (name == "lower") return no_args(), in.make_string(python_lower(s));
    if (name == "title") return no_args(), in.make_string(python_title(s));
    if (name == "capitalize") return no_args(), in.make_string(python_capitalize(s));
    if (name == "swapcase") return no_args(), in.make_string(python_swapcase(s));
    if (name == "format") return in.make_string(format_method(in, s, args));
    if (name == "join") {
        const BoundArgs a(args, name, {"iterable"}, 1);
        const ListPtr items = in.iterate(a[0]);
        in.charge_steps(items->items.size());
        std::string out;
        for (size_t i = 0; i < items->items.size(); ++i) {
            const Value& item = items->items[i];
            if (!item.is_string()) fail("sequence item {}: expected str instance, {} found", i, type_name(item));
            if (i) out += s;
            out += item.as_string();
            if (out.size() > in.limits().max_output_bytes) in.charge_bytes(out.size());
        }
        return in.make_string(std::move(out));
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
        const BoundArgs a(args, name, {"sub", "start", "end"}, 1);
        const std::string& sub = require_string(a[0], name + "() argument");
        const auto [from, to] = byte_range(s, a.has(1) ? &a[1] : nullptr, a.has(2) ? &a[2] : nullptr);
        in.charge_steps(1 + s.size() / 64);
        if (name == "count") {
            if (from > s.size()) return Value::integer(0);
            const std::string_view view = std::string_view(s).substr(from, to - from);
            if (sub.empty()) return Value::integer(int64_t(count_code_points(view)) + 1);
            int64_t n = 0;
            for (size_t p = view.find(sub); p != std::string_view::npos; p = view.find(sub, p + sub.size())) ++n;
            return Value::integer(n);
        }
        size_t found = std::string::npos;
        if (from <= s.size()) {
            const std::string_view view = std::string_view(s).substr(from, to - from);
            const size_t p = name[0] == 'r' ? view.rfind(sub) : view.find(sub);
            if (p != std::string_view::npos) found = from + p;
        }
        if (found == std::string::npos) {
            if (name == "index" || name == "rindex") fail("substring not found");
            return Value::integer(-1);
        }
        return Value::integer(code_point_index(s, found));
    }
    if (name == "isdigit" || name == "isdecimal" || name == "isnumeric" || name == "isalpha" || name == "isalnum" ||
        name == "isspace" || name == "isascii") {
        no_args();
        if (s.empty()) return Value::boolean(name == "isascii");
        size_t pos = 0;
        while (pos < s.size()) {
            const char32_t c = next_code_point(s, pos);
            bool ok;
            if (name == "isspace") ok = is_python_space(c);
            else if (name == "isalpha") ok = is_alpha_char(c);
            else if (name == "isalnum") ok = is_alpha_char(c) || is_digit_char(c);
            else if (name == "isascii") ok = c < 0x80;
            else ok = is_digit_char(c);
            if (!ok) return Value::boolean(false);
        }
        return Value::boolean(true);
    }
    if (name == "islower" || name == "isupper") {
        no_args();
        bool any_cased = false;
        size_t pos = 0;
        while (pos < s.size()) {
            const char32_t c = next_code_point(s, pos);
            if (!is_cased(c)) continue;
            any_cased = true;
            // A cased character is lower, upper or title case: all but lower fail islower().
            if (!(name == "islower" ? is_lowercase(c) : is_uppercase(c))) return Value::boolean(false);
        }
        return Value::boolean(any_cased);
    }
    if (name == "removeprefix" || name == "removesuffix") {
        const BoundArgs a(args, name, {"affix"}, 1);
        const std::string& x = require_string(a[0], name + "() argument");
        if (name == "removeprefix") return Value::string(s.rfind(x, 0) == 0 ? s.substr(x.size()) : s);
        if (s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0) return Value::string(s.substr(0, s.size() - x.size()));
        return Value::string(s);
    }
    if (name == "partition" || name == "rpartition") {
        const BoundArgs a(args, name, {"sep"}, 1);
        const std::string& sep = require_string(a[0], name + "() argument");
        if (sep.empty()) fail("empty separator");
        const size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
        if (p == std::string::npos) {
            const Value empty = Value::string(std::string());
            return Value::list(name == "partition" ? std::vector<Value>{Value::string(s), empty, empty}
                                                   : std::vector<Value>{empty, empty, Value::string(s)},
                               true);
        }
        return Value::list({Value::string(s.substr(0, p)), Value::string(sep), Value::string(s.substr(p + sep.size()))}, true);
    }
    if (name == "center") return in.make_string(pad(in, s, args, "center", 'c'));
    if (name == "ljust") return in.make_string(pad(in, s, args, "ljust", 'l'));
    if (name == "rjust") return in.make_string(pad(in, s, args, "rjust", 'r'));
    if (name == "zfill") {
        const BoundArgs a(args, name, {"width"}, 1);
        const int64_t width = require_int(a[0], "width");
        const int64_t length = int64_t(count_code_points(s));
        if (width <= length) return Value::string(s);
        if (uint64_t(width - length) > in.limits().max_output_bytes) fail("text longer than the limit of {} bytes", in.limits().max_output_bytes);
        const size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
        std::string out = s;
        out.insert(sign, std::string(size_t(width - length), '0'));
        return in.make_string(std::move(out));
    }
    fail("str.{}() is not supported", name);
}

}  // namespace

bool has_method(const Value& self, std::string_view name)
{
    switch (self.kind()) {
    case Kind::String: return in_set(kStringMethods, name) || in_set(kUnsupportedStringMethods, name);
    case Kind::List: return in_set(kListMethods, name) || in_set(kUnsafeListMethods, name);
    case Kind::Dict: return in_set(kDictMethods, name) || in_set(kUnsafeDictMethods, name);
    default: return false;
    }
}

Value call_method(Interpreter& in, const Value& self, const std::string& name, const CallArgs& args)
{
    if (self.is_string()) return string_method(in, self.as_string(), name, args);
    if (self.is_list()) {
        if (in_set(kUnsafeListMethods, name))
            fail("list.{}() is not allowed: templates render in an immutable sandbox and cannot modify lists", name);
        const auto& items = self.as_list().items;
        in.charge_steps(items.size());
        if (name == "copy") return Value::list(items);
        const BoundArgs a(args, name, {"value"}, 1);
        if (name == "count") return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, a[0]); }));
        for (size_t i = 0; i < items.size(); ++i)
            if (equals(items[i], a[0])) return Value::integer(int64_t(i));
        fail("{} is not in list", to_repr(a[0], 200));
    }
    if (self.is_dict()) {
        if (in_set(kUnsafeDictMethods, name))
            fail("dict.{}() is not allowed: templates render in an immutable sandbox and cannot modify dicts", name);
        const auto& entries = self.as_dict().entries;
        if (name == "get") {
            const BoundArgs a(args, name, {"key", "default"}, 1);
            const Value* v = self.as_dict().find(a[0]);
            return v ? *v : a.get(1, Value::none());
        }
        if (!args.positional.empty() || !args.keyword.empty()) fail("dict.{}() takes no arguments", name);
        in.charge_steps(entries.size());
        if (name == "copy") return self;
        std::vector<Value> out;
        out.reserve(entries.size());
        for (const auto& [k, v] : entries) {
            if (name == "keys") out.push_back(k);
            else if (name == "values") out.push_back(v);
            else out.push_back(Value::list({k, v}, true));
        }
        return Value::list(std::move(out));
    }
    fail("'{}' object has no method '{}'", type_name(self), name);
}

}  // namespace mariana::jinja
