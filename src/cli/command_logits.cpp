// mariana logits: the logits of every position of a token list, as raw float32.
#include "cli/commands.h"
#include "cli/model_loading.h"
#include "core/error.h"
#include "core/json.h"
#include "model/model.h"

#include <cstdio>
#include <memory>

namespace mariana {

namespace {

std::vector<int32_t> read_token_file(const std::string& path)
{
    const Json json = read_json_file(path);
    if (!json.is_array()) fail("{}: expected a JSON list of token ids", path);
    std::vector<int32_t> tokens;
    for (size_t i = 0; i < json.size(); ++i) {
        const Json& v = json[i];
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
            fail("{}: element {} ({}) is not a token id", path, i, json_summary(v));
        tokens.push_back(int32_t(v.get<int64_t>()));
    }
    if (tokens.empty()) fail("{}: the token list is empty", path);
    return tokens;
}

}  // namespace

std::function<void()> add_logits_command(CLI::App& app)
{
    struct Args {
        std::string model, tokens_file, out, compute = "auto";
        int64_t prefill = -1;
        int threads = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand("logits", "Write the logits of every position as little-endian float32 [tokens, vocab]");
    command->add_option("--model", args->model, "Checkpoint folder")->required();
    command->add_option("--tokens-file", args->tokens_file, "JSON list of token ids")->required();
    command->add_option("--out", args->out, "Output file")->required();
    command->add_option("--prefill", args->prefill,
                        "Run the first N tokens as one prefill call, then the rest one at a time through the KV cache")
        ->check(CLI::NonNegativeNumber);
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (!command->parsed()) return;
        const std::vector<int32_t> tokens = read_token_file(args->tokens_file);
        std::unique_ptr<Model> model = load_model_with(args->model, args->compute);
        const int64_t T = int64_t(tokens.size()), V = model->config().vocab_size;
        const int64_t prefill = args->prefill < 0 ? T : args->prefill;
        if (prefill > T) fail("--prefill {} is larger than the {} tokens in {}", prefill, T, args->tokens_file);
        ThreadPool pool(args->threads);
        KvCache cache = model->make_cache(1, T);
        std::vector<float> logits(static_cast<size_t>(T * V));
        std::span<const int32_t> all(tokens);
        int64_t done = 0;
        while (done < T) {
            const int64_t n = done == 0 && prefill > 0 ? prefill : 1;
            const SequenceChunk chunk{cache.slot(0), done, all.subspan(size_t(done), size_t(n))};
            model->forward({&chunk, 1}, cache, LogitsFor::all_tokens, logits.data() + done * V, pool);
            done += n;
        }
        std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(args->out.c_str(), "wb"), &std::fclose);
        if (!out || std::fwrite(logits.data(), sizeof(float), logits.size(), out.get()) != logits.size())
            fail("cannot write {}", args->out);
    };
}

}  // namespace mariana
