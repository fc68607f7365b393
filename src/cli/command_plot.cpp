// mariana plot: a training run's RUN_DIR/metrics.jsonl (one JSON object per optimiser step)
// drawn as one PNG, a panel per quantity against the step: loss, learning rate, gradient
// norm, throughput and MoE balance. gnuplot draws it, as a child process fed its script and
// data on standard input; no path or text from the user reaches a shell.
#include "cli/commands.h"
#include "core/error.h"
#include "core/json.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <map>
#include <memory>
#include <spawn.h>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace mariana {

namespace {

namespace fs = std::filesystem;

// ---- reading metrics.jsonl --------------------------------------------------------------

// The numeric keys a line may hold besides "step"; any may be missing on a given line, and
// null (how nlohmann writes NaN) counts as missing. Other keys are ignored.
constexpr std::string_view kMetricKeys[] = {"loss",      "val_loss",     "mtp_loss",        "balance_loss", "lr",
                                            "grad_norm", "tokens_per_s", "expert_load_max", "elapsed_s"};

// One metric against the step, in file order.
struct Series {
    std::vector<int64_t> steps;
    std::vector<double> values;
};

struct MetricsLog {
    std::map<std::string, Series, std::less<>> series;  // by key; only keys that occur
    int64_t steps = 0;                                  // lines read, one per step
};

// Reads every line of path. A last line without its newline that is not valid JSON is what
// a run killed mid-write leaves: skipped with a warning. Anything else malformed is an Error
// naming path:line.
MetricsLog read_metrics(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open: {}", path, std::strerror(errno));
    MetricsLog log;
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line, '\n')) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = fmt::format("{}:{}", path, number);
        const bool unterminated = in.eof();
        Json record;
        try {
            record = parse_json(line, where);
        } catch (const Error&) {
            if (!unterminated) throw;
            std::fprintf(stderr, "mariana: warning: %s: incomplete last line (a run stopped mid-write?) skipped\n",
                         where.c_str());
            break;
        }
        const JsonFields fields(record, where);
        const int64_t step = fields.integer("step");
        for (std::string_view key : kMetricKeys) {
            if (!fields.has(key)) continue;
            const double value = fields.number(key);
            auto it = log.series.find(key);
            if (it == log.series.end()) it = log.series.emplace(std::string(key), Series{}).first;
            it->second.steps.push_back(step);
            it->second.values.push_back(value);
        }
        ++log.steps;
    }
    if (in.bad()) fail("{}: read error on line {}", path, number + 1);
    if (log.steps == 0) fail("{}: no metrics: the file {}", path, number == 0 ? "is empty" : "holds no complete line");
    return log;
}

// ---- the gnuplot script -----------------------------------------------------------------

struct Curve {
    std::string_view key;
    std::string_view title;
    std::string_view style;  // gnuplot's `with` clause
};

// One graph of the multiplot, drawn when any of its curves has a value. The y axis is
// logarithmic when every value is positive and max/min reaches log_ratio (0: always linear).
struct Panel {
    std::string_view title;
    std::vector<Curve> curves;
    double log_ratio;
};

const std::vector<Panel>& panels()
{
    static const std::vector<Panel> all = {
        {"loss (nats)",
         {{"loss", "train", "lines lw 1.5"},
          {"val_loss", "validation", "linespoints lw 1.5 pt 7 ps 0.6"},
          {"mtp_loss", "MTP", "lines lw 1.5"}},
         2.0},
        {"learning rate", {{"lr", "lr", "lines lw 1.5"}}, 0.0},
        {"gradient norm", {{"grad_norm", "grad norm", "lines lw 1.5"}}, 100.0},
        {"throughput (tokens/s)", {{"tokens_per_s", "tokens/s", "lines lw 1.5"}}, 0.0},
        {"expert load (max/mean, worst MoE layer)", {{"expert_load_max", "max/mean", "lines lw 1.5"}}, 0.0},
        {"balance loss", {{"balance_loss", "balance", "lines lw 1.5"}}, 100.0},
    };
    return all;
}

// A gnuplot single-quoted string: there '' stands for a quote and nothing else is special;
// a control character (a line break would end the command) becomes '?'.
std::string gnuplot_quoted(std::string_view text)
{
    std::string quoted = "'";
    for (const char c : text) {
        if (c == '\'')
            quoted += "''";
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            quoted += '?';
        else
            quoted += c;
    }
    return quoted + "'";
}

