// mariana train: pre-train (or continue training) a model from a checkpoint folder.
#include "cli/commands.h"
#include "cli/memory_bandwidth.h"
#include "core/error.h"
#include "core/text_file.h"
#include "formats/checkpoint.h"
#include "train/flops.h"
#include "train/model_folder.h"
#include "train/run_directory.h"
#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace mariana {

namespace {

namespace fs = std::filesystem;
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

// The options a checkpoint must agree with to continue the same run.
Json run_identity(const Args& a)
{
    return {{"batch", a.batch}, {"seq_len", a.seq_len}, {"accumulate", a.accumulate}, {"seed", a.seed},
            {"steps", a.steps}, {"data", a.data}};
}

void check_same_run(const Json& saved, const Json& now, const std::string& checkpoint)
{
    for (const auto& [key, value] : now.items())
        if (saved.value(key, Json()) != value)
            fail("{}: this checkpoint was made with --{} {}, not {}; resume with the same options, or use a new --out",
                 checkpoint, key == "seq_len" ? "seq-len" : key, saved.value(key, Json()).dump(), value.dump());
}

// The token stream in OUT/data, made once; a resumed run checks it was made from the same files.
std::string prepare_data(const Args& a, const ModelConfig& config, const Tokenizer* tokenizer)
{
    const std::string dir = a.out + "/data", stream = dir + "/tokens.bin", manifest = dir + "/sources.json";
    const Json sources = a.data;
    if (fs::exists(stream) && fs::exists(manifest)) {
        if (read_json_file(manifest) != sources)
            fail("{} was made from other --data files; use a new --out for new data", stream);
        return stream;
    }
    fs::create_directories(dir);
    DataSpec spec{a.data, config.vocab_size, int32_t(config.eos_token_id), tokenizer};
    write_token_stream(spec, stream);
    write_text_file(manifest, sources.dump() + "\n");
    return stream;
}

std::vector<std::string> tokenizer_files(const std::string& dir)
{
    std::vector<std::string> files;
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
        if (fs::exists(dir + "/" + name)) files.push_back(dir + "/" + name);
    return files;
}

void validate(const Args& a, const ModelConfig& config)
{
    if (a.seq_len > config.max_position_embeddings)
        fail("--seq-len {} is longer than the model's max_position_embeddings {}", a.seq_len,
             config.max_position_embeddings);
    if (a.warmup >= a.steps) fail("--warmup {} must be below --steps {}", a.warmup, a.steps);
    if (!(a.lr > 0) || !std::isfinite(a.lr)) fail("--lr must be a positive number, got {}", a.lr);
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

void run_training(const Args& a)
{
    const std::optional<std::string> resume_from = a.resume ? latest_checkpoint(a.out) : std::nullopt;
    if (!a.resume && (!list_checkpoints(a.out).empty() || fs::exists(a.out + "/metrics.jsonl")))
        fail("{} already holds a training run; pass --resume to continue it, or choose another --out", a.out);
    const std::string source = resume_from.value_or(a.model);
    const Checkpoint checkpoint = Checkpoint::open(source);
    const ModelConfig config = parse_model_config(checkpoint.config(), checkpoint.config_path());
    validate(a, config);

    const std::string tokenizer_dir = a.tokenizer.empty() ? a.model : a.tokenizer;
    std::optional<Tokenizer> tokenizer;
    if (fs::exists(tokenizer_dir + "/tokenizer.json")) tokenizer = Tokenizer::load(tokenizer_dir);
    fs::create_directories(a.out);
    TokenWindows data(prepare_data(a, config, tokenizer ? &*tokenizer : nullptr), a.seq_len,
                      a.eval_every > 0 ? a.val_fraction : 0.0, a.seed);

    TrainOptions options;
    options.batch = a.batch;
    options.seq_len = a.seq_len;
    options.accumulation = a.accumulate;
    options.schedule = {parse_schedule_kind(a.schedule), a.lr, a.min_lr >= 0 ? a.min_lr : a.lr / 10,
                        a.warmup >= 0 ? a.warmup : std::min<int64_t>(100, a.steps / 10), a.steps, a.decay_fraction};
    options.adamw = {a.beta1, a.beta2, 1e-8, a.weight_decay};
    options.clip = a.clip;
    options.bias_update_rate = a.bias_rate;
    options.objective = {a.mtp_weight, a.balance_alpha};
    options.skip_nonfinite = a.skip_nonfinite;
    if (a.compute == "bf16") {
        if (gemm_bf16_available()) options.compute = GemmPrecision::bf16;
        else std::fprintf(stderr, "note: --compute bf16 needs a CPU with AVX-512 BF16; computing in float32\n");
    }
    Trainer trainer(config, ParameterSet::load(config, checkpoint), options);

    int64_t first_step = 0;
    if (resume_from) {
        const Json state = read_training_state(*resume_from, trainer.params(), trainer.optimizer());
        check_same_run(state.value("run", Json::object()), run_identity(a), *resume_from);
        first_step = state.at("step").get<int64_t>();
        std::fprintf(stderr, "resuming from %s (step %lld)\n", resume_from->c_str(), (long long)first_step);
    }
    const std::string metrics_path = a.out + "/metrics.jsonl";
    truncate_metrics(metrics_path, first_step);
    std::ofstream metrics(metrics_path, std::ios::binary | std::ios::app);

    const std::vector<std::string> extra_files = tokenizer_files(tokenizer_dir);
    auto save = [&](int64_t steps_done) {
        const Json state = {{"step", steps_done}, {"adam_steps", trainer.optimizer().steps()},
                            {"windows", steps_done * options.windows_per_step()}, {"run", run_identity(a)}};
        const TrainingState training{&trainer.optimizer(), state};
        write_model_folder(checkpoint_dir(a.out, steps_done), checkpoint.config(), trainer.params(), extra_files,
                           &training);
        prune_checkpoints(a.out, a.keep);
    };

    ThreadPool pool(a.threads);
    const FmaPeakResult peak_before = a.measure_peak ? measure_fma_peak(pool, 5) : FmaPeakResult{};
    std::fprintf(stderr, "training %lld steps of %lld x %lld tokens on %lld threads; data: %lld tokens (%lld windows, %lld held out)\n",
                 (long long)a.steps, (long long)options.windows_per_step(), (long long)a.seq_len, (long long)pool.size(),
                 (long long)data.tokens(), (long long)data.train_windows(), (long long)data.val_windows());
    Progress progress(a.steps);
    const auto start = std::chrono::steady_clock::now();
    double last_loss = NAN, last_val = NAN;
    std::vector<double> step_speeds;
    for (int64_t step = first_step; step < a.steps; ++step) {
        const auto t0 = std::chrono::steady_clock::now();
        const StepReport r = trainer.step(step, data, pool);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double tokens_per_s = double(options.windows_per_step() * a.seq_len) / seconds;
        step_speeds.push_back(tokens_per_s);
        Json row = {{"step", step + 1}, {"loss", r.losses.loss}, {"lr", r.lr}, {"grad_norm", r.grad_norm},
                    {"tokens_per_s", tokens_per_s},
                    {"elapsed_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
        if (config.num_nextn_predict_layers > 0 && a.mtp_weight > 0) row["mtp_loss"] = r.losses.mtp_loss;
        if (!r.load_max_over_mean.empty()) {
            row["balance_loss"] = r.losses.balance_loss;
            row["expert_load_max"] = *std::max_element(r.load_max_over_mean.begin(), r.load_max_over_mean.end());
            row["expert_load"] = r.load_max_over_mean;
        }
        if (r.skipped) {
            row["skipped"] = true;
            std::fprintf(stderr, "\nstep %lld: non-finite loss or gradient; step skipped\n", (long long)step + 1);
        }
        const bool last = step + 1 == a.steps;
        if (a.eval_every > 0 && ((step + 1) % a.eval_every == 0 || last) && data.val_windows() > 0)
            row["val_loss"] = last_val = trainer.evaluate(data, a.eval_windows, pool);
        metrics << row.dump() << "\n" << std::flush;
        last_loss = r.losses.loss;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.show(step + 1, r.losses.loss, tokens_per_s, elapsed / double(step + 1 - first_step) * double(a.steps - step - 1));
        if (last || (a.save_every > 0 && (step + 1) % a.save_every == 0)) save(step + 1);
    }

    const std::string final_dir = a.out + "/final";
    if (!fs::exists(final_dir)) write_model_folder(final_dir, checkpoint.config(), trainer.params(), extra_files);
    std::printf("trained model: %s\n", final_dir.c_str());
    if (!std::isnan(last_loss)) std::printf("final loss %.4f", last_loss);
    if (!std::isnan(last_val)) std::printf(", validation loss %.4f", last_val);
    std::printf("\npeak memory (RSS): %.1f MiB\n", double(peak_rss_bytes()) / (1 << 20));
    if (step_speeds.empty()) return;

    // Speed: the median step (the first one, which faults the buffers in, left out when
    // there are others), as FLOP/s beside the FMA peak measured in this process.
    if (step_speeds.size() > 1) step_speeds.erase(step_speeds.begin());
    std::sort(step_speeds.begin(), step_speeds.end());
    const double tokens_per_s = step_speeds[step_speeds.size() / 2];
    const int64_t mtp_depth = a.mtp_weight > 0 ? trainer.mtp_depth() : 0;
    const double gflop_per_s = training_flops_per_token(config, a.seq_len, mtp_depth) * tokens_per_s / 1e9;
    Json summary = {{"threads", pool.size()}, {"compute", options.compute == GemmPrecision::bf16 ? "bf16" : "f32"}, {"tokens_per_s", tokens_per_s}, {"gflop_per_s", gflop_per_s},
                    {"flops_per_token", training_flops_per_token(config, a.seq_len, mtp_depth)},
                    {"peak_rss_bytes", peak_rss_bytes()}};
    std::printf("speed: %.0f tokens/s, %.1f GFLOP/s", tokens_per_s, gflop_per_s);
    if (a.measure_peak) {  // against the peak of the arithmetic the products use
        const FmaPeakResult after = measure_fma_peak(pool, 5);
        const double fp32 = std::max(peak_before.best_gflop_per_s, after.best_gflop_per_s);
        const double bf16 = std::max(peak_before.bf16_gflop_per_s, after.bf16_gflop_per_s);
        summary["fma_peak_gflop_per_s"] = fp32;
        if (bf16 > 0) summary["bf16_peak_gflop_per_s"] = bf16;
        const bool bf16_products = options.compute == GemmPrecision::bf16 && gemm_bf16_available();
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
        run_training(*a);
    };
}

}  // namespace mariana
