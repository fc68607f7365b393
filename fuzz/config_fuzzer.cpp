// libFuzzer target: arbitrary bytes as a config.json. parse_json then parse_model_config
// must either succeed or throw mariana::Error; nlohmann type errors, other exceptions and
// crashes are bugs.
#include "core/error.h"
#include "core/json.h"
#include "model/config.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const mariana::Json json = mariana::parse_json(text, "fuzz");
        const mariana::ModelConfig config = mariana::parse_model_config(json, "fuzz/config.json");
        (void)config;
    } catch (const mariana::Error&) {
    }
    return 0;
}
