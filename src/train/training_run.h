// A whole training run into an output folder (run_directory.h's layout): the token stream
// made once from the data files, the trainer's steps with periodic validation, metrics.jsonl
// written step by step, resumable checkpoints, and the final model. Pre-training uses it
// today; SFT, GRPO and distillation reuse it with their own objectives. It prints nothing:
// callers watch the run through RunEvents.
#pragma once

#include "train/trainer.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mariana::train {

struct RunOptions {
    std::string model;      // checkpoint folder to start from
    std::string out;        // run folder
    std::string tokenizer;  // folder with tokenizer.json for text data (empty: model)
    std::vector<std::string> data;
    int64_t steps = 100;
    TrainOptions train;
    int64_t eval_every = 50, eval_windows = 16;  // validation every N steps (0: never), on M windows (0: all)
    double val_fraction = 0.05;
    int64_t save_every = 100, keep = 3;          // checkpoint every N steps (0: only at the end), keep M
    uint64_t seed = 0;                           // of the data order
    bool resume = false;                         // continue from the last checkpoint in `out`
};

// What a run reports as it goes (each callback may be empty).
struct RunEvents {
    struct Start {
        const ModelConfig* config;
        int64_t first_step;               // > 0 when resumed
        std::optional<std::string> resumed_from;
        int64_t data_tokens, train_windows, val_windows;
    };
    struct Step {
        const StepReport* report;
        double seconds;                   // this step's wall time
        double tokens_per_s, elapsed_s;   // this step's speed, time since the run (re)started
        std::optional<double> val_loss;   // when this step evaluated
    };
    std::function<void(const Start&)> started;
    std::function<void(const Step&)> step_done;
};

struct RunResult {
    ModelConfig config;
    std::string final_dir;
    std::optional<double> last_loss, last_val_loss;
    std::vector<double> step_tokens_per_s;  // each step this invocation ran, in order
    int64_t mtp_depth = 0;                  // MTP modules trained (0 when λ is 0 or there are none)
};

// Runs steps from the first one not yet done (0, or the resumed checkpoint's) to
// options.steps. Throws Error for a bad option (naming it), for a resume with options other
// than the checkpoint's, or on a non-finite step unless skip_nonfinite; every checkpoint
// already written stays intact.
RunResult run_training(const RunOptions& options, const RunEvents& events, ThreadPool& pool);

}  // namespace mariana::train
