// mariana tokenize / detokenize: JSON Lines through the model's tokenizer, one object per
// line in and out, so scripts and tests can drive the tokenizer like the HF libraries.
#include "cli/commands.h"
#include "cli/json_lines.h"
#include "core/error.h"
#include "core/json.h"
#include "formats/token_ids.h"
#include "formats/tokenizer/tokenizer.h"

#include <iostream>
#include <memory>

namespace mariana {

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
        for_each_json_line(std::cin, "stdin", [&](const JsonFields& input) {
            print_json_line({{"ids", tokenizer.encode(input.string("text"), args->add_special_tokens)}});
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
        for_each_json_line(std::cin, "stdin", [&](const JsonFields& input) {
            const std::vector<int32_t> list = read_token_ids(input, "ids", tokenizer.vocab_size());
            print_json_line({{"text", tokenizer.decode(list, {.skip_special_tokens = args->skip_special_tokens, .clean_up_spaces = {}})}});
        });
    };
}

}  // namespace mariana
