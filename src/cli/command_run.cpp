// mariana run: generate token ids from a prompt of token ids.
#include "cli/commands.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/generator.h"

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
        std::string model, tokens;
        GenerateOptions generate;
        int threads = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand("run", "Generate token ids from a prompt of token ids");
    command->add_option("--model", args->model, "Checkpoint folder")->required();
    command->add_option("--tokens", args->tokens, "Prompt token ids, comma-separated")->required();
    command->add_option("-n,--max-new-tokens", args->generate.max_new_tokens, "Tokens to generate")->check(CLI::NonNegativeNumber);
    command->add_option("--temperature", args->generate.sampler.temperature, "0: greedy");
    command->add_option("--top-p", args->generate.sampler.top_p, "Nucleus sampling mass");
    command->add_option("--top-k", args->generate.sampler.top_k, "Sample among the k most likely (0: all)");
    command->add_option("--seed", args->generate.sampler.seed, "Sampling seed");
    command->add_flag("!--ignore-eos", args->generate.stop_at_eos, "Keep generating after the end-of-sequence token");
    add_threads_option(*command, args->threads);
    return [command, args] {
        if (!command->parsed()) return;
        const std::vector<int32_t> prompt = parse_token_list(args->tokens);
        std::unique_ptr<Model> model = load_model(args->model);
        ThreadPool pool(args->threads);
        const auto start = std::chrono::steady_clock::now();
        bool first = true;
        const auto tokens = generate(*model, prompt, args->generate, pool, [&](int32_t token) {
            std::printf(first ? "%d" : ",%d", token);
            std::fflush(stdout);
            first = false;
        });
        std::printf("\n");
        std::fflush(stdout);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "%zu prompt + %zu new tokens in %.2f s\n", prompt.size(), tokens.size(), seconds);
    };
}

}  // namespace mariana
