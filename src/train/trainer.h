// One optimiser step at a time over a TokenWindows stream: gradient accumulation over
// micro-batches, the non-finite guard, clipping by global norm, AdamW with the scheduled
// rate, then DeepSeek-V3's auxiliary-loss-free balancing: each MoE layer's selection bias
// e_i moves by γ toward balance, +γ for experts that got fewer tokens than the mean this
// step, -γ for those that got more.
#pragma once

#include "train/adamw.h"
#include "train/lr_schedule.h"
#include "train/token_data.h"
#include "train/transformer.h"

#include <vector>

namespace mariana::train {

struct TrainOptions {
    int64_t batch = 8;         // sequences per micro-batch
    int64_t seq_len = 256;
    int64_t accumulation = 1;  // micro-batches per step
    LrSchedule schedule;
    AdamWOptions adamw;
    double clip = 1.0;                 // max global gradient norm; 0 turns clipping off
    double bias_update_rate = 0.001;   // γ of the balancing rule (DeepSeek-V3: 0.001)
    Objective objective;
    bool skip_nonfinite = false;       // skip a step with a NaN/inf loss or gradient instead of stopping
    // The linear layers' products: float32, or bf16 operands summed in float32 (twice the
    // arithmetic rate on AVX-512 BF16). Master weights, optimiser and the rest stay float32.
    GemmPrecision compute = GemmPrecision::f32;

    int64_t windows_per_step() const { return batch * accumulation; }
};

struct StepReport {
    int64_t step = 0;
    StepLosses losses;  // means over the micro-batches
    double lr = 0, grad_norm = 0;
    bool skipped = false;  // non-finite, not applied
    // Per MoE layer (main layers, then MTP): the most-loaded expert's tokens over the mean.
    std::vector<double> load_max_over_mean;
};

class Trainer {
public:
    Trainer(const ModelConfig& config, ParameterSet params, const TrainOptions& options);

    // Optimiser step `step` (0-based) on training windows step·B·M onwards. Throws Error
    // on a non-finite loss or gradient unless options.skip_nonfinite; the parameters are
    // then left untouched.
    StepReport step(int64_t step, TokenWindows& data, ThreadPool& pool);

    // Mean next-token loss over the first max_windows validation windows (all if 0).
    double evaluate(TokenWindows& data, int64_t max_windows, ThreadPool& pool);

    ParameterSet& params() { return params_; }
    AdamW& optimizer() { return adamw_; }
    const TrainOptions& options() const { return options_; }
    int64_t mtp_depth() const { return model_.mtp_depth(); }

private:
    void balance_experts(const std::vector<std::vector<int64_t>>& load);

    ModelConfig config_;
    ParameterSet params_;
    TrainOptions options_;
    Transformer<float> model_;
    AdamW adamw_;
    std::vector<int32_t> windows_;
};

}  // namespace mariana::train
