// libFuzzer target: arbitrary bytes through the DeepSeek-V3 tokenizer (three Oniguruma
// patterns, 818 added tokens, no normalizer). Encoding must never crash or hang, and
// decoding must give back the input exactly, after invalid UTF-8 is replaced by U+FFFD
// (the documented repair); the streamed decode must equal the one-shot decode.
#include "core/utf8.h"
#include "formats/tokenizer/stream_decoder.h"
#include "formats/tokenizer/tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

const mariana::Tokenizer* tokenizer_ptr = nullptr;

}  // namespace

// Loading the 128k-token file takes seconds in this instrumented build; done here it does
// not count against the per-input timeout, as it would inside the first input's run.
extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    static const mariana::Tokenizer loaded =
        mariana::Tokenizer::load(std::string(MARIANA_SHARED_DIR) + "/golden/tokenizer/deepseek-v3");
    tokenizer_ptr = &loaded;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const mariana::Tokenizer& tokenizer = *tokenizer_ptr;
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
