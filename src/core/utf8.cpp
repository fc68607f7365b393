#include "core/utf8.h"

namespace mariana {

namespace {

// The second byte's allowed range depends on the lead byte (Unicode table 3-7): this
// excludes overlong forms, surrogates and code points past U+10FFFF.
struct LeadInfo {
    int length;
    uint8_t second_min, second_max;
};

LeadInfo lead_info(uint8_t lead)
{
    if (lead < 0x80) return {1, 0, 0};
    if (lead >= 0xC2 && lead <= 0xDF) return {2, 0x80, 0xBF};
    if (lead == 0xE0) return {3, 0xA0, 0xBF};
    if (lead == 0xED) return {3, 0x80, 0x9F};
    if (lead >= 0xE1 && lead <= 0xEF) return {3, 0x80, 0xBF};
    if (lead == 0xF0) return {4, 0x90, 0xBF};
    if (lead >= 0xF1 && lead <= 0xF3) return {4, 0x80, 0xBF};
    if (lead == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// How many bytes of `s` (at most the character's length) form a valid beginning.
int valid_bytes(std::string_view s, const LeadInfo& info)
{
    int n = 1;
    for (; n < info.length && n < static_cast<int>(s.size()); ++n) {
        const auto b = static_cast<uint8_t>(s[n]);
        const bool ok = n == 1 ? b >= info.second_min && b <= info.second_max : is_continuation(b);
        if (!ok) break;
    }
    return n;
}

}  // namespace

int utf8_valid_prefix(std::string_view s, int& invalid_length)
{
    const LeadInfo info = lead_info(static_cast<uint8_t>(s[0]));
    if (info.length == 0) {
        invalid_length = 1;
        return 0;
    }
    const int n = valid_bytes(s, info);
    if (n == info.length) return n;
    invalid_length = n;  // a truncated but well-begun character is one maximal subpart
    return 0;
}

char32_t utf8_next(std::string_view s, size_t& pos)
{
    const auto lead = static_cast<uint8_t>(s[pos]);
    const int length = lead_info(lead).length;
    char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
    for (int i = 1; i < length; ++i) cp = (cp << 6) | (static_cast<uint8_t>(s[pos + i]) & 0x3F);
    pos += length;
    return cp;
}

void utf8_append(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool utf8_is_valid(std::string_view s)
{
    for (size_t pos = 0; pos < s.size();) {
        if (static_cast<uint8_t>(s[pos]) < 0x80) {
            ++pos;
            continue;
        }
        int invalid = 0;
        const int n = utf8_valid_prefix(s.substr(pos), invalid);
        if (n == 0) return false;
        pos += n;
    }
    return true;
}

bool is_unicode_whitespace(char32_t cp)
{
    if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::string utf8_repair(std::string_view s)
{
    if (utf8_is_valid(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    for (size_t pos = 0; pos < s.size();) {
        int invalid = 0;
        const int n = utf8_valid_prefix(s.substr(pos), invalid);
        if (n > 0) {
            out.append(s.substr(pos, n));
            pos += n;
        } else {
            utf8_append(out, kReplacementCharacter);
            pos += invalid;
        }
    }
    return out;
}

}  // namespace mariana
