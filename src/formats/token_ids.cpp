#include "formats/token_ids.h"

#include "core/error.h"

namespace mariana {

std::vector<int32_t> read_token_ids(const JsonFields& fields, std::string_view key, int64_t vocab_size)
{
    const Json& ids = fields.raw(key);
    if (!ids.is_array()) fields.fail_field(key, fmt::format("must be a list of token ids, got {}", json_summary(ids)));
    std::vector<int32_t> tokens;
    tokens.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
        const Json& id = ids[i];
        // An unsigned above INT64_MAX would read as negative: it is caught by the first test.
        const bool valid = id.is_number_unsigned() ? id.get<uint64_t>() < uint64_t(vocab_size)
                                                   : id.is_number_integer() && id.get<int64_t>() >= 0 &&
                                                         id.get<int64_t>() < vocab_size;
        if (!valid)
            fields.fail_field(key, fmt::format("item {} is {}, not a token id below {}", i, json_summary(id), vocab_size));
        tokens.push_back(int32_t(id.get<int64_t>()));
    }
    return tokens;
}

}  // namespace mariana
