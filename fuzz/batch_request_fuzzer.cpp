// libFuzzer target: arbitrary bytes as one line of `mariana batch`'s input, through
// parse_batch_request. It must return a request that holds what it promises (exactly one
// of prompt and messages, fields within their ranges) or throw mariana::Error naming the
// line; anything else (a crash, a hang, another exception) is a bug.
#include "core/error.h"
#include "formats/batch_request.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const mariana::BatchRequest r = mariana::parse_batch_request(text, "fuzz line 1");
        if (r.prompt.has_value() == r.messages.is_array()) std::abort();
        if (r.temperature && !(*r.temperature >= 0.0)) std::abort();
        if (r.top_p && !(*r.top_p > 0.0 && *r.top_p <= 1.0)) std::abort();
        if ((r.max_tokens && *r.max_tokens < 1) || (r.n && (*r.n < 1 || *r.n > 1024))) std::abort();
        if (r.stop)
            for (const std::string& s : *r.stop)
                if (s.empty()) std::abort();
        // Writing the line back out (as batch does) must not throw.
        (void)r.input.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    } catch (const mariana::Error& e) {
        if (std::string_view(e.what()).substr(0, 11) != "fuzz line 1") std::abort();
    }
    return 0;
}
