// The `mariana` subcommands. Each file adds one subcommand to the app and runs it; errors
// are thrown as mariana::Error and printed once by main.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace mariana {

// Each returns the function to run when its subcommand was chosen.
std::function<void()> add_init_command(CLI::App& app);
std::function<void()> add_logits_command(CLI::App& app);
std::function<void()> add_run_command(CLI::App& app);
std::function<void()> add_inspect_command(CLI::App& app);
std::function<void()> add_bench_command(CLI::App& app);
std::function<void()> add_tokenize_command(CLI::App& app);
std::function<void()> add_detokenize_command(CLI::App& app);
std::function<void()> add_chat_template_command(CLI::App& app);
std::function<void()> add_tokenizer_command(CLI::App& app);
std::function<void()> add_chat_command(CLI::App& app);
std::function<void()> add_batch_command(CLI::App& app);
std::function<void()> add_train_command(CLI::App& app);
std::function<void()> add_plot_command(CLI::App& app);
std::function<void()> add_score_command(CLI::App& app);
std::function<void()> add_perplexity_command(CLI::App& app);

// --threads N, shared by the commands that compute (0: all hardware threads).
void add_threads_option(CLI::App& command, int& threads);

}  // namespace mariana
