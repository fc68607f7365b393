// libFuzzer target: arbitrary bytes through the DeepSeek-V3 tokenizer (three Oniguruma
// patterns, 818 added tokens, no normalizer). Encoding must never crash or hang, and
// decoding must give back the input exactly, after invalid UTF-8 is replaced by U+FFFD
// (the documented repair); the streamed decode must equal the one-shot decode.
#include "core/utf8.h"
#include "formats/tokenizer/stream_decoder.h"
#include "formats/tokenizer/tokenizer.h"
#include "golden_tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    golden_deepseek_tokenizer();  // loaded before the first input, not during it
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const mariana::Tokenizer& tokenizer = golden_deepseek_tokenizer();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::vector<int32_t> ids = tokenizer.encode(text, false);
    const std::string decoded = tokenizer.decode(ids, {.skip_special_tokens = false, .clean_up_spaces = false});
    if (decoded != mariana::utf8_repair(text)) std::abort();
    std::vector<int32_t> with_bos = tokenizer.encode(text, true);  // transformers adds BOS (id 0)
    if (with_bos.empty() || with_bos[0] != 0 || !std::equal(ids.begin(), ids.end(), with_bos.begin() + 1, with_bos.end()))
        std::abort();

    mariana::StreamDecoder stream(tokenizer, false);
    std::string streamed;
    for (const int32_t id : ids) streamed += stream.push(id);
    streamed += stream.finish();
    if (streamed != tokenizer.decode(ids, {.skip_special_tokens = false, .clean_up_spaces = false})) std::abort();
    return 0;
}
