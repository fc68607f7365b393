#include "train/training_run.h"

#include "core/error.h"
#include "core/text_file.h"
#include "formats/checkpoint.h"
#include "train/model_folder.h"
#include "train/run_directory.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace mariana::train {

namespace {

namespace fs = std::filesystem;

// The options a checkpoint must agree with to continue the same run.
Json run_identity(const RunOptions& o)
{
    return {{"batch", o.train.batch}, {"seq_len", o.train.seq_len}, {"accumulate", o.train.accumulation},
            {"seed", o.seed},         {"steps", o.steps},           {"data", o.data}};
}

void check_same_run(const Json& saved, const Json& now, const std::string& checkpoint)
{
    for (const auto& [key, value] : now.items())
        if (saved.value(key, Json()) != value)
            fail("{}: this checkpoint was made with --{} {}, not {}; resume with the same options, or use a new --out",
                 checkpoint, key == "seq_len" ? "seq-len" : key, saved.value(key, Json()).dump(), value.dump());
}

// The token stream in OUT/data, made once; a resumed run checks it was made from the same files.
std::string prepare_data(const RunOptions& o, const ModelConfig& config, const Tokenizer* tokenizer)
{
    const std::string dir = o.out + "/data", stream = dir + "/tokens.bin", manifest = dir + "/sources.json";
    const Json sources = o.data;
    if (fs::exists(stream) && fs::exists(manifest)) {
        if (read_json_file(manifest) != sources)
            fail("{} was made from other --data files; use a new --out for new data", stream);
        return stream;
    }
    fs::create_directories(dir);
    DataSpec spec{o.data, config.vocab_size, int32_t(config.eos_token_id), tokenizer};
    write_token_stream(spec, stream);
    write_text_file(manifest, sources.dump() + "\n");
    return stream;
}

// The tokenizer's files, copied into every checkpoint so that each one is a usable model.
std::vector<std::string> tokenizer_files(const std::string& dir)
{
    std::vector<std::string> files;
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
        if (fs::exists(dir + "/" + name)) files.push_back(dir + "/" + name);
    return files;
}

void validate(const RunOptions& o, const ModelConfig& config)
{
    if (o.train.seq_len > config.max_position_embeddings)
        fail("--seq-len {} is longer than the model's max_position_embeddings {}", o.train.seq_len,
             config.max_position_embeddings);
    if (o.train.schedule.warmup >= o.steps)
        fail("--warmup {} must be below --steps {}", o.train.schedule.warmup, o.steps);
    if (!(o.train.schedule.peak > 0) || !std::isfinite(o.train.schedule.peak))
        fail("--lr must be a positive number, got {}", o.train.schedule.peak);
}

// The metrics.jsonl line of one step.
Json metrics_row(int64_t step, const StepReport& r, const RunEvents::Step& e, bool with_mtp)
{
    Json row = {{"step", step + 1}, {"loss", r.losses.loss}, {"lr", r.lr},       {"grad_norm", r.grad_norm},
                {"tokens_per_s", e.tokens_per_s},          {"elapsed_s", e.elapsed_s}};
    if (with_mtp) row["mtp_loss"] = r.losses.mtp_loss;
    if (!r.load_max_over_mean.empty()) {
        row["balance_loss"] = r.losses.balance_loss;
        row["expert_load_max"] = *std::max_element(r.load_max_over_mean.begin(), r.load_max_over_mean.end());
        row["expert_load"] = r.load_max_over_mean;
    }
    if (r.skipped) row["skipped"] = true;
    if (e.val_loss) row["val_loss"] = *e.val_loss;
    return row;
}

}  // namespace

RunResult run_training(const RunOptions& o, const RunEvents& events, ThreadPool& pool)
{
    using Clock = std::chrono::steady_clock;
    const std::optional<std::string> resume_from = o.resume ? latest_checkpoint(o.out) : std::nullopt;
    if (!o.resume && (!list_checkpoints(o.out).empty() || fs::exists(o.out + "/metrics.jsonl")))
        fail("{} already holds a training run; pass --resume to continue it, or choose another --out", o.out);
    const Checkpoint checkpoint = Checkpoint::open(resume_from.value_or(o.model));
    RunResult result;
    result.config = parse_model_config(checkpoint.config(), checkpoint.config_path());
    const ModelConfig& config = result.config;
    validate(o, config);

    const std::string tokenizer_dir = o.tokenizer.empty() ? o.model : o.tokenizer;
    std::optional<Tokenizer> tokenizer;
    if (fs::exists(tokenizer_dir + "/tokenizer.json")) tokenizer = Tokenizer::load(tokenizer_dir);
    fs::create_directories(o.out);
    TokenWindows data(prepare_data(o, config, tokenizer ? &*tokenizer : nullptr), o.train.seq_len,
                      o.eval_every > 0 ? o.val_fraction : 0.0, o.seed);
    Trainer trainer(config, ParameterSet::load(config, checkpoint), o.train);
    result.mtp_depth = o.train.objective.mtp_weight > 0 ? trainer.mtp_depth() : 0;

    int64_t first_step = 0;
    if (resume_from) {
        const Json state = read_training_state(*resume_from, trainer.params(), trainer.optimizer());
        check_same_run(state.value("run", Json::object()), run_identity(o), *resume_from);
        first_step = state.at("step").get<int64_t>();
    }
    const std::string metrics_path = o.out + "/metrics.jsonl";
    truncate_metrics(metrics_path, first_step);
    std::ofstream metrics(metrics_path, std::ios::binary | std::ios::app);

    const std::vector<std::string> extra_files = tokenizer_files(tokenizer_dir);
    const auto save = [&](int64_t steps_done) {
        const Json state = {{"step", steps_done},
                            {"adam_steps", trainer.optimizer().steps()},
                            {"windows", steps_done * o.train.windows_per_step()},
                            {"run", run_identity(o)}};
        const TrainingState training{&trainer.optimizer(), state};
        write_model_folder(checkpoint_dir(o.out, steps_done), checkpoint.config(), trainer.params(), extra_files,
                           &training);
        prune_checkpoints(o.out, o.keep);
    };

    if (events.started)
        events.started({&config, first_step, resume_from, data.tokens(), data.train_windows(), data.val_windows()});
    const bool with_mtp = config.num_nextn_predict_layers > 0 && o.train.objective.mtp_weight > 0;
    const auto start = Clock::now();
    for (int64_t step = first_step; step < o.steps; ++step) {
        const auto t0 = Clock::now();
        const StepReport r = trainer.step(step, data, pool);
        const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        RunEvents::Step e{&r, seconds, double(o.train.windows_per_step() * o.train.seq_len) / seconds,
                          std::chrono::duration<double>(Clock::now() - start).count(), std::nullopt};
        const bool last = step + 1 == o.steps;
        if (o.eval_every > 0 && ((step + 1) % o.eval_every == 0 || last) && data.val_windows() > 0)
            result.last_val_loss = e.val_loss = trainer.evaluate(data, o.eval_windows, pool);
        metrics << metrics_row(step, r, e, with_mtp).dump() << "\n" << std::flush;
        result.last_loss = r.losses.loss;
        result.step_tokens_per_s.push_back(e.tokens_per_s);
        if (events.step_done) events.step_done(e);
        if (last || (o.save_every > 0 && (step + 1) % o.save_every == 0)) save(step + 1);
    }

    result.final_dir = o.out + "/final";
    if (!fs::exists(result.final_dir))
        write_model_folder(result.final_dir, checkpoint.config(), trainer.params(), extra_files);
    return result;
}

}  // namespace mariana::train
