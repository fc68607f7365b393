#include "formats/jinja/text.h"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>

namespace mariana::jinja {

char32_t next_code_point(std::string_view text, size_t& pos)
{
    const auto byte = static_cast<unsigned char>(text[pos]);
    int invalid_length = 0;
    if (byte < 0x80 || utf8_valid_prefix(text.substr(pos), invalid_length) == 0) {
        ++pos;
        return byte;
    }
    return utf8_next(text, pos);
}

std::vector<char32_t> code_points(std::string_view text)
{
    std::vector<char32_t> out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) out.push_back(next_code_point(text, pos));
    return out;
}

size_t find_invalid_utf8(std::string_view text)
{
    for (size_t pos = 0; pos < text.size();) {
        int invalid_length = 0;
        const int length = utf8_valid_prefix(text.substr(pos), invalid_length);
        if (length == 0) return pos;
        pos += length;
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


// ---- case ---------------------------------------------------------------------------------
// utf8proc has Unicode's simple (one-to-one) case mappings; Python applies the full ones
// (SpecialCasing.txt), which differ for about a hundred code points. We add the ones that
// occur in real text: ß → SS (upper) and Ss (title), İ → i̇ (lower), and the final-sigma rule
// of lower(). The rest (ligatures such as ﬁ, Greek with iota subscript, ŉ) keep their simple
// mapping, usually themselves.

namespace {

constexpr char32_t kSharpS = 0x00DF;
constexpr char32_t kCapitalIWithDotAbove = 0x0130;
constexpr char32_t kCapitalSigma = 0x03A3;
using CodePoints = std::vector<char32_t>;

utf8proc_category_t category(char32_t c) { return utf8proc_category(utf8proc_int32_t(c)); }
char32_t simple_upper(char32_t c) { return char32_t(utf8proc_toupper(utf8proc_int32_t(c))); }
char32_t simple_lower(char32_t c) { return char32_t(utf8proc_tolower(utf8proc_int32_t(c))); }
char32_t simple_title(char32_t c) { return char32_t(utf8proc_totitle(utf8proc_int32_t(c))); }

// Unicode's Case_Ignorable, which the final-sigma rule looks through: marks, format
// controls, modifier letters and symbols by category, plus the apostrophes, periods and
// colons that do not end a word (Word_Break MidLetter, MidNumLet, Single_Quote), a
// property utf8proc does not carry.
bool is_case_ignorable(char32_t c)
{
    switch (category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK: return true;
    default: break;
    }
    constexpr char32_t kWordInternal[] = {0x0027, 0x002E, 0x003A, 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019,
                                          0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
    return std::find(std::begin(kWordInternal), std::end(kWordInternal), c) != std::end(kWordInternal);
}

// Σ is ς at the end of a word: after a cased letter and not before one, looking through
// case-ignorable characters on both sides (Python's handle_capital_sigma).
bool is_final_sigma(const CodePoints& text, size_t i)
{
    size_t before = i;
    while (before > 0 && is_case_ignorable(text[before - 1])) --before;
    size_t after = i + 1;
    while (after < text.size() && is_case_ignorable(text[after])) ++after;
    return before > 0 && is_cased(text[before - 1]) && !(after < text.size() && is_cased(text[after]));
}

// Each appends the mapping of text[i]; only lower case needs the neighbours (for Σ).
void append_upper(std::string& out, const CodePoints& text, size_t i)
{
    if (text[i] == kSharpS) out += "SS";
    else utf8_append(out, simple_upper(text[i]));
}

void append_title(std::string& out, const CodePoints& text, size_t i)
{
    if (text[i] == kSharpS) out += "Ss";
    else utf8_append(out, simple_title(text[i]));
}

void append_lower(std::string& out, const CodePoints& text, size_t i)
{
    if (text[i] == kCapitalIWithDotAbove) out += "i\u0307";  // i + combining dot above
    else if (text[i] == kCapitalSigma) utf8_append(out, is_final_sigma(text, i) ? 0x03C2 : 0x03C3);
    else utf8_append(out, simple_lower(text[i]));
}

template <class Append>
std::string map_code_points(std::string_view text, Append append)
{
    const CodePoints cps = code_points(text);
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < cps.size(); ++i) append(out, cps, i);
    return out;
}

}  // namespace

// Lowercase = Ll or Other_Lowercase, Uppercase = Lu or Other_Uppercase. utf8proc has the
// categories but not the Other_ properties; a case partner stands in for those (circled
// letters ⓐ Ⓐ, Roman numerals ⅰ Ⅰ, U+0345). Missed: caseless modifier letters such as ª and ʰ.
bool is_lowercase(char32_t c)
{
    const utf8proc_category_t cat = category(c);
    return cat == UTF8PROC_CATEGORY_LL || (cat != UTF8PROC_CATEGORY_LT && simple_upper(c) != c);
}

bool is_uppercase(char32_t c)
{
    const utf8proc_category_t cat = category(c);
    return cat == UTF8PROC_CATEGORY_LU || (cat != UTF8PROC_CATEGORY_LT && simple_lower(c) != c);
}

bool is_cased(char32_t c) { return is_lowercase(c) || is_uppercase(c) || category(c) == UTF8PROC_CATEGORY_LT; }

std::string python_upper(std::string_view text) { return map_code_points(text, append_upper); }
std::string python_lower(std::string_view text) { return map_code_points(text, append_lower); }

// Each character after a cased one is lowered, every other one titlecased.
std::string python_title(std::string_view text)
{
    return map_code_points(text, [](std::string& out, const CodePoints& cps, size_t i) {
        if (i > 0 && is_cased(cps[i - 1])) append_lower(out, cps, i);
        else append_title(out, cps, i);
    });
}

std::string python_capitalize(std::string_view text)
{
    return map_code_points(text, [](std::string& out, const CodePoints& cps, size_t i) {
        if (i == 0) append_title(out, cps, i);
        else append_lower(out, cps, i);
    });
}

std::string python_swapcase(std::string_view text)
{
    return map_code_points(text, [](std::string& out, const CodePoints& cps, size_t i) {
        if (is_uppercase(cps[i])) append_lower(out, cps, i);
        else if (is_lowercase(cps[i])) append_upper(out, cps, i);
        else utf8_append(out, cps[i]);
    });
}

}  // namespace mariana::jinja
