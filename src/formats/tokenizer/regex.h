// A compiled regular expression with the semantics of Hugging Face tokenizers' patterns.
// Backed by Oniguruma, the engine the reference itself uses, so \s, \p{...}, case folding
// and alternation behave identically (see golden/tokenizer/NOTES.md, section 7). The one
// rewrite: \p{L}, \p{M}, \p{N}, \p{P} and \p{S} take in the code points Unicode 16 added,
// since Debian's Oniguruma has Unicode 14 tables (unicode_16_additions.h). Input must be
// valid UTF-8.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace mariana {

class Regex {
public:
    // Throws Error naming `what` and Oniguruma's message when the pattern does not compile.
    Regex(std::string_view pattern, std::string_view what);
    ~Regex();
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;

    struct Match {
        size_t begin = 0, end = 0;
        bool found = false;
    };
    // The leftmost match in text[from, text.size()), treating text's end as the end of input
    // (lookaheads stop there). Thread-safe. Throws Error when the match exceeds the
    // backtracking limit (a pathological pattern), rather than running for hours.
    Match search(std::string_view text, size_t from) const;

private:
    struct Compiled;
    std::unique_ptr<Compiled> compiled_;
    std::string what_;
};

}  // namespace mariana
