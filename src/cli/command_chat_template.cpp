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
            std::string text;
            try {
                const ChatRequest r = parse_chat_request(line, args->add_generation_prompt);
                text = chat_template.render(r.messages, r.add_generation_prompt, r.tools, r.template_kwargs);
            } catch (const Error& e) {
                fail("stdin line {}: {}", number, e.what());
            }
            const OrderedJson output = {{"text", std::move(text)}};
            const std::string dumped = output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            std::fwrite(dumped.data(), 1, dumped.size(), stdout);
            std::fputc('\n', stdout);
        }
    };
}

}  // namespace mariana
