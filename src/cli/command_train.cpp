// mariana train: pre-train (or continue training) a model from a checkpoint folder.
#include "cli/commands.h"
#include "cli/memory_bandwidth.h"
#include "core/error.h"
#include "core/text_file.h"
#include "train/flops.h"
#include "train/run_directory.h"
#include "train/training_run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unistd.h>

namespace mariana {

namespace {

using namespace train;

struct Args {
    std::string config, model, out, tokenizer, schedule = "cosine", compute = "f32";
    std::vector<std::string> data;
    int64_t steps = 100, batch = 8, seq_len = 256, accumulate = 1, warmup = -1;
    int64_t eval_every = 50, eval_windows = 16, save_every = 100, keep = 3;
    double lr = 3e-4, min_lr = -1, decay_fraction = 0.2, weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, clip = 1.0;
    double val_fraction = 0.05, bias_rate = 0.001, balance_alpha = 0.0001, mtp_weight = 0.3;
    uint64_t seed = 0;
    bool resume = false, skip_nonfinite = false, measure_peak = false;
    int threads = 0;
};

// Options from a TOML file, for each one not given on the command line. (CLI11's own
// config support only reads files given to the top-level program.)
void apply_config_file(CLI::App& command, const std::string& path)
{
    std::vector<CLI::ConfigItem> items;
    try {
        items = CLI::ConfigTOML().from_file(path);
    } catch (const CLI::Error& e) {
        fail("{}: {}", path, e.what());
    }
    for (const CLI::ConfigItem& item : items) {
        if (item.name == "++" || item.name == "--") continue;  // section markers
        if (!(item.parents.empty() || item.parents == std::vector<std::string>{"train"}))
            fail("{}: unknown section '{}' (options go at the top or under [train])", path, item.fullname());
        CLI::Option* option = command.get_option_no_throw("--" + item.name);
        if (!option || item.name == "config") fail("{}: unknown option '{}'", path, item.fullname());
        if (option->count() > 0) continue;  // the command line wins
        try {
            option->add_result(item.inputs);
            option->run_callback();
        } catch (const CLI::Error& e) {
            fail("{}: option '{}': {}", path, item.name, e.what());
        }
    }
}

std::string format_duration(double seconds)
{
    const int64_t s = int64_t(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, s / 60 % 60);
    if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

class Progress {
public:
    explicit Progress(int64_t total) : total_(total), terminal_(isatty(STDERR_FILENO)) {}
    void show(int64_t done, double loss, double tokens_per_s, double eta)
    {
        const std::string text = fmt::format("step {}/{} loss {:.4f} | {:.0f} tok/s | ETA {}", done, total_, loss,
                                             tokens_per_s, format_duration(eta));
        if (terminal_) {
            const int width = 24, filled = int(double(width) * double(done) / double(total_));
            std::fprintf(stderr, "\r[%s%s] %s\x1b[K", std::string(size_t(filled), '=').c_str(),
                         std::string(size_t(width - filled), ' ').c_str(), text.c_str());
            if (done == total_) std::fputc('\n', stderr);
        } else if (done % 10 == 0 || done == total_) {
            std::fprintf(stderr, "%s\n", text.c_str());
        }
    }

private:
    int64_t total_;
    bool terminal_;
};

// The options as the run takes them, with the defaults that depend on other options.
RunOptions run_options(const Args& a)
{
    RunOptions o;
    o.model = a.model;
    o.out = a.out;
    o.tokenizer = a.tokenizer;
    o.data = a.data;
    o.steps = a.steps;
    TrainOptions& t = o.train;
    t.batch = a.batch;
    t.seq_len = a.seq_len;
    t.accumulation = a.accumulate;
    t.schedule = {parse_schedule_kind(a.schedule), a.lr, a.min_lr >= 0 ? a.min_lr : a.lr / 10,
                  a.warmup >= 0 ? a.warmup : std::min<int64_t>(100, a.steps / 10), a.steps, a.decay_fraction};
    t.adamw = {a.beta1, a.beta2, 1e-8, a.weight_decay};
    t.clip = a.clip;
    t.bias_update_rate = a.bias_rate;
    t.objective = {a.mtp_weight, a.balance_alpha};
    t.skip_nonfinite = a.skip_nonfinite;
    if (a.compute == "bf16") {
        if (gemm_bf16_available()) t.compute = GemmPrecision::bf16;
        else std::fprintf(stderr, "note: --compute bf16 needs a CPU with AVX-512 BF16; computing in float32\n");
    }
    o.eval_every = a.eval_every;
    o.eval_windows = a.eval_windows;
    o.val_fraction = a.val_fraction;
    o.save_every = a.save_every;
    o.keep = a.keep;
    o.seed = a.seed;
    o.resume = a.resume;
    return o;
}

void run_training_command(const Args& a)
{
    const RunOptions options = run_options(a);
    ThreadPool pool(a.threads);
    const FmaPeakResult peak_before = a.measure_peak ? measure_fma_peak(pool, 5) : FmaPeakResult{};
    Progress progress(a.steps);
    int64_t first_step = 0;
    RunEvents events;
    events.started = [&](const RunEvents::Start& s) {
        first_step = s.first_step;
        if (s.resumed_from)
            std::fprintf(stderr, "resuming from %s (step %lld)\n", s.resumed_from->c_str(), (long long)s.first_step);
        std::fprintf(stderr, "training %lld steps of %lld x %lld tokens on %lld threads; data: %lld tokens (%lld windows, %lld held out)\n",
                     (long long)a.steps, (long long)options.train.windows_per_step(), (long long)a.seq_len,
                     (long long)pool.size(), (long long)s.data_tokens, (long long)s.train_windows,
                     (long long)s.val_windows);
    };
    events.step_done = [&](const RunEvents::Step& e) {
        const int64_t done = e.report->step + 1;
        if (e.report->skipped)
            std::fprintf(stderr, "\nstep %lld: non-finite loss or gradient; step skipped\n", (long long)done);
        progress.show(done, e.report->losses.loss, e.tokens_per_s,
                      e.elapsed_s / double(done - first_step) * double(a.steps - done));
    };
    const RunResult r = run_training(options, events, pool);

    std::printf("trained model: %s\n", r.final_dir.c_str());
    if (r.last_loss) std::printf("final loss %.4f", *r.last_loss);
    if (r.last_val_loss) std::printf(", validation loss %.4f", *r.last_val_loss);
    std::printf("\npeak memory (RSS): %.1f MiB\n", double(peak_rss_bytes()) / (1 << 20));
    if (r.step_tokens_per_s.empty()) return;

    // Speed: the median step (the first one, which faults the buffers in, left out when
    // there are others), as FLOP/s beside the FMA peak measured in this process.
    std::vector<double> speeds = r.step_tokens_per_s;
    if (speeds.size() > 1) speeds.erase(speeds.begin());
    std::sort(speeds.begin(), speeds.end());
    const double tokens_per_s = speeds[speeds.size() / 2];
    const double flops_per_token = training_flops_per_token(r.config, a.seq_len, r.mtp_depth);
    const double gflop_per_s = flops_per_token * tokens_per_s / 1e9;
    const GemmPrecision compute = options.train.compute;
    Json summary = {{"threads", pool.size()},        {"compute", compute == GemmPrecision::bf16 ? "bf16" : "f32"},
                    {"tokens_per_s", tokens_per_s},  {"gflop_per_s", gflop_per_s},
                    {"flops_per_token", flops_per_token}, {"peak_rss_bytes", peak_rss_bytes()}};
    std::printf("speed: %.0f tokens/s, %.1f GFLOP/s", tokens_per_s, gflop_per_s);
    if (a.measure_peak) {  // against the peak of the arithmetic the products use
        const FmaPeakResult after = measure_fma_peak(pool, 5);
        const double fp32 = std::max(peak_before.best_gflop_per_s, after.best_gflop_per_s);
        const double bf16 = std::max(peak_before.bf16_gflop_per_s, after.bf16_gflop_per_s);
        summary["fma_peak_gflop_per_s"] = fp32;
        if (bf16 > 0) summary["bf16_peak_gflop_per_s"] = bf16;
        const bool bf16_products = compute == GemmPrecision::bf16 && gemm_bf16_available();
        const double peak = bf16_products ? bf16 : fp32;
        std::printf(" = %.0f%% of the %s peak (%.1f GFLOP/s, measured in this run)", 100 * gflop_per_s / peak,
                    bf16_products ? "bf16 dot-product" : "fp32 FMA", peak);
    }
    std::printf("\n");
    write_text_file(a.out + "/summary.json", summary.dump(2) + "\n");
}

}  // namespace

std::function<void()> add_train_command(CLI::App& app)
{
    auto a = std::make_shared<Args>();
    CLI::App* c = app.add_subcommand("train", "Train a model (from `mariana init` or any checkpoint) on text or token data");
    c->add_option("--config", a->config, "Read options from a TOML file (keys: the long option names; "
                                          "the command line wins)")
        ->check(CLI::ExistingFile);
    c->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // a later option wins
    c->add_option("--model", a->model, "Checkpoint folder to start from (required)")->check(CLI::ExistingDirectory);
    c->add_option("--data", a->data, "Data files: .bin (uint32 token ids), .jsonl (\"text\" per line), or plain text "
                                     "(required)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    c->add_option("--out", a->out, "Run folder: checkpoints, metrics.jsonl, final model (required)");
    c->add_option("--tokenizer", a->tokenizer, "Folder with tokenizer.json for text data (default: --model)");
    c->add_option("--steps", a->steps, "Optimiser steps")->check(CLI::Range(int64_t(1), int64_t(1) << 40));
    c->add_option("--batch", a->batch, "Sequences per micro-batch")->check(CLI::Range(int64_t(1), int64_t(1) << 20));
    c->add_option("--seq-len", a->seq_len, "Tokens per sequence")->check(CLI::Range(int64_t(1), int64_t(1) << 20));
    c->add_option("--accumulate", a->accumulate, "Micro-batches per step (gradient accumulation)")
        ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
    c->add_option("--lr", a->lr, "Peak learning rate");
    c->add_option("--min-lr", a->min_lr, "Final learning rate (default: lr / 10)")->check(CLI::NonNegativeNumber);
    c->add_option("--schedule", a->schedule, "cosine, wsd (warmup-stable-decay) or constant")
        ->check(CLI::IsMember({"cosine", "wsd", "constant"}));
    c->add_option("--warmup", a->warmup, "Warmup steps (default: min(100, steps / 10))")->check(CLI::NonNegativeNumber);
    c->add_option("--decay-fraction", a->decay_fraction, "wsd: the final fraction of steps that decays")
        ->check(CLI::Range(0.0, 1.0));
    c->add_option("--weight-decay", a->weight_decay, "AdamW decoupled weight decay")->check(CLI::NonNegativeNumber);
    c->add_option("--beta1", a->beta1, "AdamW β1")->check(CLI::Range(0.0, 0.999999));
    c->add_option("--beta2", a->beta2, "AdamW β2")->check(CLI::Range(0.0, 0.999999));
    c->add_option("--clip", a->clip, "Max global gradient norm (0: no clipping)")->check(CLI::NonNegativeNumber);
    c->add_option("--eval-every", a->eval_every, "Validation loss every N steps (0: never)")->check(CLI::NonNegativeNumber);
    c->add_option("--eval-windows", a->eval_windows, "Held-out sequences per evaluation (0: all)")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--val-fraction", a->val_fraction, "Fraction of the data held out for validation")
        ->check(CLI::Range(0.0, 0.5));
    c->add_option("--save-every", a->save_every, "Checkpoint every N steps (0: only at the end)")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--keep", a->keep, "Checkpoints to keep")->check(CLI::Range(int64_t(1), int64_t(1) << 20));
    c->add_option("--seed", a->seed, "Seed of the data order");
    c->add_option("--bias-rate", a->bias_rate, "γ: step of the auxiliary-loss-free balancing bias")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--balance-alpha", a->balance_alpha, "α: weight of the sequence-wise balance loss")
        ->check(CLI::NonNegativeNumber);
    c->add_option("--mtp-weight", a->mtp_weight, "λ: weight of the multi-token-prediction loss (0: off)")
        ->check(CLI::NonNegativeNumber);
    c->add_flag("--resume", a->resume, "Continue from the last checkpoint in --out");
    c->add_option("--compute", a->compute, "Linear layers' products: f32, or bf16 (operands rounded to bfloat16, "
                                           "summed in float32; needs AVX-512 BF16)")
        ->check(CLI::IsMember({"f32", "bf16"}));
    c->add_flag("--measure-peak", a->measure_peak, "Measure the fp32 FMA peak before and after, for the speed report");
    c->add_flag("--skip-nonfinite", a->skip_nonfinite, "Skip steps with a NaN/inf loss or gradient instead of stopping");
    add_threads_option(*c, a->threads);
    return [c, a] {
        if (!c->parsed()) return;
        if (!a->config.empty()) apply_config_file(*c, a->config);
        for (const char* name : {"--model", "--data", "--out"})
            if (c->get_option(name)->count() == 0) fail("{} is required (on the command line or in --config)", name);
        run_training_command(*a);
    };
}

}  // namespace mariana
