// mariana tokenize / detokenize: JSON Lines through the model's tokenizer, one object per
// line in and out, so scripts and tests can drive the tokenizer like the HF libraries.
#include "cli/commands.h"
#include "core/error.h"
#include "core/json.h"
#include "formats/tokenizer/tokenizer.h"

#include <cstdio>
#include <iostream>
#include <memory>

namespace mariana {

namespace {

// Calls `handle` with each non-empty stdin line parsed as a JSON object; errors name the line.
template <class Handle>
void for_each_input_line(Handle handle)
{
    std::string line;
    for (int64_t number = 1; std::getline(std::cin, line, '\n'); ++number) {
        if (line.empty()) continue;
        const std::string where = fmt::format("stdin line {}", number);
        const Json input = parse_json(line, where);
        if (!input.is_object()) fail("{}: expected a JSON object", where);
        handle(JsonFields(input, where));
    }
}

void print_line(const Json& output)
{
    // Invalid UTF-8 cannot occur (decode repairs it); replace keeps dump() from throwing.
    const std::string text = output.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
}

}  // namespace

std::function<void()> add_tokenize_command(CLI::App& app)
{
    struct Args {
        std::string model;
        bool add_special_tokens = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand("tokenize", "Encode {\"text\": ...} lines from stdin to {\"ids\": [...]}");
    command->add_option("--model", args->model, "Folder with tokenizer.json (and tokenizer_config.json)")->required();
    command->add_flag("--add-special-tokens", args->add_special_tokens, "Add BOS/EOS as the tokenizer's config says");
    return [command, args] {
        if (!command->parsed()) return;
        const Tokenizer tokenizer = Tokenizer::load(args->model);
        for_each_input_line([&](const JsonFields& input) {
            print_line({{"ids", tokenizer.encode(input.string("text"), args->add_special_tokens)}});
        });
    };
}

std::function<void()> add_detokenize_command(CLI::App& app)
{
    struct Args {
        std::string model;
        bool skip_special_tokens = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand("detokenize", "Decode {\"ids\": [...]} lines from stdin to {\"text\": ...}");
    command->add_option("--model", args->model, "Folder with tokenizer.json (and tokenizer_config.json)")->required();
    command->add_flag("--skip-special-tokens", args->skip_special_tokens, "Leave out special tokens");
    return [command, args] {
        if (!command->parsed()) return;
        const Tokenizer tokenizer = Tokenizer::load(args->model);
        for_each_input_line([&](const JsonFields& input) {
            const Json& ids = input.raw("ids");
            if (!ids.is_array()) input.fail_field("ids", fmt::format("must be a list of token ids, got {}", ids.dump()));
            std::vector<int32_t> list;
            for (const Json& id : ids) {
                if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= tokenizer.vocab_size())
                    input.fail_field("ids", fmt::format("holds {}, which is not a token id below {}", id.dump(),
                                                        tokenizer.vocab_size()));
                list.push_back(id.get<int32_t>());
            }
            print_line({{"text", tokenizer.decode(list, {.skip_special_tokens = args->skip_special_tokens, .clean_up_spaces = {}})}});
        });
    };
}

}  // namespace mariana
