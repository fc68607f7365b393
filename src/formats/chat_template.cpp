#include "formats/chat_template.h"

#include "core/error.h"
#include "core/json.h"
#include "core/text_file.h"

#include <filesystem>
#include <optional>

namespace mariana {

namespace {

using OrderedJson = nlohmann::ordered_json;

// A special token is a string, null, or an AddedToken object {"__type": "AddedToken",
// "content": ...}; transformers passes its content string.
std::optional<std::string> token_content(const OrderedJson& value, const std::string& origin, const std::string& key)
{
    if (value.is_null()) return std::nullopt;
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string())
        return value["content"].get<std::string>();
    fail("{}: field '{}' must be a string, null or an AddedToken object with a string 'content'", origin, key);
}

// The template transformers picks: the string itself, or from a list of named templates
// the one named "default".
std::optional<std::string> pick_template(const OrderedJson& config, const std::string& path)
{
    if (!config.contains("chat_template") || config["chat_template"].is_null()) return std::nullopt;
    const OrderedJson& value = config["chat_template"];
    if (value.is_string()) return value.get<std::string>();
    if (!value.is_array()) fail("{}: field 'chat_template' must be a string or a list of {{name, template}}", path);
    std::string names;
    for (const auto& entry : value) {
        if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template") ||
            !entry["template"].is_string())
            fail("{}: every entry of 'chat_template' must be an object with string 'name' and 'template'", path);
        if (entry["name"] == "default") return entry["template"].get<std::string>();
        names += (names.empty() ? "" : ", ") + entry["name"].get<std::string>();
    }
    fail("{}: 'chat_template' has no template named 'default' (it has: {})", path, names.empty() ? "none" : names);
}

}  // namespace

ChatTemplate ChatTemplate::load(const std::string& tokenizer_config_path)
{
    const OrderedJson config = parse_ordered_json(read_text_file(tokenizer_config_path), tokenizer_config_path);
    if (!config.is_object()) fail("{}: expected a JSON object", tokenizer_config_path);
    if (const auto source = pick_template(config, tokenizer_config_path))
        return from_source(*source, config, tokenizer_config_path + ": chat_template");
    const std::string sibling =
        (std::filesystem::path(tokenizer_config_path).parent_path() / "chat_template.jinja").string();
    if (std::filesystem::exists(sibling)) return from_source(read_text_file(sibling), config, sibling);
    fail("{}: no chat_template (and no chat_template.jinja beside it): this model has no chat template",
         tokenizer_config_path);
}

ChatTemplate ChatTemplate::from_source(const std::string& source, const OrderedJson& config, const std::string& origin)
{
    ChatTemplate t;
    t.origin_ = origin;
    t.source_ = source;
    try {
        t.template_ = jinja::Template::parse(source);
    } catch (const Error& e) {
        fail("{}: {}", origin, e.what());
    }
    if (config.is_object()) {
        // transformers' special_tokens_map: only the tokens that are set.
        for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
            if (!config.contains(key)) continue;
            if (const auto content = token_content(config[key], origin, key)) t.special_tokens_[key] = *content;
        }
        if (config.contains("additional_special_tokens") && !config["additional_special_tokens"].is_null()) {
            const OrderedJson& list = config["additional_special_tokens"];
            if (!list.is_array()) fail("{}: field 'additional_special_tokens' must be a list", origin);
            OrderedJson tokens = OrderedJson::array();
            for (const auto& item : list)
                if (const auto content = token_content(item, origin, "additional_special_tokens")) tokens.push_back(*content);
            t.special_tokens_["additional_special_tokens"] = std::move(tokens);
        }
    }
    return t;
}

std::string ChatTemplate::render(const OrderedJson& messages, bool add_generation_prompt, const OrderedJson& tools,
                                 const OrderedJson& extra_kwargs) const
{
    if (!messages.is_array()) fail("{}: messages must be a list, got {}", origin_, messages.type_name());
    if (!extra_kwargs.is_null() && !extra_kwargs.is_object())
        fail("{}: template keyword arguments must be an object, got {}", origin_, extra_kwargs.type_name());
    std::vector<std::pair<std::string, jinja::Value>> variables;
    const auto set = [&](const std::string& name, jinja::Value value) {
        for (auto& [k, v] : variables)
            if (k == name) {
                v = std::move(value);
                return;
            }
        variables.emplace_back(name, std::move(value));
    };
    try {
        set("messages", jinja::from_json(messages));
        set("tools", jinja::from_json(tools));
        set("documents", jinja::Value::none());
        set("add_generation_prompt", jinja::Value::boolean(add_generation_prompt));
        for (const auto& [name, value] : special_tokens_.items()) set(name, jinja::from_json(value));
        if (extra_kwargs.is_object())
            for (const auto& [name, value] : extra_kwargs.items()) set(name, jinja::from_json(value));
        return template_.render(variables, limits);
    } catch (const Error& e) {
        fail("{}: {}", origin_, e.what());
    }
}

ChatRequest parse_chat_request(std::string_view line, bool add_generation_prompt)
{
    OrderedJson input = parse_ordered_json(line, "request");  // ordered: tojson prints keys as given
    if (!input.is_object()) fail("expected a JSON object");
    ChatRequest request;
    if (!input.contains("messages") || !input["messages"].is_array())
        fail("field 'messages' must be a list of messages");
    request.messages = std::move(input["messages"]);
    request.tools = input.contains("tools") ? std::move(input["tools"]) : OrderedJson();
    if (!request.tools.is_null() && !request.tools.is_array()) fail("field 'tools' must be a list or null");
    request.template_kwargs = input.contains("template_kwargs") ? std::move(input["template_kwargs"]) : OrderedJson::object();
    if (!request.template_kwargs.is_object()) fail("field 'template_kwargs' must be an object");
    request.add_generation_prompt = add_generation_prompt;
    if (input.contains("add_generation_prompt")) {
        if (!input["add_generation_prompt"].is_boolean()) fail("field 'add_generation_prompt' must be true or false");
        request.add_generation_prompt = input["add_generation_prompt"].get<bool>();
    }
    return request;
}

}  // namespace mariana
