// A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) for byte-level BPE
// models: DeepSeek-V3/R1, the Qwen2 family (R1-Distill-Qwen) and Llama 3 (R1-Distill-Llama).
//
// encode(text) = cut out added tokens -> normalizer -> pre-tokenizer -> BPE per piece ->
// post-processor (BOS/EOS). decode(ids) = each id's bytes concatenated, then read as UTF-8
// with invalid sequences replaced. Text that is not valid UTF-8 is repaired the same way
// before encoding (each maximal invalid subsequence becomes U+FFFD), since the reference
// only accepts valid strings. Anything in tokenizer.json that Mariana does not implement is
// an error naming it when the tokenizer is loaded, never a silently different encoding.
#pragma once

#include "core/json.h"
#include "formats/tokenizer/added_vocabulary.h"
#include "formats/tokenizer/bpe.h"
#include "formats/tokenizer/normalizer.h"
#include "formats/tokenizer/pre_tokenizer.h"
#include "formats/tokenizer/tokenizer_json.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mariana {

class Tokenizer {
public:
    // Reads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json.
    static Tokenizer load(const std::string& dir);
    // `config` is tokenizer_config.json's content or null; `what` names the source in errors.
    static Tokenizer from_json(TokenizerJson tokenizer, const Json& config, const std::string& what);

    std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;

    struct DecodeOptions {
        bool skip_special_tokens = false;
        // Transformers' clean-up of spaces before punctuation (" ." -> "."); the default
        // comes from tokenizer_config.json's clean_up_tokenization_spaces.
        std::optional<bool> clean_up_spaces;
    };
    // Throws Error for an id that has no token.
    std::string decode(std::span<const int32_t> ids, DecodeOptions options) const;
    std::string decode(std::span<const int32_t> ids) const { return decode(ids, DecodeOptions{}); }

    // The bytes id stands for (possibly part of a UTF-8 character). Throws for unknown ids.
    const std::string& token_bytes(int32_t id) const;
    // The token as written in tokenizer.json (byte-level alphabet for vocabulary tokens).
    const std::string& token_text(int32_t id) const;
    bool is_special(int32_t id) const { return id >= 0 && id < vocab_size() && special_[id]; }
    // One more than the largest id.
    int32_t vocab_size() const { return static_cast<int32_t>(id_bytes_.size()); }
    // The id of an added token or vocabulary entry written exactly as `content`.
    std::optional<int32_t> token_id(std::string_view content) const;

    // From tokenizer_config.json (-1 when not set).
    int32_t bos_id() const { return bos_id_; }
    int32_t eos_id() const { return eos_id_; }

private:
    Tokenizer() = default;
    void encode_plain(std::string_view text, std::vector<int32_t>& ids) const;

    std::unique_ptr<Normalizer> normalizer_;
    std::unique_ptr<PreTokenizer> pre_tokenizer_;
    std::unique_ptr<Bpe> bpe_;
    AddedVocabulary added_;
    std::vector<int32_t> prefix_, suffix_;   // what add_special_tokens puts around the ids
    std::vector<std::string> id_bytes_;      // index: id
    std::vector<std::string> id_text_;       // index: id ("" for a hole)
    std::vector<bool> has_token_, special_;  // index: id
    // Added tokens and vocabulary entries outside the byte-level alphabet; every other
    // token is found through the BPE vocabulary (token_id).
    std::unordered_map<std::string, int32_t> other_text_to_id_;
    int32_t bos_id_ = -1, eos_id_ = -1;
    bool clean_up_spaces_ = false;
};

}  // namespace mariana
