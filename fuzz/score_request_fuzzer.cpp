// libFuzzer target: arbitrary bytes as one line of `mariana score`'s input, through the
// same parse_json + parse_score_request the command runs, with the DeepSeek-V3 tokenizer.
// It must return a request that holds what it promises (2 to max tokens, ids inside the
// vocabulary, something to score) or throw mariana::Error; anything else is a bug.
#include "core/error.h"
#include "core/json.h"
#include "formats/score_request.h"
#include "golden_tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

constexpr int64_t kVocab = 129280, kMaxTokens = 4096;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    golden_deepseek_tokenizer();  // loaded before the first input, not during it
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const mariana::Json line = mariana::parse_json(text, "fuzz line 1");
        const mariana::ScoreRequest r =
            mariana::parse_score_request(mariana::JsonFields(line, "fuzz line 1"), &golden_deepseek_tokenizer(), kVocab, kMaxTokens);
        const int64_t n = int64_t(r.tokens.size());
        if (n < 2 || n > kMaxTokens || r.first_scored < 1 || r.first_scored >= n) std::abort();
        for (const int32_t id : r.tokens)
            if (id < 0 || id >= kVocab) std::abort();
    } catch (const mariana::Error&) {
    }
    return 0;
}
