// mariana chat: a multi-turn conversation in the terminal. Each turn renders the whole
// conversation with the model's own chat template; the engine's prefix cache holds the
// pages of the turns before, so only the tokens after them are computed. The reply streams as it is generated, its <think> reasoning dimmed (or
// hidden); Ctrl-C stops a reply and keeps the conversation. With stdin not a terminal,
// each input line is one user message, so the command can be scripted.
#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/generation_options.h"
#include "core/error.h"
#include "core/utf8.h"
#include "formats/chat_template.h"
#include "model/model.h"
#include "runtime/reasoning_stream.h"
#include "runtime/engine.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <string_view>
#include <poll.h>
#include <unistd.h>

namespace mariana {

namespace {

// SIGINT sets a flag (polled between generated tokens) and writes a byte to a pipe, so a
// Ctrl-C at the prompt is seen even when it lands just before the program starts waiting
// for the line: the prompt waits on the terminal and the pipe together.
std::atomic<bool> interrupted{false};
int interrupt_pipe[2] = {-1, -1};

void on_interrupt(int)
{
    interrupted = true;
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = write(interrupt_pipe[1], &byte, 1);  // full pipe: already pending
}

void catch_interrupts()
{
    if (pipe2(interrupt_pipe, O_NONBLOCK | O_CLOEXEC) != 0) fail("cannot create a pipe for Ctrl-C");
    struct sigaction action{};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
}

// Forgets Ctrl-Cs that have been acted on (they stopped a reply).
void forget_interrupts()
{
    interrupted = false;
    char buffer[64];
    while (read(interrupt_pipe[0], buffer, sizeof buffer) > 0) {
    }
}

// Waits until the terminal has a line (or ended) or Ctrl-C was pressed; false for Ctrl-C.
bool wait_for_line()
{
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {interrupt_pipe[0], POLLIN, 0}};
    while (poll(fds, 2, -1) < 0) {
        if (errno != EINTR) return true;  // let getline report the problem
    }
    if (fds[1].revents & POLLIN) {
        forget_interrupts();
        return false;
    }
    return true;
}

struct ChatArgs {
    std::string model, system, compute = "auto";
    GenerationParams generate;
    EngineFlags engine;
    bool hide_thinking = false;
    int threads = 0;
};

// Prints a reply as it streams: reasoning dimmed on a terminal, between <think> tags
// otherwise, or not at all with --hide-thinking.
class ReplyPrinter {
public:
    ReplyPrinter(bool hide_thinking, bool terminal) : hide_(hide_thinking), terminal_(terminal) {}

    void print(const std::vector<ReasoningStream::Piece>& pieces)
    {
        for (const auto& piece : pieces) {
            if (piece.reasoning && hide_) continue;
            if (piece.reasoning != in_reasoning_) {
                in_reasoning_ = piece.reasoning;
                write(terminal_ ? (in_reasoning_ ? "\x1b[2m" : "\x1b[0m") : (in_reasoning_ ? "<think>" : "</think>"));
            }
            write(piece.text);
        }
        std::fflush(stdout);
    }
    void end()
    {
        if (in_reasoning_) write(terminal_ ? "\x1b[0m" : "</think>");
        in_reasoning_ = false;
        write("\n");
        std::fflush(stdout);
    }

private:
    static void write(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

    bool hide_, terminal_;
    bool in_reasoning_ = false;
};

class Chat {
public:
    Chat(const ChatArgs& args)
        : args_(args),
          model_(load_model_with(args.model, args.compute)),
          tokenizer_(Tokenizer::load(args.model)),
          template_(ChatTemplate::load(args.model + "/tokenizer_config.json")),
          engine_(*model_, engine_options(args.engine, *model_, &tokenizer_)),
          pool_(args.threads)
    {
        Sampler check_options(args_.generate.sampler);  // bad sampling flags fail now, not at the first reply
        add_tokenizer_stops(tokenizer_, args_.generate);
        for (const std::string& stop : args_.generate.stop_strings) hold_ = std::max(hold_, stop.size() - 1);
        reset();
    }

    void reset()
    {
        messages_ = nlohmann::ordered_json::array();
        if (!args_.system.empty()) messages_.push_back({{"role", "system"}, {"content", args_.system}});
    }

