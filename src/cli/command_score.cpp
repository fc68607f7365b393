// mariana score / perplexity: teacher-forced log-probabilities of given text under a model,
// per token (score) or as a text's perplexity counted like llama.cpp's (perplexity).
#include "cli/commands.h"
#include "cli/json_lines.h"
#include "cli/model_loading.h"
#include "core/error.h"
#include "core/text_file.h"
#include "formats/score_request.h"
#include "model/model.h"
#include "runtime/scoring.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

namespace mariana {

namespace {

std::optional<Tokenizer> tokenizer_if_present(const std::string& dir)
{
    if (!std::filesystem::exists(dir + "/tokenizer.json")) return std::nullopt;
    return Tokenizer::load(dir);
}

}  // namespace

std::function<void()> add_score_command(CLI::App& app)
{
    struct Args {
        std::string model, input, compute = "auto";
        int threads = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand(
        "score", "Print each JSON line's token log-probabilities under the model: {\"text\": ...}, {\"ids\": [...]} or "
                 "{\"prompt\": ..., \"completion\": ...} in, {\"logprobs\": [...], \"sum_logprob\": ..., \"perplexity\": ...} out");
    command->add_option("--model", args->model, "Checkpoint folder (with tokenizer.json for text lines)")->required();
    command->add_option("--input", args->input, "JSON Lines file (- for stdin)")->required();
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (!command->parsed()) return;
        std::ifstream file;
        if (args->input != "-") {
            file.open(args->input, std::ios::binary);
            if (!file) fail("cannot open {}", args->input);
        }
        std::istream& in = args->input == "-" ? std::cin : file;
        std::unique_ptr<Model> model = load_model_with(args->model, args->compute);
        const std::optional<Tokenizer> tokenizer = tokenizer_if_present(args->model);
        ThreadPool pool(args->threads);
        const ModelConfig& config = model->config();
        for_each_json_line(in, args->input == "-" ? "stdin" : args->input, [&](const JsonFields& line) {
            const ScoreRequest request = parse_score_request(line, tokenizer ? &*tokenizer : nullptr, config.vocab_size,
                                                             config.max_position_embeddings);
            const std::vector<double> logprobs = token_logprobs(*model, request.tokens, request.first_scored, pool);
            double sum = 0;
            for (const double v : logprobs) sum += v;
            print_json_line({{"logprobs", logprobs},
                             {"sum_logprob", sum},
                             {"perplexity", std::exp(-sum / double(logprobs.size()))}});
        });
    };
}

std::function<void()> add_perplexity_command(CLI::App& app)
{
    struct Args {
        std::string model, data, compute = "auto";
        int64_t ctx = 512;
        int threads = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand(
        "perplexity", "A text file's perplexity, counted as llama.cpp's llama-perplexity does (windows of --ctx "
                      "tokens, each scoring its second half)");
    command->add_option("--model", args->model, "Checkpoint folder with tokenizer.json")->required();
    command->add_option("--data", args->data, "UTF-8 text file")->required()->check(CLI::ExistingFile);
    command->add_option("--ctx", args->ctx, "Tokens per window")->check(CLI::Range(int64_t(4), int64_t(1) << 24));
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (!command->parsed()) return;
        std::unique_ptr<Model> model = load_model_with(args->model, args->compute);
        const std::optional<Tokenizer> tokenizer = tokenizer_if_present(args->model);
        if (!tokenizer) fail("{} has no tokenizer.json; perplexity needs one to encode {}", args->model, args->data);
        // As llama-perplexity: the whole text encoded once with the special tokens the
        // tokenizer adds, and each window's first token replaced by BOS when it adds one.
        const std::vector<int32_t> tokens = tokenizer->encode(read_text_file(args->data), true);
        const bool adds_bos = !tokens.empty() && tokenizer->bos_id() >= 0 && tokens.front() == tokenizer->bos_id();
        for (const int32_t id : tokens)
            if (id >= model->config().vocab_size)
                fail("{}: the tokenizer gives token {}, outside the model's vocabulary of {}", args->data, id,
                     model->config().vocab_size);
        ThreadPool pool(args->threads);
        const Perplexity p = windowed_perplexity(*model, tokens, args->ctx, adds_bos ? tokenizer->bos_id() : -1, pool,
                                                 [&](int64_t window, double running) {
                                                     std::fprintf(stderr, "[%lld]%.4f,", (long long)window + 1, running);
                                                     std::fflush(stderr);
                                                 });
        std::fprintf(stderr, "\n");
        std::printf("perplexity %.4f +/- %.5f over %lld windows of %lld tokens (%lld tokens scored of %zu)\n", p.value,
                    p.standard_error, (long long)p.windows, (long long)args->ctx, (long long)p.scored_tokens,
                    tokens.size());
    };
}

}  // namespace mariana
