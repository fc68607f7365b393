// UTF-8 decoding, encoding and repair. Tokenizers work on bytes but must agree with
// Hugging Face's Rust code, which sees only valid UTF-8: invalid input is repaired the way
// Rust's String::from_utf8_lossy (and WHATWG's TextDecoder) does it, each maximal invalid
// subsequence becoming one U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mariana {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Length of the valid UTF-8 character at the start of `s`, or 0 when `s` starts with a
// maximal invalid subsequence (then `invalid_length` says how many bytes it covers).
// `s` must not be empty.
int utf8_valid_prefix(std::string_view s, int& invalid_length);

// Decodes the character at s[pos] (which must be valid) and advances pos.
char32_t utf8_next(std::string_view s, size_t& pos);

void utf8_append(std::string& out, char32_t code_point);

bool utf8_is_valid(std::string_view s);

// Unicode's White_Space property (what Rust's char::is_whitespace tests).
bool is_unicode_whitespace(char32_t cp);

// `s` with every maximal invalid subsequence replaced by U+FFFD.
std::string utf8_repair(std::string_view s);

}  // namespace mariana