// The y axis commands for one panel: gnuplot's own linear axis, or a log axis over the
// data's range (not widened to whole decades) with ticks at 1-2-5 or 1..9 times a power of
// ten, so that even a range narrower than a decade has labelled ticks.
std::string y_axis(const Panel& panel, const MetricsLog& log)
{
    const std::string linear = "unset logscale y\nset autoscale y\nset ytics autofreq\n";
    if (panel.log_ratio <= 0.0) return linear;
    double lo = 0.0, hi = 0.0;
    bool any = false;
    for (const Curve& curve : panel.curves) {
        const auto it = log.series.find(curve.key);
        if (it == log.series.end()) continue;
        for (const double v : it->second.values) {
            if (!(v > 0.0)) return linear;
            lo = any ? std::min(lo, v) : v;
            hi = any ? std::max(hi, v) : v;
            any = true;
        }
    }
    if (!any || hi / lo < panel.log_ratio) return linear;
    lo /= 1.05, hi *= 1.05;
    std::vector<double> ticks;
    for (const std::vector<double>& multiples : {std::vector<double>{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
        ticks.clear();
        for (double decade = std::pow(10.0, std::floor(std::log10(lo))); decade <= hi; decade *= 10.0)
            for (const double m : multiples)
                if (m * decade >= lo && m * decade <= hi) ticks.push_back(m * decade);
        if (ticks.size() >= 4) break;
    }
    return fmt::format("set logscale y\nset yrange [{:g}:{:g}]\nset ytics ({:g})\n", lo, hi, fmt::join(ticks, ", "));
}

struct Script {
    std::string text;
    std::vector<std::string_view> panel_titles;
};

// The whole gnuplot program: the data as inline blocks, then one plot per panel, the PNG on
// gnuplot's standard output (pngcairo when gnuplot has it, else the plain png terminal).
Script plot_script(const MetricsLog& log, std::string_view title, std::string_view source)
{
    std::vector<const Panel*> shown;
    for (const Panel& panel : panels())
        for (const Curve& curve : panel.curves)
            if (log.series.contains(curve.key)) {
                shown.push_back(&panel);
                break;
            }
    if (shown.empty())
        fail("{}: nothing to plot: no line has any of loss, val_loss, mtp_loss, lr, grad_norm, tokens_per_s, "
             "expert_load_max, balance_loss",
             source);
    const int n = static_cast<int>(shown.size());
    const int columns = n == 1 ? 1 : 2;
    const int rows = (n + columns - 1) / columns;
    const int width = columns == 1 ? 1000 : 1400, height = 420 * rows;

    Script script;
    std::string& s = script.text;
    s += "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n";
    s += fmt::format("  set terminal pngcairo size {},{} noenhanced font ',10'\n", width, height);
    s += "} else {\n";
    s += fmt::format("  set terminal png size {},{} noenhanced\n", width, height);
    s += "}\n";
    s += "set output\n";  // standard output
    for (const auto& [key, series] : log.series) {
        s += fmt::format("${} << EOD\n", key);
        for (size_t i = 0; i < series.steps.size(); ++i) s += fmt::format("{} {}\n", series.steps[i], series.values[i]);
        s += "EOD\n";
    }
    // The offsets keep a flat curve (a constant lr) off the frame.
    s += "set grid\nset key top right\nset xlabel 'step'\nset format y '%g'\n";
    s += "set offsets 0, 0, graph 0.05, graph 0.05\n";
    s += fmt::format("set multiplot layout {},{} title {}\n", rows, columns, gnuplot_quoted(title));
    for (const Panel* panel : shown) {
        s += fmt::format("set title {}\n", gnuplot_quoted(panel->title));
        s += y_axis(*panel, log);
        // One curve needs no key: the panel's title names it.
        s += panel->curves.size() > 1 ? "set key\n" : "unset key\n";
        std::string plot;
        for (const Curve& curve : panel->curves) {
            const auto it = log.series.find(curve.key);
            if (it == log.series.end()) continue;
            // A single point draws no line.
            const std::string_view style = it->second.steps.size() == 1 ? "points pt 7" : curve.style;
            plot += fmt::format("{}${} using 1:2 with {} title {}", plot.empty() ? "plot " : ", ", curve.key, style,
                                gnuplot_quoted(curve.title));
        }
        s += plot + "\n";
        script.panel_titles.push_back(panel->title);
    }
    s += "unset multiplot\n";
    return script;
}

// ---- running gnuplot --------------------------------------------------------------------

// A file descriptor closed when it goes out of scope.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset()
    {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

// Writes text to fd, stopping early if the reader has gone (EPIPE). SIGPIPE is ignored
// meanwhile so that a gnuplot that dies early shows in its exit status instead of killing us.
void write_all(int fd, std::string_view text)
{
    struct sigaction ignore = {}, previous = {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous);
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        text.remove_prefix(static_cast<size_t>(n));
    }
    sigaction(SIGPIPE, &previous, nullptr);
}

// The last non-empty line gnuplot wrote to the file behind errors (its error message).
std::string last_line(std::FILE* errors)
{
    std::rewind(errors);
    std::string text;
    char block[4096];
    for (size_t n; (n = std::fread(block, 1, sizeof block, errors)) > 0;) text.append(block, n);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    const size_t start = text.find_last_of('\n');
    return start == std::string::npos ? text : text.substr(start + 1);
}

// Runs `gnuplot -d` (no init files) with script on its standard input and its standard
// output going to out_fd. Throws Error when gnuplot is not installed or fails.
void run_gnuplot(const std::string& script, int out_fd)
{
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> errors(std::tmpfile(), &std::fclose);
    if (!errors) fail("cannot create a temporary file for gnuplot's messages: {}", std::strerror(errno));
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail("cannot create a pipe to gnuplot: {}", std::strerror(errno));
    Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, read_end.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fileno(errors.get()), STDERR_FILENO);
    char program[] = "gnuplot", default_settings[] = "-d";
    char* argv[] = {program, default_settings, nullptr};
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, program, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    read_end.reset();
    if (spawned == ENOENT)
        fail("gnuplot is not installed (not found on PATH); install it: apt-get install gnuplot-nox");
    if (spawned != 0) fail("cannot start gnuplot: {}", std::strerror(spawned));

    write_all(write_end.get(), script);
    write_end.reset();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail("waiting for gnuplot: {}", std::strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    const std::string how = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                              : fmt::format("signal {}", WTERMSIG(status));
    const std::string message = last_line(errors.get());
    fail("gnuplot failed ({}){}{}", how, message.empty() ? "" : ": ", message);
}

// Draws script into out: into a temporary file beside it, renamed over out once gnuplot
// succeeded, so a failure leaves no half-written PNG.
void write_png(const std::string& script, const std::string& out)
{
    std::string temp = out + ".XXXXXX";
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) fail("{}: cannot create: {}", out, std::strerror(errno));
    Fd file(fd);
    try {
        // mkostemp makes the file private (0600); give it the mode a new file gets.
        const mode_t mask = ::umask(0);
        ::umask(mask);
        if (::fchmod(file.get(), 0666 & ~mask) != 0)
            fail("{}: cannot set permissions: {}", temp, std::strerror(errno));
        run_gnuplot(script, file.get());
        struct stat info = {};
        if (::fstat(file.get(), &info) != 0 || info.st_size == 0) fail("gnuplot wrote nothing to {}", out);
        file.reset();
        if (std::rename(temp.c_str(), out.c_str()) != 0) fail("{}: cannot write: {}", out, std::strerror(errno));
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
}

// The run folder's own name, for the title ("runs/tiny/" → "tiny").
std::string run_name(const std::string& run_dir)
{
    fs::path path = fs::absolute(run_dir).lexically_normal();
    if (!path.has_filename()) path = path.parent_path();
    return path.filename().string();
}

}  // namespace

std::function<void()> add_plot_command(CLI::App& app)
{
    auto run_dir = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    CLI::App* command = app.add_subcommand("plot", "Plot a training run's metrics.jsonl to a PNG (needs gnuplot)");
    command->add_option("run_dir", *run_dir, "Training run folder holding metrics.jsonl")->required();
    command->add_option("--out", *out, "PNG to write (default: RUN_DIR/metrics.png)");
    return [command, run_dir, out] {
        if (!command->parsed()) return;
        std::error_code error;
        if (!fs::is_directory(*run_dir, error)) fail("{}: no such run folder", *run_dir);
        const std::string metrics = (fs::path(*run_dir) / "metrics.jsonl").string();
        if (!fs::exists(metrics, error)) fail("{}: no such file (is {} a training run?)", metrics, *run_dir);
        if (fs::is_directory(metrics, error)) fail("{}: is a folder, not a file", metrics);
        const MetricsLog log = read_metrics(metrics);
        const std::string png = out->empty() ? (fs::path(*run_dir) / "metrics.png").string() : *out;
        const Script script = plot_script(log, run_name(*run_dir), metrics);
        write_png(script.text, png);
        fmt::print("{}: {} step{}; {}\n", png, log.steps, log.steps == 1 ? "" : "s",
                   fmt::join(script.panel_titles, ", "));
    };
}

}  // namespace mariana
