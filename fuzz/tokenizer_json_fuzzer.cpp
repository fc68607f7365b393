// libFuzzer target: arbitrary bytes as a tokenizer.json, read the way Tokenizer::load reads
// one (the streamed vocab and merges, then every component's checks). Loading must either
// succeed or throw mariana::Error; a tokenizer that loads must then encode and decode a
// short text (special token, digits, invalid UTF-8) without crashing or hanging.
#include "core/error.h"
#include "core/json.h"
#include "formats/tokenizer/tokenizer.h"
#include "formats/tokenizer/tokenizer_json.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const mariana::Tokenizer tokenizer =
            mariana::Tokenizer::from_json(mariana::parse_tokenizer_json(text, "fuzz"), mariana::Json(), "fuzz");
        const std::vector<int32_t> ids = tokenizer.encode("The cat sat in 2024 <|end|>\xff\xfe end", true);
        (void)tokenizer.decode(ids, {.skip_special_tokens = true, .clean_up_spaces = true});
    } catch (const mariana::Error&) {
    }
    return 0;
}