    void reply(const std::string& user_text, bool terminal)
    {
        messages_.push_back({{"role", "user"}, {"content", user_text}});
        const std::string prompt =
            template_.render(messages_, true, nullptr, nlohmann::ordered_json::object());
        std::vector<int32_t> ids = tokenizer_.encode(prompt, false);  // the template wrote BOS
        ReasoningStream reasoning(prompt_opens_reasoning(prompt));
        ReplyPrinter printer(args_.hide_thinking, terminal);
        forget_interrupts();
        const SequenceId id = engine_.add(std::move(ids), args_.generate);
        size_t printed = 0;
        while (!engine_.idle()) {
            engine_.step(pool_);
            if (interrupted) engine_.cancel(id);
            const Sequence& s = engine_.sequence(id);
            const size_t end = settled_text_end(s, hold_);
            printer.print(reasoning.push(std::string_view(s.text).substr(printed, end - printed)));
            printed = end;
        }
        printer.print(reasoning.finish());
        printer.end();
        if (interrupted) std::fprintf(stderr, "[stopped]\n");
        forget_interrupts();
        // The reply as the model wrote it, for the next turn's template.
        messages_.push_back({{"role", "assistant"}, {"content", utf8_repair(engine_.sequence(id).text)}});
        engine_.erase(id);
    }

private:
    ChatArgs args_;
    std::unique_ptr<Model> model_;
    Tokenizer tokenizer_;
    ChatTemplate template_;
    Engine engine_;
    ThreadPool pool_;
    nlohmann::ordered_json messages_;
    size_t hold_ = 0;  // bytes held back while they may begin a stop string
};

constexpr const char* kHelp = "/reset starts a new conversation, /quit (or Ctrl-D) leaves, Ctrl-C stops a reply.";

void run_chat(const ChatArgs& args)
{
    const bool terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    Chat chat(args);
    catch_interrupts();
    if (terminal) std::printf("%s\n", kHelp);
    for (;;) {
        if (terminal) {
            std::printf("\n> ");
            std::fflush(stdout);
            if (!wait_for_line()) continue;  // Ctrl-C at the prompt: ask again
        }
        std::string line;
        if (!std::getline(std::cin, line)) {
            if (!interrupted) break;  // end of input
            interrupted = false;      // Ctrl-C at the prompt: ask again
            std::cin.clear();
            std::clearerr(stdin);
            std::printf("\n");
            continue;
        }
        if (line == "/quit" || line == "/exit") break;
        if (line == "/reset") {
            chat.reset();
            std::printf("[new conversation]\n");
        } else if (line == "/help") {
            std::printf("%s\n", kHelp);
        } else if (!line.empty() && line[0] == '/') {
            std::printf("unknown command %s; %s\n", line.c_str(), kHelp);
        } else if (!line.empty()) {
            chat.reply(line, terminal);
        }
        std::fflush(stdout);
    }
}

}  // namespace

std::function<void()> add_chat_command(CLI::App& app)
{
    auto args = std::make_shared<ChatArgs>();
    // Sampling defaults as DeepSeek recommends for R1-style models.
    args->generate.sampler.temperature = 0.6f;
    args->generate.sampler.top_p = 0.95f;
    args->generate.max_new_tokens = 2048;
    args->engine.context = 4096;
    args->engine.max_sequences = 1;
    CLI::App* command = app.add_subcommand("chat", "Talk with a model in the terminal (one message per line on stdin)");
    command->add_option("--model", args->model, "Folder with the checkpoint, tokenizer.json and tokenizer_config.json")
        ->required();
    command->add_option("--system", args->system, "System prompt");
    add_generation_options(*command, args->generate);
    command->add_option("--context", args->engine.context, "Most tokens in the conversation")
        ->check(CLI::PositiveNumber)->capture_default_str();
    command->add_option("--cache-mb", args->engine.cache_mb, "KV cache size in MiB (0: one full context)")
        ->check(CLI::NonNegativeNumber);
    command->add_option("--cache-dtype", args->engine.cache_dtype, "KV cache rows in f32, or bf16 for half the memory")
        ->check(CLI::IsMember({"f32", "bf16"}))->capture_default_str();
    command->add_flag("--hide-thinking", args->hide_thinking, "Do not print the <think> reasoning");
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (command->parsed()) run_chat(*args);
    };
}

}  // namespace mariana
