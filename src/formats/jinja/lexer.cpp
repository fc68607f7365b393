#include "formats/jinja/lexer.h"

#include "core/error.h"
#include "formats/jinja/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace mariana::jinja {

std::string describe_position(int line, int column) { return fmt::format("line {}, column {}", line, column); }

namespace {

// Jinja2 splits the source on \r\n, \r and \n, joins the lines with "\n", and without
// keep_trailing_newline drops the last line when it is empty (one trailing newline).
std::string normalize_newlines(std::string_view source)
{
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

class Lexer {
public:
    explicit Lexer(std::string source) : src_(std::move(source))
    {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i)
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<Token> run()
    {
        size_t pos = 0;
        while (pos < src_.size()) {
            const size_t tag = find_tag(pos);
            if (tag == std::string::npos) {
                emit_data(pos, src_.substr(pos));
                break;
            }
            const char kind = src_[tag + 1];
            const char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
            const size_t after = tag + 2 + (sign ? 1 : 0);
            size_t raw_body = 0;
            const bool raw = kind == '%' && match_raw_begin(after, raw_body);
            emit_data(pos, strip_before_tag(pos, tag, sign, kind != '{'));
            if (raw) pos = lex_raw(tag, raw_body);
            else if (kind == '#') pos = skip_comment(tag, after);
            else pos = lex_tag(tag, after, kind == '%');
        }
        tokens_.push_back(make(TokenType::End, src_.size()));
        return std::move(tokens_);
    }

private:
    [[noreturn]] void fail_at(size_t offset, const std::string& message) const
    {
        const auto [line, column] = position(offset);
        fail("{} at {}", message, describe_position(line, column));
    }

    // Line and column (in code points) of an offset. Tokens come in source order, so the
    // column is counted on from the previous token's when on the same line: linear overall
    // even for a template written on one long line.
    std::pair<int, int> position(size_t offset) const
    {
        const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
        const size_t start = *it;
        size_t from = start;
        int column = 1;
        if (cached_offset_ >= start && cached_offset_ <= offset) from = cached_offset_, column = cached_column_;
        column += int(count_code_points(std::string_view(src_).substr(from, offset - from)));
        cached_offset_ = offset;
        cached_column_ = column;
        return {int(it - line_starts_.begin()) + 1, column};
    }

    Token make(TokenType type, size_t offset, std::string text = {}) const
    {
        Token t;
        t.type = type;
        t.text = std::move(text);
        std::tie(t.line, t.column) = position(offset);
        return t;
    }

    void emit_data(size_t offset, std::string text)
    {
        if (!text.empty()) tokens_.push_back(make(TokenType::Data, offset, std::move(text)));
    }

    // The next "{{", "{%" or "{#" at or after pos.
    size_t find_tag(size_t pos) const
    {
        while (true) {
            pos = src_.find('{', pos);
            if (pos == std::string::npos || pos + 1 >= src_.size()) return std::string::npos;
            const char c = src_[pos + 1];
            if (c == '{' || c == '%' || c == '#') return pos;
            ++pos;
        }
    }

    size_t skip_python_space(size_t pos) const
    {
        while (pos < src_.size()) {
            size_t next = pos;
            if (!is_python_space(next_code_point(src_, next))) break;
            pos = next;
        }
        return pos;
    }

    // The text src_[from, tag) with the whitespace control of the tag at `tag` applied:
    // "-" strips all trailing whitespace; otherwise, for block and comment tags,
    // lstrip_blocks drops the spaces and tabs between the start of the line and the tag.
    std::string strip_before_tag(size_t from, size_t tag, char sign, bool is_block_or_comment) const
    {
        std::string_view text(src_.data() + from, tag - from);
        if (sign == '-') {
            size_t end = text.size();
            // Walk back over whitespace code points (all of Python's str.isspace set).
            while (end > 0) {
                size_t start = end - 1;
                while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
                size_t p = start;
                if (!is_python_space(next_code_point(text, p))) break;
                end = start;
            }
            return std::string(text.substr(0, end));
        }
        if (sign != '+' && is_block_or_comment) {
            const size_t newline = text.rfind('\n');
            const size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
            const bool line_starting = from == 0 || src_[from - 1] == '\n';
            if (newline != std::string_view::npos || line_starting) {
                const std::string_view rest = text.substr(line_start);
                if (rest.find_first_not_of(" \t") == std::string_view::npos) return std::string(text.substr(0, line_start));
            }
        }
        return std::string(text);
    }

    // "{%[-+]? raw [-]?%}" starting right after "{%" and its sign; sets body to where the
    // raw text begins.
    bool match_raw_begin(size_t after, size_t& body) const
    {
        size_t p = skip_python_space(after);
        if (src_.compare(p, 3, "raw") != 0 || (p + 3 < src_.size() && is_name_char(src_[p + 3]))) return false;
        p = skip_python_space(p + 3);
        if (src_.compare(p, 3, "-%}") == 0) {
            body = skip_python_space(p + 3);
            return true;
        }
        if (src_.compare(p, 2, "%}") == 0) {
            body = p + 2;
            return true;
        }
        return false;
    }

    size_t lex_raw(size_t tag, size_t body)
    {
        for (size_t p = src_.find("{%", body); p != std::string::npos; p = src_.find("{%", p + 2)) {
            const char sign = p + 2 < src_.size() && (src_[p + 2] == '-' || src_[p + 2] == '+') ? src_[p + 2] : 0;
            size_t q = skip_python_space(p + 2 + (sign ? 1 : 0));
            if (src_.compare(q, 6, "endraw") != 0) continue;
            q = skip_python_space(q + 6);
            size_t end;
            if (src_.compare(q, 3, "+%}") == 0) end = q + 3;
            else if (src_.compare(q, 3, "-%}") == 0) end = skip_python_space(q + 3);
            else if (src_.compare(q, 2, "%}") == 0) end = q + 2 + (q + 2 < src_.size() && src_[q + 2] == '\n');
            else continue;
            emit_data(body, strip_before_tag(body, p, sign, true));
            return end;
        }
        fail_at(tag, "unclosed {% raw %} block (no {% endraw %})");
    }

    size_t skip_comment(size_t tag, size_t after)
    {
        const size_t close = src_.find("#}", after);
        if (close == std::string::npos) fail_at(tag, "unclosed comment (no '#}')");
        if (close > after && src_[close - 1] == '-') return skip_python_space(close + 2);
        if (close > after && src_[close - 1] == '+') return close + 2;
        return close + 2 + (close + 2 < src_.size() && src_[close + 2] == '\n');  // trim_blocks
    }

    // The end of the tag if one starts at p ("%}", "-%}", "+%}" or "}}", "-}}"), with the
    // whitespace it consumes; npos otherwise.
    size_t match_tag_end(size_t p, bool block) const
    {
        const std::string_view close = block ? "%}" : "}}";
        if (src_.compare(p, 2, close) == 0)
            return p + 2 + (block && p + 2 < src_.size() && src_[p + 2] == '\n');  // trim_blocks
        if (src_[p] == '-' && src_.compare(p + 1, 2, close) == 0) return skip_python_space(p + 3);
        if (block && src_[p] == '+' && src_.compare(p + 1, 2, close) == 0) return p + 3;
        return std::string::npos;
    }

    size_t lex_tag(size_t tag, size_t pos, bool block)
    {
        tokens_.push_back(make(block ? TokenType::BlockBegin : TokenType::VariableBegin, tag));
        std::vector<char> brackets;  // open ( [ { : inside them "}}" and "%}" are operators
        while (true) {
            pos = skip_python_space(pos);
            if (pos >= src_.size())
                fail_at(tag, fmt::format("unclosed '{}' tag (the template ends before its '{}')", block ? "{%" : "{{",
                                         block ? "%}" : "}}"));
            if (brackets.empty()) {
                const size_t end = match_tag_end(pos, block);
                if (end != std::string::npos) {
                    tokens_.push_back(make(block ? TokenType::BlockEnd : TokenType::VariableEnd, pos));
                    return end;
                }
            }
            const char c = src_[pos];
            if (is_digit(c)) pos = lex_number(pos);
            else if (is_name_start(c)) {
                size_t end = pos;
                while (end < src_.size() && is_name_char(src_[end])) ++end;
                tokens_.push_back(make(TokenType::Name, pos, src_.substr(pos, end - pos)));
                pos = end;
            } else if (c == '\'' || c == '"') {
                pos = lex_string(pos);
            } else {
                pos = lex_operator(pos, brackets);
            }
        }
    }

    size_t lex_operator(size_t pos, std::vector<char>& brackets)
    {
        static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
        static constexpr std::string_view kOne = "+-/*%~[](){}<>=.:|,;";
        std::string op;
        for (const auto two : kTwo)
            if (src_.compare(pos, 2, two) == 0) op = two;
        if (op.empty()) {
            if (kOne.find(src_[pos]) == std::string_view::npos) {
                size_t p = pos;
                const char32_t c = next_code_point(src_, p);
                std::string shown;
                utf8_append(shown, c);
                fail_at(pos, c < 0x20 ? fmt::format("unexpected character U+{:04X}", unsigned(c))
                                      : fmt::format("unexpected character '{}'", shown));
            }
            op = std::string(1, src_[pos]);
        }
        const char c = op[0];
        if (op.size() == 1 && (c == '(' || c == '[' || c == '{')) {
            brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        } else if (op.size() == 1 && (c == ')' || c == ']' || c == '}')) {
            if (brackets.empty()) fail_at(pos, fmt::format("unexpected '{}'", c));
            if (brackets.back() != c) fail_at(pos, fmt::format("unexpected '{}', expected '{}'", c, brackets.back()));
            brackets.pop_back();
        }
        tokens_.push_back(make(TokenType::Operator, pos, op));
        return pos + op.size();
    }

    // Digits with single underscores between them: (\d+_)*\d+. Returns the end, or npos.
    size_t scan_digits(size_t pos) const
    {
        if (pos >= src_.size() || !is_digit(src_[pos])) return std::string::npos;
        while (pos < src_.size()) {
            if (is_digit(src_[pos])) ++pos;
            else if (src_[pos] == '_' && pos + 1 < src_.size() && is_digit(src_[pos + 1])) ++pos;
            else break;
        }
        return pos;
    }

    size_t lex_number(size_t start)
    {
        // Float first, as Jinja2 tries it: digits, then ".digits" and/or an exponent; never
        // right after a "." so that x.0.1 stays attribute access.
        const bool after_dot = start > 0 && src_[start - 1] == '.';
        const size_t int_end = scan_digits(start);
        if (!after_dot) {
            size_t p = int_end;
            bool fraction = false, exponent = false;
            if (p < src_.size() && src_[p] == '.') {
                const size_t f = scan_digits(p + 1);
                if (f != std::string::npos) p = f, fraction = true;
            }
            if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
                size_t q = p + 1;
                if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
                const size_t e = scan_digits(q);
                if (e != std::string::npos) p = e, exponent = true;
            }
            if (fraction || exponent) {
                std::string digits;
                for (size_t i = start; i < p; ++i)
                    if (src_[i] != '_') digits += src_[i];
                double value = 0;
                const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), value);
                if (r.ec == std::errc::result_out_of_range) value = digits.find("e-") != std::string::npos ||
                                                                            digits.find("E-") != std::string::npos
                                                                        ? 0.0
                                                                        : HUGE_VAL;
                Token t = make(TokenType::Float, start);
                t.number = value;
                tokens_.push_back(std::move(t));
                return p;
            }
        }
        // Integers: 0b…, 0o…, 0x… (digits with single underscores), [1-9](_?\d)*, or
        // 0(_?0)* ("012" is "0" then "12", as in Jinja2).
        int base = 10;
        size_t p = start;
        if (src_[start] == '0' && start + 2 < src_.size()) {
            const char x = char(src_[start + 1] | 0x20);
            base = x == 'b' ? 2 : x == 'o' ? 8 : x == 'x' ? 16 : 10;
        }
        const auto digit_value = [&](char c) -> int {
            const int d = is_digit(c) ? c - '0' : (char(c | 0x20) >= 'a' && char(c | 0x20) <= 'f') ? char(c | 0x20) - 'a' + 10 : 99;
            return d < base ? d : -1;
        };
        if (base != 10) {
            p = start + 2;
            if (src_[p] == '_') ++p;
            if (p >= src_.size() || digit_value(src_[p]) < 0) base = 10, p = start;  // "0x" alone: the integer 0
        }
        uint64_t value = 0;
        bool overflow = false;
        if (base == 10 && src_[start] == '0') {
            p = start + 1;
            while (p < src_.size() && (src_[p] == '0' || (src_[p] == '_' && p + 1 < src_.size() && src_[p + 1] == '0'))) ++p;
        } else {
            if (base == 10) p = start;
            while (p < src_.size()) {
                if (src_[p] == '_' && p + 1 < src_.size() && digit_value(src_[p + 1]) >= 0) ++p;
                const int d = digit_value(src_[p]);
                if (d < 0) break;
                if (value > (uint64_t(INT64_MAX) - unsigned(d)) / unsigned(base)) overflow = true;
                else value = value * unsigned(base) + unsigned(d);
                ++p;
            }
        }
        if (overflow) fail_at(start, "integer literal too large (the limit is 2^63 - 1)");
        Token t = make(TokenType::Integer, start);
        t.integer = int64_t(value);
        tokens_.push_back(std::move(t));
        return p;
    }

    // A quoted string with Python's backslash escapes (Jinja2 decodes string literals with
    // Python's "unicode-escape" codec).
    size_t lex_string(size_t start)
    {
        const char quote = src_[start];
        std::string value;
        size_t p = start + 1;
        while (true) {
            if (p >= src_.size()) fail_at(start, "unclosed string literal");
            const char c = src_[p];
            if (c == quote) break;
            if (c != '\\') {
                value += c;
                ++p;
                continue;
            }
            if (p + 1 >= src_.size()) fail_at(start, "unclosed string literal");
            const char e = src_[p + 1];
            p += 2;
            switch (e) {
            case '\n': break;  // line continuation
            case '\\': value += '\\'; break;
            case '\'': value += '\''; break;
            case '"': value += '"'; break;
            case 'a': value += '\a'; break;
            case 'b': value += '\b'; break;
            case 'f': value += '\f'; break;
            case 'n': value += '\n'; break;
            case 'r': value += '\r'; break;
            case 't': value += '\t'; break;
            case 'v': value += '\v'; break;
            case 'x':
            case 'u':
            case 'U': {
                const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                char32_t code = 0;
                for (size_t i = 0; i < n; ++i) {
                    const char h = p + i < src_.size() ? src_[p + i] : 0;
                    const char l = char(h | 0x20);
                    if (!is_digit(h) && !(l >= 'a' && l <= 'f'))
                        fail_at(p - 2, fmt::format("truncated \\{} escape in string literal", e));
                    code = code * 16 + char32_t(is_digit(h) ? h - '0' : l - 'a' + 10);
                }
                p += n;
                if (code > 0x10FFFF) fail_at(p - n - 2, "escape outside the Unicode range in string literal");
                if (code >= 0xD800 && code <= 0xDFFF) fail_at(p - n - 2, "surrogate escape in string literal");
                utf8_append(value, code);
                break;
            }
            case 'N': fail_at(p - 2, "\\N{...} escapes are not supported in string literals");
            default:
                if (e >= '0' && e <= '7') {  // up to three octal digits
                    char32_t code = char32_t(e - '0');
                    for (int i = 0; i < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++i, ++p)
                        code = code * 8 + char32_t(src_[p] - '0');
                    utf8_append(value, code);
                } else if (static_cast<unsigned char>(e) >= 0x80) {
                    // Jinja2 first writes non-ASCII characters as \x.., \u.... escapes, so a
                    // backslash before one keeps that escape text literally.
                    size_t q = p - 1;
                    const char32_t code = next_code_point(src_, q);
                    value += '\\';
                    value += code < 0x100 ? fmt::format("\\x{:02x}", unsigned(code))
                             : code < 0x10000 ? fmt::format("\\u{:04x}", unsigned(code))
                                              : fmt::format("\\U{:08x}", unsigned(code));
                    p = q;
                } else {
                    value += '\\';
                    value += e;
                }
            }
        }
        Token t = make(TokenType::String, start, std::move(value));
        tokens_.push_back(std::move(t));
        return p + 1;
    }

    std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Token> tokens_;
    mutable size_t cached_offset_ = 0;  // the last position computed, for position()
    mutable int cached_column_ = 1;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source)
{
    const size_t bad = find_invalid_utf8(source);
    if (bad != std::string_view::npos) {
        const std::string_view before = source.substr(0, bad);
        const int line = int(std::count(before.begin(), before.end(), '\n')) + 1;
        const size_t line_start = before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1;
        fail("template is not valid UTF-8 (byte 0x{:02X} at {})", static_cast<unsigned char>(source[bad]),
             describe_position(line, int(count_code_points(before.substr(line_start))) + 1));
    }
    return Lexer(normalize_newlines(source)).run();
}

}  // namespace mariana::jinja
