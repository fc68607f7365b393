#include "formats/tokenizer/regex.h"

#include "core/error.h"
#include "formats/tokenizer/unicode_16_additions.h"

#include <oniguruma.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace mariana {

namespace {

// Backtracking budgets: far above what the tokenizer patterns need on any input (they
// match in linear time), low enough that a catastrophic pattern fails in about a second.
constexpr unsigned long kRetryLimitInMatch = 10'000'000;
constexpr unsigned long kRetryLimitInSearch = 100'000'000;

// The name under which Oniguruma knows a category's Unicode 16 additions.
std::string additions_property(const unicode_16::CategoryAdditions& category)
{
    return std::string("MarianaUnicode16") + category.long_name;
}

void initialize_oniguruma()
{
    static std::once_flag once;
    std::call_once(once, [] {
        OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
        onig_initialize(encodings, 1);
        onig_set_retry_limit_in_match(kRetryLimitInMatch);
        onig_set_retry_limit_in_search(kRetryLimitInSearch);
        for (const auto& category : unicode_16::kAdditions) {
            // Oniguruma keeps the pointer, hence the tables' static storage.
            const int code = onig_unicode_define_user_property(additions_property(category).c_str(),
                                                               const_cast<OnigCodePoint*>(category.ranges));
            if (code != ONIG_NORMAL) fail("Oniguruma refused the Unicode 16 table for \\p{{{}}} (code {})", category.short_name, code);
        }
    });
}

bool same_name(std::string_view a, std::string_view b)
{
    return std::ranges::equal(a, b, [](char x, char y) { return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y)); });
}

// Rewrites \p{L} as [\p{L}\p{MarianaUnicode16Letter}] (and \P{L} or \p{^L} as its negation)
// for the five categories with additions, so the pattern classifies by Unicode 16. A nested
// class is a union in Oniguruma's syntax, so the same text works inside and outside [...].
std::string widen_to_unicode_16(std::string_view pattern)
{
    std::string out;
    out.reserve(pattern.size());
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '\\' || i + 1 == pattern.size()) {
            out += pattern[i];
            continue;
        }
        const char kind = pattern[i + 1];
        const size_t close = pattern.find('}', i);
        if ((kind == 'p' || kind == 'P') && i + 2 < pattern.size() && pattern[i + 2] == '{' && close != std::string_view::npos) {
            std::string_view name = pattern.substr(i + 3, close - (i + 3));
            bool negated = kind == 'P';
            if (name.starts_with('^')) {
                negated = !negated;
                name.remove_prefix(1);
            }
            const auto category = std::ranges::find_if(unicode_16::kAdditions, [&](const auto& c) {
                return same_name(name, c.short_name) || same_name(name, c.long_name);
            });
            if (category != unicode_16::kAdditions.end()) {
                out += negated ? "[^" : "[";
                out += "\\p{" + std::string(name) + "}\\p{" + additions_property(*category) + "}]";
                i = close;
                continue;
            }
        }
        out += pattern.substr(i, 2);  // any other escape, \\ included, stays as written
        ++i;
    }
    return out;
}

std::string onig_message(int code, OnigErrorInfo* info)
{
    OnigUChar text[ONIG_MAX_ERROR_MESSAGE_LEN];
    const int length = info ? onig_error_code_to_str(text, code, info) : onig_error_code_to_str(text, code);
    return std::string(reinterpret_cast<const char*>(text), length > 0 ? length : 0);
}

const OnigUChar* bytes(std::string_view s) { return reinterpret_cast<const OnigUChar*>(s.data()); }

}  // namespace

struct Regex::Compiled {
    OnigRegex regex = nullptr;
    ~Compiled() { onig_free(regex); }
};

Regex::Regex(std::string_view pattern, std::string_view what) : compiled_(std::make_unique<Compiled>()), what_(what)
{
    initialize_oniguruma();
    const std::string widened = widen_to_unicode_16(pattern);
    OnigErrorInfo info;
    const int code = onig_new(&compiled_->regex, bytes(widened), bytes(widened) + widened.size(), ONIG_OPTION_NONE,
                              ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &info);
    if (code != ONIG_NORMAL) {
        compiled_->regex = nullptr;
        fail("{}: the regular expression does not compile: {}", what_, onig_message(code, &info));
    }
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

Regex::Match Regex::search(std::string_view text, size_t from) const
{
    // A region per call keeps concurrent searches on one Regex independent.
    struct RegionDeleter {
        void operator()(OnigRegion* r) const { onig_region_free(r, 1); }
    };
    std::unique_ptr<OnigRegion, RegionDeleter> region(onig_region_new());
    const OnigUChar* begin = bytes(text);
    const OnigUChar* end = begin + text.size();
    const int position = onig_search(compiled_->regex, begin, end, begin + from, end, region.get(), ONIG_OPTION_NONE);
    if (position == ONIG_MISMATCH) return {};
    if (position < 0) fail("{}: matching failed: {}", what_, onig_message(position, nullptr));
    return {static_cast<size_t>(region->beg[0]), static_cast<size_t>(region->end[0]), true};
}

}  // namespace mariana
