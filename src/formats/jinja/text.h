// UTF-8 and the few Unicode properties the chat-template interpreter needs to behave like
// Python's str: code-point indexing, str.isspace(), str.splitlines() boundaries, simple
// case mapping and repr()'s "printable" test. All strings in the interpreter are valid
// UTF-8 (template source is validated when parsed, JSON strings by the JSON parser), so
// the decoders here may assume well-formed input.
#pragma once

#include "core/utf8.h"  // utf8_append

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mariana::jinja {

// Decodes the code point starting at text[pos] and advances pos past it. For bytes that
// are not well-formed UTF-8 (never produced by the interpreter) it returns the byte value.
char32_t next_code_point(std::string_view text, size_t& pos);

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

// Simple (one-to-one) case mapping for Latin, Greek, Cyrillic, Armenian and fullwidth
// letters; other code points map to themselves. String-level upper()/lower() in
// methods.cpp add the two multi-character mappings Python applies (ß → SS, İ → i̇).
char32_t to_upper(char32_t c);
char32_t to_lower(char32_t c);
bool is_cased(char32_t c);

// repr() escapes code points Python does not consider printable. This is exact for ASCII
// and Latin-1 and for the common invisible characters (format controls, separators,
// private use); other rare unassigned code points are treated as printable.
bool is_printable(char32_t c);

std::string python_upper(std::string_view text);
std::string python_lower(std::string_view text);

}  // namespace mariana::jinja
