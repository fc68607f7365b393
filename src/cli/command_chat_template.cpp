// mariana chat-template: renders conversations with the model's chat template, as
// tokenizer.apply_chat_template(messages, tokenize=False, ...) does in transformers.
// JSON Lines in and out, so scripts and tests can compare prompts with Python's.
#include "cli/commands.h"
#include "core/error.h"
#include "formats/chat_template.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace mariana {

std::function<void()> add_chat_template_command(CLI::App& app)
{
    struct Args {
        std::string model;
        bool add_generation_prompt = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand(
        "chat-template",
        "Render {\"messages\": [...], \"tools\"?: [...], \"template_kwargs\"?: {...}, \"add_generation_prompt\"?: bool} "
        "lines from stdin to {\"text\": ...} with the model's chat template");
    command->add_option("--model", args->model, "Folder with tokenizer_config.json")->required();
    command->add_flag("--add-generation-prompt", args->add_generation_prompt,
                      "End with the assistant prompt (a line's own add_generation_prompt wins)");
    return [command, args] {
        if (!command->parsed()) return;
        using OrderedJson = nlohmann::ordered_json;
        const ChatTemplate chat_template = ChatTemplate::load(args->model + "/tokenizer_config.json");
        std::string line;
        for (int64_t number = 1; std::getline(std::cin, line, '\n'); ++number) {
            if (line.empty()) continue;
            const std::string where = fmt::format("stdin line {}", number);
            OrderedJson input;  // ordered: tojson must print keys in the order given
            try {
                input = OrderedJson::parse(line);
            } catch (const nlohmann::json::parse_error& e) {
                fail("{}: not valid JSON: {}", where, e.what());
            }
            if (!input.is_object()) fail("{}: expected a JSON object", where);
            if (!input.contains("messages") || !input["messages"].is_array())
                fail("{}: field 'messages' must be a list of messages", where);
            const OrderedJson tools = input.contains("tools") ? input["tools"] : OrderedJson();
            if (!tools.is_null() && !tools.is_array()) fail("{}: field 'tools' must be a list or null", where);
            const OrderedJson kwargs = input.contains("template_kwargs") ? input["template_kwargs"] : OrderedJson::object();
            if (!kwargs.is_object()) fail("{}: field 'template_kwargs' must be an object", where);
            bool add_generation_prompt = args->add_generation_prompt;
            if (input.contains("add_generation_prompt")) {
                if (!input["add_generation_prompt"].is_boolean())
                    fail("{}: field 'add_generation_prompt' must be true or false", where);
                add_generation_prompt = input["add_generation_prompt"].get<bool>();
            }
            std::string text;
            try {
                text = chat_template.render(input["messages"], add_generation_prompt, tools, kwargs);
            } catch (const Error& e) {
                fail("{}: {}", where, e.what());
            }
            const OrderedJson output = {{"text", std::move(text)}};
            const std::string dumped = output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            std::fwrite(dumped.data(), 1, dumped.size(), stdout);
            std::fputc('\n', stdout);
        }
    };
}

}  // namespace mariana
