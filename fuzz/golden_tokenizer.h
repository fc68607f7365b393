// The DeepSeek-V3 tokenizer of shared/golden, for the fuzzers that encode text. Loading the
// 128k-token file takes seconds in the instrumented build, so each fuzzer calls this from
// LLVMFuzzerInitialize, where it does not count against the first input's timeout.
#pragma once

#include "formats/tokenizer/tokenizer.h"

#include <string>

inline const mariana::Tokenizer& golden_deepseek_tokenizer()
{
    static const mariana::Tokenizer loaded =
        mariana::Tokenizer::load(std::string(MARIANA_SHARED_DIR) + "/golden/tokenizer/deepseek-v3");
    return loaded;
}
