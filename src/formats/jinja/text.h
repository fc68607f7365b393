// The Unicode behaviour of Python's str that the chat-template interpreter needs:
// code-point indexing, str.isspace(), str.splitlines() boundaries, the case methods
// (upper, lower, title, capitalize, swapcase) and repr()'s "printable" test. Decoding is
// core/utf8's; character properties and simple case mappings come from utf8proc.
#pragma once

#include "core/utf8.h"  // utf8_append

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mariana::jinja {

// Decodes the code point starting at text[pos] and advances pos past it. Strings from
// template source and JSON text are valid UTF-8, but a Value built in C++ may hold any
// bytes, so an ill-formed byte is stepped over and returned as its value (a Latin-1
// reading) rather than trusted: core's utf8_next would loop on it or read past the end.
char32_t next_code_point(std::string_view text, size_t& pos);
// Every code point of text, as next_code_point reads them.
std::vector<char32_t> code_points(std::string_view text);

// Offset of the first ill-formed byte, or npos when all of text is valid UTF-8 (no
// surrogates, no overlong forms, nothing above U+10FFFF).
size_t find_invalid_utf8(std::string_view text);

size_t count_code_points(std::string_view text);
// Byte offsets of every code point, plus text.size() at the end: offsets[i] is where code
// point i starts. Used for Python-style indexing and slicing of strings.
std::vector<size_t> code_point_offsets(std::string_view text);

// Python's str.isspace(): ASCII whitespace, U+001C..U+001F, U+0085, U+00A0, U+1680,
// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 (not U+FEFF, not U+180E).
bool is_python_space(char32_t c);
// str.splitlines() boundaries: \n \r \v \f \x1c \x1d \x1e \x85 U+2028 U+2029 (and \r\n).
bool is_line_boundary(char32_t c);

// repr() escapes code points Python does not consider printable. This is exact for ASCII
// and Latin-1 and for the common invisible characters (format controls, separators,
// private use); other rare unassigned code points are treated as printable.
bool is_printable(char32_t c);

// Python's Lowercase, Uppercase and Cased properties, which str.islower(), isupper() and
// the case methods test. Titlecase digraphs (ǅ) are cased but neither upper nor lower.
bool is_lowercase(char32_t c);
bool is_uppercase(char32_t c);
bool is_cased(char32_t c);

// str.upper(), lower(), title(), capitalize() and swapcase() (Python 3.8+ semantics, where
// capitalize() titlecases the first character).
std::string python_upper(std::string_view text);
std::string python_lower(std::string_view text);
std::string python_title(std::string_view text);
std::string python_capitalize(std::string_view text);
std::string python_swapcase(std::string_view text);

}  // namespace mariana::jinja
