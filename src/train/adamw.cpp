#include "train/adamw.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mariana::train {

AdamW::AdamW(const ParameterSet& params, AdamWOptions options)
    : options_(options), m_(params.values().size(), 0.0f), v_(params.values().size(), 0.0f)
{
}

void AdamW::step(ParameterSet& params, double lr, ThreadPool& pool)
{
    ++step_;
    const double b1 = options_.beta1, b2 = options_.beta2;
    const double correction1 = 1 - std::pow(b1, double(step_)), correction2 = 1 - std::pow(b2, double(step_));
    for (const Parameter& p : params.parameters()) {
        if (!p.learned()) continue;
        float* w = params.value(p);
        const float* g = params.grad(p);
        float* m = m_.data() + p.offset;
        float* v = v_.data() + p.offset;
        const float decay = float(1 - lr * (p.decays() ? options_.weight_decay : 0.0));
        const float step_size = float(lr / correction1), root_correction2 = float(std::sqrt(correction2));
        const float fb1 = float(b1), fb2 = float(b2), eps = float(options_.eps);
        // By value: constants the stores cannot alias stay in registers and the loop vectorises.
        pool.parallel_for(p.size, 16384, [=](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                m[i] = fb1 * m[i] + (1 - fb1) * g[i];
                v[i] = fb2 * v[i] + (1 - fb2) * g[i] * g[i];
                w[i] = w[i] * decay - step_size * m[i] / (std::sqrt(v[i]) / root_correction2 + eps);
            }
        });
    }
}

double clip_grad_norm(ParameterSet& params, double max_norm, ThreadPool& pool)
{
    constexpr int64_t kBlock = 1 << 16;
    float* const g = params.grads().data();
    const int64_t n = int64_t(params.grads().size()), blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> block_sums(static_cast<size_t>(blocks));
    pool.parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            // Eight running sums, lane l taking every eighth element: the loop vectorises
            // (one serial sum would wait on each add), and the order is still fixed.
            constexpr int64_t kLanes = 8;
            double lanes[kLanes] = {};
            const int64_t begin = b * kBlock, end = std::min(n, (b + 1) * kBlock);
            int64_t i = begin;
            for (; i + kLanes <= end; i += kLanes)
                for (int64_t l = 0; l < kLanes; ++l) lanes[l] += double(g[i + l]) * double(g[i + l]);
            double sum = 0;
            for (const double lane : lanes) sum += lane;
            for (; i < end; ++i) sum += double(g[i]) * double(g[i]);
            block_sums[size_t(b)] = sum;
        }
    });
    double sum = 0;
    for (const double s : block_sums) sum += s;
    const double norm = std::sqrt(sum);
    if (max_norm > 0 && norm > max_norm) {
        const float scale = float(max_norm / norm);
        pool.parallel_for(n, kBlock, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) g[i] *= scale;
        });
    }
    return norm;
}

}  // namespace mariana::train
