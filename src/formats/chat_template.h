// A model's chat template: the Jinja2 template from tokenizer_config.json together with
// the special-token strings transformers passes to it, rendered the way
// tokenizer.apply_chat_template(messages, tokenize=False, ...) renders it.
//
//   const ChatTemplate t = ChatTemplate::load(dir + "/tokenizer_config.json");
//   std::string prompt = t.render(messages, /*add_generation_prompt=*/true, nullptr, ordered_json::object());
//
// Messages and tools are nlohmann::ordered_json so that tojson writes keys in the order
// they were given, as Python's json.dumps does. The interpreter is in formats/jinja/
// (docs/chat_templates.md: what is supported, and the limits that bound a render).
#pragma once

#include "formats/jinja/template.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace mariana {

class ChatTemplate {
public:
    // Reads `chat_template` (a string, or a list of {"name", "template"} from which the one
    // named "default" is used) and the special tokens. When the config has no chat
    // template, a chat_template.jinja next to it is used (newer Hugging Face repositories
    // ship it separately); with neither it is an Error naming the file.
    static ChatTemplate load(const std::string& tokenizer_config_path);
    // From template source and a tokenizer_config-like object for the special tokens.
    static ChatTemplate from_source(const std::string& source, const nlohmann::ordered_json& config,
                                    const std::string& origin);

    // The template's variables, as transformers sets them: messages, tools (null when
    // absent), documents (null), add_generation_prompt, the special tokens that are set
    // (bos_token, eos_token, pad_token, unk_token, additional_special_tokens, ...), then
    // extra_kwargs (an object, e.g. {"enable_thinking": false}), which may override them.
    std::string render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                       const nlohmann::ordered_json& tools, const nlohmann::ordered_json& extra_kwargs) const;

    const std::string& source() const { return source_; }
    // Special token strings read from the config, by variable name (bos_token, ...).
    const nlohmann::ordered_json& special_tokens() const { return special_tokens_; }

    jinja::RenderLimits limits;

private:
    std::string origin_;  // "path: chat_template", prefixed to every error
    std::string source_;
    jinja::Template template_;
    nlohmann::ordered_json special_tokens_ = nlohmann::ordered_json::object();
};

// One conversation to render, as a JSON line: {"messages": [...], "tools"?: [...] or null,
// "template_kwargs"?: {...}, "add_generation_prompt"?: true or false} (the line's
// add_generation_prompt wins over `add_generation_prompt`). Throws Error naming the field
// for invalid JSON or a field of the wrong type.
struct ChatRequest {
    nlohmann::ordered_json messages, tools, template_kwargs;
    bool add_generation_prompt = false;
};
ChatRequest parse_chat_request(std::string_view line, bool add_generation_prompt);

}  // namespace mariana
