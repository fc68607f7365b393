// libFuzzer target: arbitrary bytes as one JSON line, read the way every JSON and JSON Lines
// reader of the project reads one (parse_json, then JsonFields: score, tokenize, detokenize,
// plot's metrics.jsonl, training data .jsonl, config.json): each field through each typed
// accessor, and every value's json_summary, which error messages print. Each must return or
// throw mariana::Error; a summary must stay short whatever the value (hostile nesting or
// megabytes of text included).
#include "core/error.h"
#include "core/json.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

template <class Read>
void try_read(Read read)
{
    try {
        read();
    } catch (const mariana::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    mariana::Json json;
    try {
        json = mariana::parse_json(text, "fuzz line 1");
    } catch (const mariana::Error&) {
        return 0;
    }
    if (mariana::json_summary(json).size() > 400) std::abort();  // 60 bytes of text, each escaped to at most 6
    if (!json.is_object()) {
        try_read([&] { mariana::JsonFields fields(json, "fuzz line 1"); });
        return 0;
    }
    const mariana::JsonFields fields(json, "fuzz line 1");
    for (auto it = json.begin(); it != json.end(); ++it) {
        const std::string key = it.key();
        if (mariana::json_summary(*it).size() > 400) std::abort();  // 60 bytes of text, each escaped to at most 6
        try_read([&] { (void)fields.integer(key); });
        try_read([&] { (void)fields.number(key); });
        try_read([&] { (void)fields.string(key); });
        try_read([&] { (void)fields.boolean_or(key, false); });
        try_read([&] { (void)fields.object(key); });
        try_read([&] { (void)fields.raw(key); });
    }
    try_read([&] { (void)fields.string("absent"); });
    return 0;
}
