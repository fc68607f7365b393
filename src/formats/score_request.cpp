#include "formats/score_request.h"

#include "core/error.h"
#include "formats/token_ids.h"

#include <algorithm>

namespace mariana {

namespace {

const Tokenizer& need_tokenizer(const Tokenizer* tokenizer, const JsonFields& fields, std::string_view key)
{
    if (!tokenizer)
        fields.fail_field(key, "needs a tokenizer (tokenizer.json in the model folder); give \"ids\" instead");
    return *tokenizer;
}

void check_ids(const std::vector<int32_t>& tokens, const JsonFields& fields, std::string_view key, int64_t vocab_size)
{
    for (const int32_t id : tokens)
        if (id >= vocab_size)
            fields.fail_field(key, fmt::format("encodes to token {}, outside the model's vocabulary of {}", id,
                                               vocab_size));
}

}  // namespace

ScoreRequest parse_score_request(const JsonFields& fields, const Tokenizer* tokenizer, int64_t vocab_size,
                                 int64_t max_tokens)
{
    const int forms = int(fields.has("ids")) + int(fields.has("text")) + int(fields.has("prompt") || fields.has("completion"));
    if (forms != 1)
        fail("{}: expected exactly one of {{\"text\": ...}}, {{\"ids\": [...]}} or {{\"prompt\": ..., \"completion\": ...}}",
             fields.source());

    ScoreRequest request;
    std::string_view key;
    if (fields.has("ids")) {
        key = "ids";
        request.tokens = read_token_ids(fields, "ids", vocab_size);
    } else if (fields.has("text")) {
        key = "text";
        request.tokens = need_tokenizer(tokenizer, fields, key).encode(fields.string("text"), true);
    } else {
        key = "completion";
        const std::string prompt = fields.string("prompt"), completion = fields.string("completion");
        const Tokenizer& t = need_tokenizer(tokenizer, fields, "prompt");
        const std::vector<int32_t> prompt_ids = t.encode(prompt, true);
        request.tokens = t.encode(prompt + completion, true);
        const auto [shared, _] = std::mismatch(prompt_ids.begin(), prompt_ids.end(), request.tokens.begin(),
                                               request.tokens.end());
        request.first_scored = std::max<int64_t>(1, shared - prompt_ids.begin());
        if (request.first_scored >= int64_t(request.tokens.size()))
            fields.fail_field("completion", "adds no tokens to score");
    }
    check_ids(request.tokens, fields, key, vocab_size);
    if (request.tokens.size() < 2)
        fields.fail_field(key, fmt::format("gives {} token(s); scoring needs 2 at least (each scored token is "
                                           "predicted from those before it)",
                                           request.tokens.size()));
    if (int64_t(request.tokens.size()) > max_tokens)
        fields.fail_field(key, fmt::format("gives {} tokens, more than the model's context of {}",
                                           request.tokens.size(), max_tokens));
    return request;
}

}  // namespace mariana
