#include "formats/tokenizer/byte_level.h"

#include "core/utf8.h"

namespace mariana {

namespace {

bool stands_for_itself(int byte) { return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xFF && byte != 0xAD); }

}  // namespace

ByteLevel::ByteLevel()
{
    code_point_to_byte_.fill(-1);
    char32_t next_shifted = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
        const char32_t cp = stands_for_itself(byte) ? static_cast<char32_t>(byte) : next_shifted++;
        utf8_append(byte_to_text_[byte], cp);
        code_point_to_byte_[cp] = byte;
    }
}

void ByteLevel::encode(std::string_view bytes, std::string& out) const
{
    for (const char c : bytes) out += byte_to_text_[static_cast<unsigned char>(c)];
}

std::optional<std::string> ByteLevel::decode(std::string_view text) const
{
    std::string bytes;
    bytes.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        int invalid = 0;
        if (utf8_valid_prefix(text.substr(pos), invalid) == 0) return std::nullopt;
        const char32_t cp = utf8_next(text, pos);
        if (cp >= code_point_to_byte_.size() || code_point_to_byte_[cp] < 0) return std::nullopt;
        bytes += static_cast<char>(code_point_to_byte_[cp]);
    }
    return bytes;
}

}  // namespace mariana
