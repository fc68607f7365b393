#include "formats/tokenizer/stream_decoder.h"

#include "core/utf8.h"

namespace mariana {

std::string StreamDecoder::push(int32_t id)
{
    const std::string& bytes = tokenizer_.token_bytes(id);
    if (!(skip_special_ && tokenizer_.is_special(id))) pending_ += bytes;
    return take(false);
}

std::string StreamDecoder::finish() { return take(true); }

std::string StreamDecoder::take(bool final)
{
    std::string out;
    size_t pos = 0;
    while (pos < pending_.size()) {
        if (static_cast<unsigned char>(pending_[pos]) < 0x80) {
            out += pending_[pos++];
            continue;
        }
        int invalid = 0;
        const int valid = utf8_valid_prefix(std::string_view(pending_).substr(pos), invalid);
        if (valid > 0) {
            out.append(pending_, pos, valid);
            pos += valid;
        } else if (!final && pos + invalid == pending_.size()) {
            break;  // a character still arriving
        } else {
            utf8_append(out, kReplacementCharacter);
            pos += invalid;
        }
    }
    pending_.erase(0, pos);
    return out;
}

}  // namespace mariana
