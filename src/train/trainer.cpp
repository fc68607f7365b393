#include "train/trainer.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mariana::train {

Trainer::Trainer(const ModelConfig& config, ParameterSet params, const TrainOptions& options)
    : config_(config), params_(std::move(params)), options_(options), model_(config_, params_, options.objective),
      adamw_(params_, options.adamw)
{
}

StepReport Trainer::step(int64_t step, TokenWindows& data, ThreadPool& pool)
{
    const int64_t B = options_.batch, S = options_.seq_len, M = options_.accumulation;
    StepReport report;
    report.step = step;
    report.lr = options_.schedule.at(step);
    windows_.resize(size_t(B * (S + 1)));
    params_.zero_grads(pool);

    std::vector<std::vector<int64_t>> load;
    const WeightsView<float> w{params_.values().data(), params_.grads().data(), options_.compute};
    for (int64_t m = 0; m < M; ++m) {
        data.train_batch((step * M + m) * B, B, windows_.data());
        const StepLosses l = model_.step(w, windows_.data(), B, S, 1.0f / float(M), pool);
        report.losses.loss += l.loss / double(M);
        report.losses.mtp_loss += l.mtp_loss / double(M);
        report.losses.balance_loss += l.balance_loss / double(M);
        report.losses.objective += l.objective / double(M);
        const std::vector<MoeRun<float>> moe = model_.moe_runs();
        load.resize(moe.size(), std::vector<int64_t>(size_t(config_.n_routed_experts), 0));
        for (size_t i = 0; i < moe.size(); ++i)
            for (size_t e = 0; e < load[i].size(); ++e) load[i][e] += moe[i].activations->load[e];
    }
    for (const auto& layer : load) {
        const int64_t total = std::accumulate(layer.begin(), layer.end(), int64_t(0));
        const double mean = double(total) / double(layer.size());
        report.load_max_over_mean.push_back(mean > 0 ? double(*std::max_element(layer.begin(), layer.end())) / mean : 0);
    }

    report.grad_norm = clip_grad_norm(params_, options_.clip, pool);
    if (!std::isfinite(report.losses.objective) || !std::isfinite(report.grad_norm)) {
        if (!options_.skip_nonfinite)
            fail("step {}: the {} is {}; stopped before updating the model (the last checkpoint is intact). "
                 "Try a lower --lr, or --skip-nonfinite to skip such steps",
                 step + 1, std::isfinite(report.losses.objective) ? "gradient norm" : "loss",
                 std::isfinite(report.losses.objective) ? report.grad_norm : report.losses.objective);
        report.skipped = true;
        return report;
    }
    adamw_.step(params_, report.lr, pool);
    balance_experts(load);
    return report;
}

void Trainer::balance_experts(const std::vector<std::vector<int64_t>>& load)
{
    const std::vector<MoeRun<float>> moe = model_.moe_runs();
    for (size_t i = 0; i < moe.size(); ++i) {
        if (moe[i].block->correction_bias() < 0) continue;
        float* bias = params_.values().data() + moe[i].block->correction_bias();
        const double mean = double(std::accumulate(load[i].begin(), load[i].end(), int64_t(0))) / double(load[i].size());
        for (size_t e = 0; e < load[i].size(); ++e) {
            const double n = double(load[i][e]);
            if (n < mean) bias[e] += float(options_.bias_update_rate);
            else if (n > mean) bias[e] -= float(options_.bias_update_rate);
        }
    }
}

double Trainer::evaluate(TokenWindows& data, int64_t max_windows, ThreadPool& pool)
{
    const int64_t S = options_.seq_len;
    const int64_t n = max_windows > 0 ? std::min(max_windows, data.val_windows()) : data.val_windows();
    if (n == 0) return NAN;
    const WeightsView<float> w{params_.values().data(), nullptr, options_.compute};
    double total = 0;
    for (int64_t first = 0; first < n; first += options_.batch) {
        const int64_t count = std::min(options_.batch, n - first);
        windows_.resize(size_t(count * (S + 1)));
        for (int64_t i = 0; i < count; ++i) data.val_window(first + i, windows_.data() + i * (S + 1));
        total += model_.next_token_loss(w, windows_.data(), count, S, pool) * double(count);
    }
    return total / double(n);
}

}  // namespace mariana::train
