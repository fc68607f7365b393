#include "formats/jinja/text.h"

namespace mariana::jinja {

char32_t next_code_point(std::string_view text, size_t& pos)
{
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char b0 = byte(pos);
    size_t length = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
    if (length == 0 || pos + length > text.size()) {
        ++pos;
        return b0;
    }
    char32_t c = length == 1 ? b0 : length == 2 ? (b0 & 0x1F) : length == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (size_t i = 1; i < length; ++i) {
        if ((byte(pos + i) & 0xC0) != 0x80) {
            ++pos;
            return b0;
        }
        c = (c << 6) | (byte(pos + i) & 0x3F);
    }
    pos += length;
    return c;
}

size_t find_invalid_utf8(std::string_view text)
{
    size_t i = 0;
    while (i < text.size()) {
        const unsigned char b0 = static_cast<unsigned char>(text[i]);
        if (b0 < 0x80) {
            ++i;
            continue;
        }
        size_t length;
        char32_t c;
        char32_t min;
        if ((b0 & 0xE0) == 0xC0) length = 2, c = b0 & 0x1F, min = 0x80;
        else if ((b0 & 0xF0) == 0xE0) length = 3, c = b0 & 0x0F, min = 0x800;
        else if ((b0 & 0xF8) == 0xF0) length = 4, c = b0 & 0x07, min = 0x10000;
        else return i;
        if (i + length > text.size()) return i;
        for (size_t k = 1; k < length; ++k) {
            const unsigned char b = static_cast<unsigned char>(text[i + k]);
            if ((b & 0xC0) != 0x80) return i;
            c = (c << 6) | (b & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
        i += length;
    }
    return std::string_view::npos;
}

size_t count_code_points(std::string_view text)
{
    size_t n = 0;
    for (const char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    return n;
}

std::vector<size_t> code_point_offsets(std::string_view text)
{
    std::vector<size_t> offsets;
    offsets.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size(); ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets.push_back(i);
    offsets.push_back(text.size());
    return offsets;
}

bool is_python_space(char32_t c)
{
    if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    if (c < 0x85) return false;
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_line_boundary(char32_t c)
{
    return (c >= 0x0A && c <= 0x0D) || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

namespace {

// A block of letters where upper and lower case alternate, starting with an upper-case
// letter at `first` (Ā ā Ă ă … in Latin Extended-A).
struct AlternatingRange {
    char32_t first, last;
};
constexpr AlternatingRange kAlternating[] = {
    {0x0100, 0x012F}, {0x0132, 0x0137}, {0x0139, 0x0148}, {0x014A, 0x0177},
    {0x0179, 0x017E}, {0x01A0, 0x01A5}, {0x01CD, 0x01DC}, {0x01DE, 0x01EF},
    {0x01F8, 0x021F}, {0x0222, 0x0233}, {0x03D8, 0x03EF}, {0x0460, 0x0481},
    {0x048A, 0x04BF}, {0x04C1, 0x04CE}, {0x04D0, 0x052F}, {0x1E00, 0x1E95},
    {0x1EA0, 0x1EFF}, {0x2C80, 0x2CE3}, {0xA640, 0xA66D}, {0xA680, 0xA69B},
};

// A block of upper-case letters whose lower-case forms are `offset` code points later.
struct ShiftedRange {
    char32_t first_upper, last_upper;
    char32_t offset;
};
constexpr ShiftedRange kShifted[] = {
    {0x0041, 0x005A, 0x20},  {0x00C0, 0x00D6, 0x20},   {0x00D8, 0x00DE, 0x20},  {0x0388, 0x038A, 0x25},
    {0x0391, 0x03A1, 0x20},  {0x03A3, 0x03AB, 0x20},   {0x038E, 0x038F, 0x3F},  {0x0410, 0x042F, 0x20},
    {0x0400, 0x040F, 0x50},  {0x0531, 0x0556, 0x30},   {0x10A0, 0x10C5, 0x1C60}, {0x1F08, 0x1F0F, -8u},
    {0x1F18, 0x1F1D, -8u},   {0x1F28, 0x1F2F, -8u},    {0x1F38, 0x1F3F, -8u},   {0x1F48, 0x1F4D, -8u},
    {0x1F68, 0x1F6F, -8u},   {0x2160, 0x216F, 0x10},   {0x24B6, 0x24CF, 0x1A},  {0x2C00, 0x2C2F, 0x30},
    {0xFF21, 0xFF3A, 0x20},  {0x10400, 0x10427, 0x28},
};

struct Pair {
    char32_t upper, lower;
};
// One-off pairs outside the regular blocks.
constexpr Pair kPairs[] = {
    {0x0178, 0x00FF}, {0x0386, 0x03AC}, {0x038C, 0x03CC}, {0x0181, 0x0253}, {0x0186, 0x0254},
    {0x0189, 0x0256}, {0x018A, 0x0257}, {0x018F, 0x0259}, {0x0190, 0x025B}, {0x0193, 0x0260},
    {0x0194, 0x0263}, {0x0196, 0x0269}, {0x0197, 0x0268}, {0x019C, 0x026F}, {0x019D, 0x0272},
    {0x019F, 0x0275}, {0x01A9, 0x0283}, {0x01AE, 0x0288}, {0x01B1, 0x028A}, {0x01B2, 0x028B},
    {0x01B7, 0x0292}, {0x0187, 0x0188}, {0x018B, 0x018C}, {0x0191, 0x0192}, {0x0198, 0x0199},
    {0x01A7, 0x01A8}, {0x01AC, 0x01AD}, {0x01AF, 0x01B0}, {0x01B3, 0x01B4}, {0x01B5, 0x01B6},
    {0x01B8, 0x01B9}, {0x01BC, 0x01BD}, {0x04C0, 0x04CF}, {0x1E9E, 0x00DF},
};

}  // namespace

char32_t to_lower(char32_t c)
{
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
    if (c == 0x1E9E) return 0x00DF;  // ẞ → ß (the pair table maps the other way only for upper)
    for (const auto& r : kShifted)
        if (c >= r.first_upper && c <= r.last_upper) return c + r.offset;
    for (const auto& r : kAlternating)
        if (c >= r.first && c <= r.last) return (c - r.first) % 2 == 0 ? c + 1 : c;
    for (const auto& p : kPairs)
        if (c == p.upper) return p.lower;
    return c;
}

char32_t to_upper(char32_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 0x20 : c;
    if (c == 0x00B5) return 0x039C;  // µ → Μ
    if (c == 0x03C2) return 0x03A3;  // final ς → Σ
    if (c == 0x017F) return 'S';     // ſ → S
    if (c == 0x0131) return 'I';     // dotless ı → I
    if (c == 0x00DF) return c;       // ß has only the two-letter upper case (handled by python_upper)
    for (const auto& r : kShifted)
        if (c >= r.first_upper + r.offset && c <= r.last_upper + r.offset) return c - r.offset;
    for (const auto& r : kAlternating)
        if (c >= r.first && c <= r.last) return (c - r.first) % 2 == 1 ? c - 1 : c;
    for (const auto& p : kPairs)
        if (c == p.lower && p.upper != 0x1E9E) return p.upper;
    return c;
}

bool is_cased(char32_t c) { return to_upper(c) != c || to_lower(c) != c || c == 0x00DF || c == 0x0130; }

bool is_printable(char32_t c)
{
    if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) return false;
    if (c < 0x0300) return true;
    if (c >= 0x2000 && c <= 0x200F) return false;  // spaces of various widths, ZW(N)J, marks
    if (c >= 0x2028 && c <= 0x202F) return false;  // separators, bidi embeddings, NNBSP
    if (c >= 0x205F && c <= 0x206F) return false;  // math space, invisible operators, bidi isolates
    if (c == 0x1680 || c == 0x180E || c == 0x3000 || c == 0xFEFF || c == 0x061C) return false;
    if (c >= 0xD800 && c <= 0xF8FF) return false;  // surrogates and private use
    if (c >= 0xFFF0 && c <= 0xFFFB) return false;
    if ((c & 0xFFFE) == 0xFFFE) return false;  // noncharacters
    if (c >= 0xE0000) return false;             // tags, variation selectors supplement, private use
    return true;
}

std::string python_upper(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
        const char32_t c = next_code_point(text, pos);
        if (c == 0x00DF) out += "SS";
        else utf8_append(out, to_upper(c));
    }
    return out;
}

namespace {

// Combining marks and the apostrophe-like characters Python's final-sigma rule skips
// (a subset of Unicode's Case_Ignorable that covers Greek text).
bool is_case_ignorable(char32_t c)
{
    return (c >= 0x0300 && c <= 0x036F) || c == '\'' || c == 0x2019 || c == 0x00B7 || c == 0x0387;
}

}  // namespace

std::string python_lower(std::string_view text)
{
    std::vector<char32_t> cps;
    size_t pos = 0;
    while (pos < text.size()) cps.push_back(next_code_point(text, pos));
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < cps.size(); ++i) {
        const char32_t c = cps[i];
        if (c == 0x0130) {  // İ → i + combining dot above
            out += 'i';
            utf8_append(out, 0x0307);
        } else if (c == 0x03A3) {
            // Final sigma: Σ after a cased letter and not before one becomes ς.
            size_t b = i;
            while (b > 0 && is_case_ignorable(cps[b - 1])) --b;
            size_t a = i + 1;
            while (a < cps.size() && is_case_ignorable(cps[a])) ++a;
            const bool final = b > 0 && is_cased(cps[b - 1]) && !(a < cps.size() && is_cased(cps[a]));
            utf8_append(out, final ? 0x03C2 : 0x03C3);
        } else {
            utf8_append(out, to_lower(c));
        }
    }
    return out;
}

}  // namespace mariana::jinja
