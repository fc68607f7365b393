// mariana run: generate from a prompt, given as text (-p, through the model's tokenizer)
// or as token ids (--tokens, printing ids).
#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/generation_options.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/engine.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>

namespace mariana {

namespace {

std::vector<int32_t> parse_token_list(const std::string& text)
{
    std::vector<int32_t> tokens;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        size_t used = 0;
        long long value = -1;
        try {
            value = std::stoll(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || item.empty() || value < 0 || value > INT32_MAX)
            fail("--tokens: '{}' is not a token id (expected a comma-separated list like 1,2,3)", item);
        tokens.push_back(int32_t(value));
    }
    if (tokens.empty()) fail("--tokens: the list is empty");
    return tokens;
}

}  // namespace

std::function<void()> add_run_command(CLI::App& app)
{
    struct Args {
        std::string model, tokens, prompt, compute = "auto";
        GenerationParams generate;
        EngineFlags engine;
        int threads = 0;
    };
    auto args = std::make_shared<Args>();
    args->generate.max_new_tokens = 32;
    args->engine.max_sequences = 1;
    CLI::App* command = app.add_subcommand("run", "Generate from a text prompt (-p) or from token ids (--tokens)");
    command->add_option("--model", args->model, "Checkpoint folder (with tokenizer.json for -p)")->required();
    CLI::Option* tokens = command->add_option("--tokens", args->tokens, "Prompt token ids, comma-separated; prints ids");
    CLI::Option* prompt = command->add_option("-p,--prompt", args->prompt, "Prompt text; prints text");
    tokens->excludes(prompt);
    add_generation_options(*command, args->generate);
    command->add_option("--context", args->engine.context, "Most tokens (0: prompt + --max-new-tokens)")
        ->check(CLI::NonNegativeNumber);
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (!command->parsed()) return;
        if (args->prompt.empty() && args->tokens.empty()) fail("run: give a prompt, -p TEXT or --tokens IDS");
        std::unique_ptr<Model> model = load_model_with(args->model, args->compute);
        ThreadPool pool(args->threads);
        const auto start = std::chrono::steady_clock::now();
        std::optional<Tokenizer> tokenizer;
        std::vector<int32_t> prompt;
        if (!args->prompt.empty()) {
            tokenizer = Tokenizer::load(args->model);
            prompt = tokenizer->encode(args->prompt, true);
            add_tokenizer_stops(*tokenizer, args->generate);
        } else {
            prompt = parse_token_list(args->tokens);
        }
        if (args->engine.context == 0 && args->generate.max_new_tokens > 0)
            args->engine.context = int64_t(prompt.size()) + args->generate.max_new_tokens;
        Engine engine(*model, engine_options(args->engine, *model, tokenizer ? &*tokenizer : nullptr));
        size_t hold = 0;
        for (const std::string& stop : args->generate.stop_strings) hold = std::max(hold, stop.size() - 1);
        const size_t prompt_tokens = prompt.size();
        const SequenceId id = engine.add(std::move(prompt), args->generate);
        size_t printed = 0;  // bytes of text, or tokens with --tokens
        while (!engine.idle()) {
            engine.step(pool);
            const Sequence& s = engine.sequence(id);
            if (tokenizer) {
                const size_t end = settled_text_end(s, hold);
                std::fwrite(s.text.data() + printed, 1, end - printed, stdout);
                printed = end;
            } else {
                for (; printed < s.completion.size(); ++printed) std::printf(printed ? ",%d" : "%d", s.completion[printed]);
            }
            std::fflush(stdout);
        }
        std::printf("\n");
        std::fflush(stdout);
        const Sequence& s = engine.sequence(id);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "%zu prompt + %zu new tokens in %.2f s (%s)\n", prompt_tokens, s.completion.size(),
                     seconds, finish_reason_name(s.finish));
    };
}

}  // namespace mariana
