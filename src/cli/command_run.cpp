// mariana run: generate from a prompt, given as text (-p, through the model's tokenizer)
// or as token ids (--tokens, printing ids).
#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/sampling_options.h"
#include "core/error.h"
#include "model/model.h"
#include "formats/tokenizer/stream_decoder.h"
#include "runtime/session.h"

#include <chrono>
#include <cstdio>
#include <memory>
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
        GenerateOptions generate;
        int threads = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand("run", "Generate from a text prompt (-p) or from token ids (--tokens)");
    command->add_option("--model", args->model, "Checkpoint folder (with tokenizer.json for -p)")->required();
    CLI::Option* tokens = command->add_option("--tokens", args->tokens, "Prompt token ids, comma-separated; prints ids");
    CLI::Option* prompt = command->add_option("-p,--prompt", args->prompt, "Prompt text; prints text");
    tokens->excludes(prompt);
    command->add_option("-n,--max-new-tokens", args->generate.max_new_tokens, "Tokens to generate")->check(CLI::NonNegativeNumber);
    add_sampling_options(*command, args->generate.sampler);
    command->add_flag("!--ignore-eos", args->generate.stop_at_eos, "Keep generating after the end-of-sequence token");
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (!command->parsed()) return;
        if (args->prompt.empty() && args->tokens.empty()) fail("run: give a prompt, -p TEXT or --tokens IDS");
        std::unique_ptr<Model> model = load_model_with(args->model, args->compute);
        ThreadPool pool(args->threads);
        const auto start = std::chrono::steady_clock::now();
        std::vector<int32_t> prompt, tokens;
        if (!args->prompt.empty()) {
            const Tokenizer tokenizer = Tokenizer::load(args->model);
            prompt = tokenizer.encode(args->prompt, true);
            if (tokenizer.eos_id() >= 0) args->generate.stop_tokens.push_back(tokenizer.eos_id());
            StreamDecoder text(tokenizer, true);
            auto print = [](const std::string& piece) {
                std::fwrite(piece.data(), 1, piece.size(), stdout);
                std::fflush(stdout);
            };
            tokens = generate(*model, prompt, args->generate, pool, [&](int32_t token) {
                print(text.push(token));
                return true;
            });
            print(text.finish());
        } else {
            prompt = parse_token_list(args->tokens);
            bool first = true;
            tokens = generate(*model, prompt, args->generate, pool, [&](int32_t token) {
                std::printf(first ? "%d" : ",%d", token);
                std::fflush(stdout);
                first = false;
                return true;
            });
        }
        std::printf("\n");
        std::fflush(stdout);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "%zu prompt + %zu new tokens in %.2f s\n", prompt.size(), tokens.size(), seconds);
    };
}

}  // namespace mariana
