// libFuzzer target: arbitrary bytes as one `mariana chat-template` request line, parsed
// (parse_chat_request) and, when it parses, rendered with DeepSeek-R1's template shape (a
// loop over messages, tool calls, tojson). Each must return or throw mariana::Error: no
// crash, no hang, no other exception, whatever the nesting, numbers or strings.
#include "core/error.h"
#include "formats/chat_template.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

const mariana::ChatTemplate& chat_template()
{
    static const mariana::ChatTemplate t = [] {
        mariana::ChatTemplate made = mariana::ChatTemplate::from_source(
            "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}<|User|>{{ m['content'] }}"
            "{% elif m['role'] == 'assistant' %}<|Assistant|>{% if m['tool_calls'] %}{% for c in m['tool_calls'] %}"
            "{{ c['function']['name'] }}{{ c['function']['arguments'] | tojson }}{% endfor %}{% endif %}"
            "{{ m['content'] }}<|end|>{% else %}{{ m['content'] | string | upper }}{% endif %}{% endfor %}"
            "{% if tools %}{{ tools | tojson }}{% endif %}{% if add_generation_prompt %}<|Assistant|><think>\\n{% endif %}",
            nlohmann::ordered_json{{"bos_token", "<|begin|>"}}, "fuzz");
        made.limits.max_output_bytes = 1 << 16;  // each input finishes in milliseconds
        made.limits.max_steps = 100000;
        return made;
    }();
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    try {
        const mariana::ChatRequest r = mariana::parse_chat_request(line, false);
        (void)chat_template().render(r.messages, r.add_generation_prompt, r.tools, r.template_kwargs);
    } catch (const mariana::Error&) {
    }
    return 0;
}
