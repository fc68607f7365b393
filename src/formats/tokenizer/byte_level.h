// GPT-2's byte-level alphabet: each of the 256 byte values stands for one printable
// character, so that BPE vocabularies can be written as text. Bytes 0x21-0x7E, 0xA1-0xAC
// and 0xAE-0xFF stand for the code point of the same value; the other 68 bytes, in
// increasing order, for U+0100, U+0101, ... (space is "Ġ" U+0120, newline "Ċ" U+010A).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace mariana {

class ByteLevel {
public:
    ByteLevel();

    // The alphabet's UTF-8 spelling of one byte.
    const std::string& encode_byte(unsigned char byte) const { return byte_to_text_[byte]; }
    // Appends the alphabet's spelling of every byte of `bytes`.
    void encode(std::string_view bytes, std::string& out) const;
    // The bytes a token string stands for, or nothing when it holds a character outside
    // the alphabet (an added token such as "<｜User｜>" is then used as its own UTF-8).
    std::optional<std::string> decode(std::string_view text) const;

private:
    std::array<std::string, 256> byte_to_text_;
    std::array<int, 0x144> code_point_to_byte_;  // -1 outside the alphabet
};

}  // namespace mariana
