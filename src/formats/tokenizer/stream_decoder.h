// Turns generated ids into text as they come without ever printing half a character:
// tokens often end inside a multi-byte UTF-8 character (DeepSeek spells "👍🏽" over three
// tokens). Bytes are held back while they can still become a valid character; a sequence
// that can no longer become valid is emitted as U+FFFD exactly as the one-shot decode
// would, so the pieces always concatenate to decode(all ids).
#pragma once

#include "formats/tokenizer/tokenizer.h"

#include <string>

namespace mariana {

class StreamDecoder {
public:
    StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
        : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

    // The text that `id` completes (often empty, sometimes several characters).
    std::string push(int32_t id);
    // Whatever is still held back, at the end of generation.
    std::string finish();

private:
    std::string take(bool final);

    const Tokenizer& tokenizer_;
    bool skip_special_;
    std::string pending_;  // bytes not yet emitted
};

}  // namespace mariana
