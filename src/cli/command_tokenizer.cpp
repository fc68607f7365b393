// mariana tokenizer train: learn a byte-level BPE from text files and write a Hugging Face
// tokenizer (tokenizer.json + tokenizer_config.json) laid out like DeepSeek-R1's, for the
// project's own small models. See docs/tokenizer_training.md.
#include "cli/commands.h"
#include "core/error.h"
#include "formats/tokenizer/bpe_trainer.h"
#include "formats/tokenizer/tokenizer_writer.h"
#include "formats/tokenizer/training_corpus.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace mariana {

namespace {

namespace fs = std::filesystem;

// Far above any vocabulary a model uses (DeepSeek-V3: 129,280), well inside int32 ids.
constexpr int64_t kMaxVocabSize = int64_t(1) << 20;

struct TrainArgs {
    int64_t vocab_size = 0;
    int64_t min_frequency = 2;
    int64_t model_max_length = 131072;
    std::string out;
    std::vector<std::string> files;
    int threads = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check_train_args(const TrainArgs& args)
{
    const int64_t smallest = 256 + static_cast<int64_t>(kTrainedSpecialTokens.size());
    if (args.vocab_size < smallest)
        fail("--vocab-size {} is too small: the 256 single bytes and {} special tokens need {}", args.vocab_size,
             kTrainedSpecialTokens.size(), smallest);
    if (args.vocab_size > kMaxVocabSize) fail("--vocab-size {} is larger than {}", args.vocab_size, kMaxVocabSize);
    if (args.min_frequency < 1) fail("--min-frequency {} must be at least 1", args.min_frequency);
    if (args.model_max_length < 1) fail("--model-max-length {} must be positive", args.model_max_length);
    if (fs::exists(args.out) && !(fs::is_directory(args.out) && fs::is_empty(args.out)))
        fail("{} already exists and is not an empty folder; refusing to overwrite it", args.out);
    for (const std::string& file : args.files) {
        if (!fs::exists(file)) fail("{}: no such file", file);
        if (fs::is_directory(file)) fail("{}: is a folder, not a text file", file);
    }
}

void train(const TrainArgs& args)
{
    check_train_args(args);
    ThreadPool pool(args.threads);

    const auto read_start = std::chrono::steady_clock::now();
    WordCounter counter(trained_special_token_contents());
    int64_t bytes = 0, documents = 0;
    for (const std::string& file : args.files) {
        const CorpusFileStats stats = count_corpus_file(file, counter, pool);
        if (stats.repaired_sequences > 0)
            std::fprintf(stderr, "mariana: warning: %s: %lld invalid UTF-8 sequence(s) replaced by U+FFFD\n",
                         file.c_str(), static_cast<long long>(stats.repaired_sequences));
        bytes += stats.bytes;
        documents += stats.documents;
    }
    if (counter.total_pieces() == 0)
        fail("{}: no text to learn from", args.files.size() == 1 ? args.files[0] : "the training files");
    const double read_seconds = seconds_since(read_start);
    std::printf("read %zu file(s), %.2f MB, %lld documents in %.2f s (%.1f MB/s): %lld pieces, %zu distinct\n",
                args.files.size(), double(bytes) / 1e6, static_cast<long long>(documents), read_seconds,
                double(bytes) / 1e6 / std::max(read_seconds, 1e-9), static_cast<long long>(counter.total_pieces()),
                counter.counts().size());

    const auto train_start = std::chrono::steady_clock::now();
    const int64_t specials = static_cast<int64_t>(kTrainedSpecialTokens.size());
    const BpeModel model =
        train_bpe(counter.counts(), {.vocab_size = args.vocab_size - specials, .min_frequency = args.min_frequency});
    const int64_t vocab = specials + static_cast<int64_t>(model.tokens.size());
    std::printf("learned %zu merges in %.2f s: vocabulary %lld = %lld special + 256 bytes + %lld merged tokens\n",
                model.merges.size(), seconds_since(train_start), static_cast<long long>(vocab),
                static_cast<long long>(specials), static_cast<long long>(model.tokens.size() - 256));
    if (!model.stopped_because.empty())
        std::printf("stopped at %lld of the %lld asked for: %s\n", static_cast<long long>(vocab),
                    static_cast<long long>(args.vocab_size), model.stopped_because.c_str());

    write_trained_tokenizer(model, args.out, {.model_max_length = args.model_max_length});
    std::printf("wrote %s (tokenizer.json, tokenizer_config.json)\n", args.out.c_str());
}

}  // namespace

std::function<void()> add_tokenizer_command(CLI::App& app)
{
    auto args = std::make_shared<TrainArgs>();
    CLI::App* command = app.add_subcommand("tokenizer", "Tokenizer tools (train)");
    command->require_subcommand(1);
    CLI::App* train_command =
        command->add_subcommand("train", "Learn a byte-level BPE from text and write tokenizer.json + tokenizer_config.json");
    train_command->add_option("--vocab-size", args->vocab_size, "Tokens in all, the 7 special tokens included")
        ->required();
    train_command->add_option("--out", args->out, "Folder to create (must not exist or be empty)")->required();
    train_command->add_option("--min-frequency", args->min_frequency, "Never merge a pair seen fewer times than this");
    train_command->add_option("--model-max-length", args->model_max_length, "model_max_length in tokenizer_config.json");
    train_command->add_option("files", args->files, "Text files; *.jsonl and *.json are JSON Lines with a \"text\" field")
        ->required();
    add_threads_option(*train_command, args->threads);
    return [train_command, args] {
        if (train_command->parsed()) train(*args);
    };
}

}  // namespace mariana
