// mariana: the command-line front end. See README.md for the commands.
#include "cli/commands.h"
#include "core/error.h"

#include <cstdio>
#include <exception>
#include <new>

namespace mariana {

void add_threads_option(CLI::App& command, int& threads)
{
    command.add_option("--threads", threads, "Threads to compute with (0: one per hardware thread)")
        ->check(CLI::Range(0, 1024));
}

}  // namespace mariana

int main(int argc, char** argv)
{
    CLI::App app{"Mariana: a C++ engine for DeepSeek-style language models"};
    app.require_subcommand(1);
    const std::function<void()> commands[] = {
        mariana::add_init_command(app),
        mariana::add_logits_command(app),
        mariana::add_run_command(app),
        mariana::add_inspect_command(app),
        mariana::add_bench_command(app),
        mariana::add_tokenize_command(app),
        mariana::add_detokenize_command(app),
        mariana::add_chat_template_command(app),
        mariana::add_tokenizer_command(app),
        mariana::add_chat_command(app),
        mariana::add_batch_command(app),
        mariana::add_train_command(app),
        mariana::add_plot_command(app),
        mariana::add_score_command(app),
        mariana::add_perplexity_command(app),
    };
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        for (const auto& command : commands) command();
    } catch (const mariana::Error& e) {
        std::fprintf(stderr, "mariana: error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "mariana: error: out of memory\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mariana: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
