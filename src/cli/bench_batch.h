// mariana bench --batch: aggregate decode speed of many sequences at once on the generation
// engine, beside the roofline of the same run's measured bandwidth and bf16 peak.
#pragma once

#include "cli/memory_bandwidth.h"
#include "cli/model_summary.h"
#include "model/model.h"

#include <functional>
#include <string>
#include <vector>

namespace mariana {

struct BatchBenchArgs {
    std::vector<int64_t> sequences;  // one run per count
    int64_t prompt = 32, decode = 32, samples = 1;  // samples: sequences per shared prompt
    uint64_t seed = 0;
    bool json = false;
};

// One short sequence: faults the weights in (and packs them for bf16 compute).
void warm_up_engine(Model& model, ThreadPool& pool);

// Runs every count in args.sequences: that many greedy sequences added at once (random
// prompts, groups of `samples` sharing one), to the end of their decode; prints a table (or
// JSON lines) of decode tokens/s, step latency and time to first token against
//   roofline = min(B · bandwidth / bytes read per step, bf16 peak · B / FLOP per step)
// where a step of a MoE model reads the experts B tokens are expected to touch.
// `limits` fills in the bandwidth and peak the shares count against, once the runs are done
// (the caller measures them before and after).
void run_batch_bench(Model& model, const ModelSummary& summary, const BatchBenchArgs& args,
                     const std::function<void(BandwidthResult&, FmaPeakResult&)>& limits, ThreadPool& pool);

}  // namespace mariana
