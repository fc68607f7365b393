#include "formats/tokenizer/regex.h"

#include "core/error.h"

#include <oniguruma.h>

#include <mutex>

namespace mariana {

namespace {

// Backtracking budgets: far above what the tokenizer patterns need on any input (they
// match in linear time), low enough that a catastrophic pattern fails in about a second.
constexpr unsigned long kRetryLimitInMatch = 10'000'000;
constexpr unsigned long kRetryLimitInSearch = 100'000'000;

void initialize_oniguruma()
{
    static std::once_flag once;
    std::call_once(once, [] {
        OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
        onig_initialize(encodings, 1);
        onig_set_retry_limit_in_match(kRetryLimitInMatch);
        onig_set_retry_limit_in_search(kRetryLimitInSearch);
    });
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
    OnigErrorInfo info;
    const int code = onig_new(&compiled_->regex, bytes(pattern), bytes(pattern) + pattern.size(), ONIG_OPTION_NONE,
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
