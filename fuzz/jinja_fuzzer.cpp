// libFuzzer target: arbitrary bytes as a chat template, parsed and rendered over a small
// fixed conversation. Parsing and rendering must either succeed or throw mariana::Error;
// any other exception, a crash, a hang or runaway memory is a bug. The render limits are
// smaller than the defaults so that each input finishes in milliseconds.
#include "core/error.h"
#include "formats/jinja/template.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

const nlohmann::ordered_json& variables()
{
    static const nlohmann::ordered_json v = nlohmann::ordered_json::parse(R"({
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "Hi <tool_response>x</tool_response> é 👍"},
            {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!", "reasoning_content": null,
             "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"b": [1, 2.5, true, null], "a": "x"}}}]},
            {"role": "tool", "content": "42"},
            {"role": "user", "content": ""}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "documents": null,
        "add_generation_prompt": true,
        "bos_token": "<s>", "eos_token": "</s>", "enable_thinking": false})");
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view source(reinterpret_cast<const char*>(data), size);
    mariana::jinja::RenderLimits limits;
    limits.max_output_bytes = 1 << 20;
    limits.max_bytes_built = 16 << 20;
    limits.max_steps = 100'000;
    limits.max_namespaces = 1000;
    try {
        const auto t = mariana::jinja::Template::parse(source);
        (void)t.render(variables(), limits);
    } catch (const mariana::Error&) {
    }
    return 0;
}
