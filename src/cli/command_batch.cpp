// mariana batch: generates for every line of a JSON Lines file, many sequences at once on
// the engine, and writes one JSON line per completion (formats/batch_request.h has the
// input). An output line is the input's fields plus "index" (the input line number, from
// 1), "sample" (with several samples per line), "reasoning" (the text inside
// <think>…</think>), "content" (the text after it), "finish_reason", "prompt_tokens",
// "completion_tokens", and with --logprobs "tokens" and "logprobs" (and "top_logprobs").
//
// Lines are written as they finish (--ordered: in input order), each with one write, so an
// interrupted run loses no finished line, and --resume continues it: lines (and samples)
// already in the output are skipped, and a last line cut off mid-write is dropped. A bad
// line is reported on stderr with its number; --on-error skip (the default) goes on, stop
// ends the run as Ctrl-C does: sequences in flight are dropped, finished ones kept.
#include "cli/commands.h"
#include "cli/generation_options.h"
#include "cli/model_loading.h"
#include "core/error.h"
#include "core/utf8.h"
#include "formats/batch_request.h"
#include "formats/chat_template.h"
#include "runtime/reasoning_stream.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unistd.h>

namespace mariana {

namespace {

using OrderedJson = nlohmann::ordered_json;

std::atomic<bool> interrupted{false};

struct BatchArgs {
    std::string model, input, output, compute = "auto", on_error = "skip";
    GenerationParams generate;
    EngineFlags engine;
    int64_t samples = 1, top_logprobs = 0;
    bool ordered = false, resume = false, logprobs = false;
    int threads = 0;
};

// (line, sample) pairs already in an output file being resumed. A last line without its
// newline (the run died writing it) is cut off the file.
std::set<std::pair<int64_t, int64_t>> finished_in(const std::string& path)
{
    std::set<std::pair<int64_t, int64_t>> done;
    std::ifstream in(path, std::ios::binary);
    if (!in) return done;
    std::string line;
    int64_t number = 0, complete_bytes = 0;
    while (std::getline(in, line)) {
        ++number;
        if (in.eof()) break;  // no newline after it: cut off
        complete_bytes += int64_t(line.size()) + 1;
        try {
            const OrderedJson record = parse_ordered_json(line, "");
            done.emplace(record.at("index").get<int64_t>(), record.value("sample", int64_t(0)));
        } catch (const std::exception&) {
            fail("{} line {}: not an output line of mariana batch; cannot resume from it", path, number);
        }
    }
    if (std::filesystem::file_size(path) != uint64_t(complete_bytes)) {
        std::filesystem::resize_file(path, uint64_t(complete_bytes));
        std::fprintf(stderr, "%s: dropped a last line cut off mid-write\n", path.c_str());
    }
    return done;
}

int64_t count_lines(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    int64_t n = 0;
    std::string line;
    while (std::getline(in, line)) n += !line.empty();
    return n;
}

// Splits a completion's text at </think>: the reasoning, then the answer.
std::pair<std::string, std::string> split_reasoning(const std::string& text, bool starts_in_reasoning)
{
    ReasoningStream stream(starts_in_reasoning);
    std::pair<std::string, std::string> out;
    auto add = [&](const std::vector<ReasoningStream::Piece>& pieces) {
        for (const auto& p : pieces) (p.reasoning ? out.first : out.second) += p.text;
    };
    add(stream.push(text));
    add(stream.finish());
    return out;
}

uint64_t line_seed(uint64_t seed, int64_t line)
{
    uint64_t x = seed ^ (uint64_t(line) * 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

class Batch {
public:
    explicit Batch(BatchArgs args)
        : args_(std::move(args)),
          model_(load_model_with(args_.model, args_.compute)),
          tokenizer_(Tokenizer::load(args_.model)),
          engine_(*model_, engine_options(args_.engine, *model_, &tokenizer_)),
          pool_(args_.threads)
    {
        Sampler check(args_.generate.sampler);  // bad flags fail before any line is read
        if (args_.samples < 1) fail("--samples must be at least 1, got {}", args_.samples);
        add_tokenizer_stops(tokenizer_, args_.generate);
        if (args_.logprobs || args_.top_logprobs > 0) args_.generate.top_logprobs = args_.top_logprobs;
        input_.open(args_.input, std::ios::binary);
        if (!input_) fail("--input {}: cannot open it", args_.input);
        const bool exists = std::filesystem::exists(args_.output) && std::filesystem::file_size(args_.output) > 0;
        if (exists && !args_.resume)
            fail("--output {} exists and is not empty: add --resume to continue it, or remove it", args_.output);
        if (args_.resume) done_ = finished_in(args_.output);
        output_ = std::fopen(args_.output.c_str(), "ab");
        if (!output_) fail("--output {}: cannot open it for writing", args_.output);
        total_lines_ = count_lines(args_.input);
    }
    ~Batch()
    {
        if (output_) std::fclose(output_);
    }

    // Returns the process's exit status.
    int run()
    {
        start_ = std::chrono::steady_clock::now();
        const int64_t in_flight_limit = 2 * args_.engine.max_sequences;
        while (!stopped_) {
            while (!input_done_ && int64_t(sequences_.size()) < in_flight_limit && !stopped_) read_line();
            if (engine_.idle()) break;
            for (const SequenceId id : engine_.step(pool_))
                if (engine_.sequence(id).finished()) finish(id);
            if (interrupted) stop("interrupted");
            progress(false);
        }
        progress(true);
        if (stopped_) {
            std::fprintf(stderr, "%s: %lld lines written; run again with --resume to continue\n", reason_.c_str(),
                         (long long)written_);
            return interrupted ? 130 : 1;
        }
        if (failed_ > 0) std::fprintf(stderr, "%lld input lines failed (see above)\n", (long long)failed_);
        return 0;
    }

private:
    struct Line {
        int64_t pending = 0;               // samples not finished
        std::map<int64_t, std::string> out;  // finished records (--ordered), by sample
        std::shared_ptr<const OrderedJson> input;
        bool opens_reasoning = false;
        int64_t samples = 1;
    };

    void read_line()
    {
        std::string text;
        if (!std::getline(input_, text)) {
            if (input_.bad()) fail("--input {}: read error", args_.input);
            input_done_ = true;
            return;
        }
        const int64_t number = ++line_number_;
        if (text.empty()) return;
        Line& line = lines_[number];
        try {
            add_line(number, text, line);
        } catch (const Error& e) {
            // Messages name the line and the field, never echo a string value (it may be huge
            // or hostile).
            const std::string message = e.what();
            const std::string prefix = fmt::format("{} line {}", args_.input, number);
            std::fprintf(stderr, "%s\n", message.starts_with(prefix) ? message.c_str()
                                                                     : (prefix + ": " + message).c_str());
            ++failed_;
            ++lines_done_;
            for (const auto& [id, where] : sequences_)
                if (where.first == number) {
                    engine_.cancel(id);
                    engine_.erase(id);
                }
            std::erase_if(sequences_, [&](const auto& s) { return s.second.first == number; });
            line.pending = 0;
            line.out.clear();
            if (args_.on_error == "stop") stop("stopped at a bad line (--on-error stop)");
        }
        if (line.pending == 0 && !args_.ordered) lines_.erase(number);
        flush_ordered();
    }

    void add_line(int64_t number, const std::string& text, Line& line)
    {
        const std::string where = fmt::format("{} line {}", args_.input, number);
        BatchRequest r = parse_batch_request(text, where);
        std::string prompt_text;
        std::vector<int32_t> prompt;
        if (r.prompt) {
            prompt_text = *r.prompt;
            prompt = tokenizer_.encode(prompt_text, true);
        } else {
            if (!template_) template_.emplace(ChatTemplate::load(args_.model + "/tokenizer_config.json"));
            prompt_text = template_->render(r.messages, true, r.tools, r.template_kwargs);
            prompt = tokenizer_.encode(prompt_text, false);  // the template wrote BOS
        }
        GenerationParams params = args_.generate;
        if (r.temperature) params.sampler.temperature = float(*r.temperature);
        if (r.top_p) params.sampler.top_p = float(*r.top_p);
        if (r.max_tokens) params.max_new_tokens = *r.max_tokens;
        if (r.stop) params.stop_strings = *r.stop;
        const uint64_t seed = r.seed ? *r.seed : line_seed(args_.generate.sampler.seed, number);
        line.samples = r.n.value_or(args_.samples);
        line.opens_reasoning = prompt_opens_reasoning(prompt_text);
        line.input = std::make_shared<const OrderedJson>(std::move(r.input));
        for (int64_t k = 0; k < line.samples; ++k) {
            if (done_.count({number, k})) continue;
            params.sampler.seed = seed + uint64_t(k);
            const SequenceId id = engine_.add(prompt, params);  // throws for this line's problems
            sequences_[id] = {number, k};
            ++line.pending;
        }
        if (line.pending == 0) ++lines_done_;
    }

    void finish(SequenceId id)
    {
        const auto [number, k] = sequences_.at(id);
        sequences_.erase(id);
        Line& line = lines_.at(number);
        const Sequence& s = engine_.sequence(id);
        OrderedJson record = *line.input;
        record["index"] = number;
        if (line.samples > 1) record["sample"] = k;
        const auto [reasoning, content] = split_reasoning(utf8_repair(s.text), line.opens_reasoning);
        record["reasoning"] = reasoning;
        record["content"] = content;
        record["finish_reason"] = finish_reason_name(s.finish);
        record["prompt_tokens"] = s.prompt.size();
        record["completion_tokens"] = s.completion.size();
        if (args_.logprobs) {
            record["tokens"] = s.completion;
            record["logprobs"] = s.logprobs;
            if (args_.top_logprobs > 0) {
                OrderedJson top = OrderedJson::array();
                for (const auto& alternatives : s.top_logprobs) {
                    OrderedJson entry = OrderedJson::array();
                    for (const TokenLogprob& t : alternatives) entry.push_back({t.token, t.logprob});
                    top.push_back(std::move(entry));
                }
                record["top_logprobs"] = std::move(top);
            }
        }
        tokens_ += int64_t(s.completion.size());
        engine_.erase(id);
        std::string text = record.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
        text += '\n';
        if (--line.pending == 0) ++lines_done_;
        if (args_.ordered) {
            line.out[k] = std::move(text);
            flush_ordered();
        } else {
            write(text);
            if (line.pending == 0) lines_.erase(number);
        }
    }

    // --ordered: writes the lines at the front whose samples have all finished.
    void flush_ordered()
    {
        while (!lines_.empty() && lines_.begin()->second.pending == 0) {
            for (const auto& [k, text] : lines_.begin()->second.out) write(text);
            lines_.erase(lines_.begin());
        }
    }

    void write(const std::string& text)
    {
        if (std::fwrite(text.data(), 1, text.size(), output_) != text.size() || std::fflush(output_) != 0)
            fail("--output {}: write failed (disk full?)", args_.output);
        ++written_;
    }

    void stop(std::string reason)
    {
        stopped_ = true;
        reason_ = std::move(reason);
        for (const auto& [id, where] : sequences_) engine_.cancel(id);
    }

    void progress(bool last)
    {
        const auto now = std::chrono::steady_clock::now();
        if (!last && now - shown_ < std::chrono::milliseconds(250)) return;
        shown_ = now;
        const double seconds = std::chrono::duration<double>(now - start_).count();
        const double rate = seconds > 0 ? double(tokens_) / seconds : 0.0;
        std::string eta = "-";
        if (lines_done_ > 0 && total_lines_ > lines_done_) {
            const int64_t left = int64_t(seconds / double(lines_done_) * double(total_lines_ - lines_done_));
            eta = fmt::format("{}:{:02}:{:02}", left / 3600, left / 60 % 60, left % 60);
        }
        const int width = 30;
        const int filled = total_lines_ > 0 ? int(width * std::min<int64_t>(lines_done_, total_lines_) / total_lines_) : 0;
        const std::string bar = std::string(size_t(filled), '=') + std::string(size_t(width - filled), ' ');
        const std::string status = fmt::format("[{}] {}/{} lines, {:.1f} tokens/s, ETA {}", bar, lines_done_,
                                               total_lines_, rate, eta);
        if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r%s%s", status.c_str(), last ? "\n" : "");
        else if (last) std::fprintf(stderr, "%s, %.1f s\n", status.c_str(), seconds);
    }

    BatchArgs args_;
    std::unique_ptr<Model> model_;
    Tokenizer tokenizer_;
    std::optional<ChatTemplate> template_;  // loaded with the first "messages" line
    Engine engine_;
    ThreadPool pool_;
    std::ifstream input_;
    std::FILE* output_ = nullptr;
    std::set<std::pair<int64_t, int64_t>> done_;
    std::map<int64_t, Line> lines_;                                // lines with samples running
    std::map<SequenceId, std::pair<int64_t, int64_t>> sequences_;  // -> (line, sample)
    int64_t line_number_ = 0, total_lines_ = 0, lines_done_ = 0, failed_ = 0, written_ = 0, tokens_ = 0;
    bool input_done_ = false, stopped_ = false;
    std::string reason_;
    std::chrono::steady_clock::time_point start_, shown_;
};

}  // namespace

std::function<void()> add_batch_command(CLI::App& app)
{
    auto args = std::make_shared<BatchArgs>();
    args->generate.max_new_tokens = -1;  // reasoning traces are long: up to the end of the context
    args->engine.context = 8192;
    CLI::App* command = app.add_subcommand("batch", "Generate for every line of a JSON Lines file, many at once");
    command->add_option("--model", args->model, "Folder with the checkpoint, tokenizer.json and tokenizer_config.json")
        ->required();
    command->add_option("--input", args->input, "JSON Lines: {\"messages\": [...]} or {\"prompt\": \"...\"} per line")
        ->required();
    command->add_option("--output", args->output, "JSON Lines written as completions finish")->required();
    command->add_option("--samples", args->samples, "Completions per line (a line's \"n\" wins)")
        ->check(CLI::Range(int64_t(1), int64_t(1024)))->capture_default_str();
    command->add_flag("--ordered", args->ordered, "Write lines in input order rather than as they finish");
    command->add_flag("--resume", args->resume, "Continue an interrupted run: skip lines already in --output");
    command->add_flag("--logprobs", args->logprobs, "Write each completion's tokens and their log-probabilities");
    command->add_option("--top-logprobs", args->top_logprobs, "With --logprobs, this many alternatives per token")
        ->check(CLI::Range(int64_t(0), int64_t(20)));
    command->add_option("--on-error", args->on_error, "After a bad line: skip it, or stop")
        ->check(CLI::IsMember({"skip", "stop"}))->capture_default_str();
    add_generation_options(*command, args->generate);
    add_engine_options(*command, args->engine);
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (!command->parsed()) return;
        int status = 0;
        {
            Batch batch(*args);
            std::signal(SIGINT, [](int) {
                interrupted = true;
                std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends at once
            });
            status = batch.run();
        }
        if (status != 0) std::exit(status);
    };
}

}  // namespace mariana
