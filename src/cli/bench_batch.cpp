#include "cli/bench_batch.h"

#include "core/json.h"
#include "runtime/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

namespace mariana {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v)
{
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Cost {
    double bytes, flop;  // per step of B decoded tokens
};

// What one decode step of B sequences reads and computes. Dense: the weights once (all but
// the embedding table), 2 FLOP per product parameter per token. MoE: the routed experts B
// tokens touch, expected under uniform routing: E·(1 - (1 - k/E)^B) of E per layer.
Cost step_cost(const ModelConfig& c, const ModelSummary& s, DType projections, int64_t B, int64_t context)
{
    // Every parameter but the embedding lookup's is a product's (a tied table is the output
    // head's too, which every decoded token runs).
    const int64_t table = c.vocab_size * c.hidden_size;
    const double matmul_params = double(s.active_params - (c.tie_word_embeddings ? 0 : table));
    const int64_t qk = c.is_mla() ? c.kv_lora_rank + c.qk_rope_head_dim : c.head_dim;
    const int64_t v = c.is_mla() ? c.kv_lora_rank : c.head_dim;
    // Attention over a context of `context` keys per head and layer (MLA absorbed: latent width).
    const double attention = 2.0 * double(c.num_hidden_layers * c.num_attention_heads * context * (qk + v));
    double bytes = double(s.active_weight_bytes);
    if (c.n_routed_experts > 0) {
        int64_t moe_layers = 0;
        for (int64_t l = 0; l < c.num_hidden_layers; ++l) moe_layers += c.is_moe_layer(l);
        const double expert = 3.0 * double(c.hidden_size * c.moe_intermediate_size) * double(dtype_size(projections));
        const double E = double(c.n_routed_experts), k = double(c.num_experts_per_tok);
        const double touched = E * (1.0 - std::pow(1.0 - k / E, double(B)));
        bytes += double(moe_layers) * (touched - k) * expert;
    }
    // Each sequence's cache rows are read once per step.
    bytes += double(B) * double(context) * double(s.kv_floats_per_token) * sizeof(float);
    return {bytes, double(B) * (2.0 * matmul_params + attention)};
}

struct Run {
    int64_t sequences;
    double decode_tok_s = 0, step_ms = 0, ttft_mean_s = 0, ttft_max_s = 0, total_s = 0;
    int64_t decode_steps = 0, forward_tokens = 0, cached_prompt_tokens = 0;
    double roofline_tok_s = 0, bandwidth_bound = 0, compute_bound = 0;
};

Run run_one(Model& model, const BatchBenchArgs& a, int64_t B, ThreadPool& pool)
{
    const ModelConfig& c = model.config();
    const int64_t context = a.prompt + a.decode;
    EngineOptions options;
    options.context = context;
    options.max_sequences = B;
    options.cache_pages = B * ((context + options.page_rows - 1) / options.page_rows);
    Engine engine(model, options);
    std::mt19937_64 rng(a.seed);
    std::uniform_int_distribution<int32_t> pick(2, int32_t(c.vocab_size - 1));
    GenerationParams greedy;
    greedy.max_new_tokens = a.decode;
    greedy.ignore_eos = true;
    std::map<SequenceId, double> added, first_token;
    std::vector<int32_t> prompt;
    const auto start = Clock::now();
    for (int64_t i = 0; i < B; ++i) {
        if (i % a.samples == 0) {
            prompt.assign(size_t(a.prompt), 0);
            for (int32_t& t : prompt) t = pick(rng);
        }
        added[engine.add(prompt, greedy)] = 0.0;
    }
    std::vector<double> decode_steps;
    while (!engine.idle()) {
        const EngineStats before = engine.stats();
        const auto t0 = Clock::now();
        const std::vector<SequenceId>& touched = engine.step(pool);
        const double now = std::chrono::duration<double>(Clock::now() - start).count();
        const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        for (const SequenceId id : touched)
            if (!first_token.count(id)) first_token[id] = now;
        const EngineStats& after = engine.stats();
        const int64_t sampled = after.sampled_tokens - before.sampled_tokens;
        // A decode step: every sequence ran one token, no prompt chunk.
        if (sampled == B && after.forward_tokens - before.forward_tokens == B) decode_steps.push_back(dt);
        for (const SequenceId id : touched)
            if (engine.sequence(id).finished()) engine.erase(id);
    }
    Run r{B};
    r.total_s = std::chrono::duration<double>(Clock::now() - start).count();
    double sum = 0;
    for (const auto& [id, t] : first_token) {
        sum += t;
        r.ttft_max_s = std::max(r.ttft_max_s, t);
    }
    r.ttft_mean_s = sum / double(first_token.size());
    r.decode_steps = int64_t(decode_steps.size());
    r.step_ms = 1e3 * median(decode_steps);
    r.decode_tok_s = r.step_ms > 0 ? double(B) / (r.step_ms / 1e3) : 0.0;
    r.forward_tokens = engine.stats().forward_tokens;
    r.cached_prompt_tokens = engine.stats().cached_prompt_tokens;
    return r;
}

}  // namespace

void warm_up_engine(Model& model, ThreadPool& pool)
{
    EngineOptions options;
    options.context = 8;
    options.max_sequences = 1;
    Engine engine(model, options);
    GenerationParams params;
    params.max_new_tokens = 2;
    generate(engine, {2, 3, 4}, params, pool);
}

void run_batch_bench(Model& model, const ModelSummary& summary, const BatchBenchArgs& a,
                     const std::function<void(BandwidthResult&, FmaPeakResult&)>& limits, ThreadPool& pool)
{
    std::vector<Run> runs;
    for (const int64_t B : a.sequences) {
        runs.push_back(run_one(model, a, B, pool));
        const Run& r = runs.back();
        std::fprintf(stderr, "bench: %lld sequences: %.2f tok/s decoding, %.1f ms per step, %.1f s in all\n",
                     (long long)B, r.decode_tok_s, r.step_ms, r.total_s);
    }
    BandwidthResult bandwidth;
    FmaPeakResult peak;
    limits(bandwidth, peak);
    const double peak_gflop_s =
        model.compute() == GemmPrecision::bf16 && peak.bf16_gflop_per_s > 0 ? peak.bf16_gflop_per_s : peak.best_gflop_per_s;
    for (Run& r : runs) {
        const Cost cost = step_cost(model.config(), summary, model.projection_dtype(), r.sequences, a.prompt + a.decode / 2);
        r.bandwidth_bound = bandwidth.best_gb_per_s * 1e9 / cost.bytes * double(r.sequences);
        r.compute_bound = peak_gflop_s * 1e9 / (cost.flop / double(r.sequences));
        r.roofline_tok_s = std::min(r.bandwidth_bound, r.compute_bound);
    }
    const double one = runs.front().sequences == 1 ? runs.front().decode_tok_s : 0.0;
    if (a.json) {
        for (const Run& r : runs) {
            const Json out = {{"sequences", r.sequences},
                              {"samples_per_prompt", a.samples},
                              {"prompt_tokens", a.prompt},
                              {"decode_tokens", a.decode},
                              {"threads", pool.size()},
                              {"compute", model.compute() == GemmPrecision::bf16 ? "bf16" : "f32"},
                              {"decode_tok_s", r.decode_tok_s},
                              {"step_ms", r.step_ms},
                              {"decode_steps", r.decode_steps},
                              {"ttft_mean_s", r.ttft_mean_s},
                              {"ttft_max_s", r.ttft_max_s},
                              {"forward_tokens", r.forward_tokens},
                              {"cached_prompt_tokens", r.cached_prompt_tokens},
                              {"bandwidth_gb_s", bandwidth.best_gb_per_s},
                              {"peak_gflop_s", peak_gflop_s},
                              {"bandwidth_bound_tok_s", r.bandwidth_bound},
                              {"compute_bound_tok_s", r.compute_bound},
                              {"roofline_tok_s", r.roofline_tok_s},
                              {"share_of_roofline", r.decode_tok_s / r.roofline_tok_s},
                              {"speedup_over_one", one > 0 ? r.decode_tok_s / one : 0.0}};
            std::printf("%s\n", out.dump().c_str());
        }
        return;
    }
    std::printf("decode of many sequences: prompt %lld random ids (groups of %lld share one), %lld greedy tokens each; "
                "%d threads, %s compute\n",
                (long long)a.prompt, (long long)a.samples, (long long)a.decode, pool.size(),
                model.compute() == GemmPrecision::bf16 ? "bf16" : "f32");
    std::printf("measured (best of before and after): bandwidth %.1f GB/s, peak %.0f GFLOP/s; roofline = "
                "min(B x bandwidth / bytes per step, peak / FLOP per token)\n",
                bandwidth.best_gb_per_s, peak_gflop_s);
    std::printf("%9s %12s %9s %12s %12s %14s %8s %8s %14s\n", "sequences", "decode tok/s", "step ms", "TTFT mean s",
                "TTFT max s", "roofline tok/s", "share", "vs one", "prompt tokens");
    for (const Run& r : runs)
        std::printf("%9lld %12.2f %9.1f %12.2f %12.2f %14.2f %7.0f%% %7.2fx %7lld/%-6lld\n", (long long)r.sequences,
                    r.decode_tok_s, r.step_ms, r.ttft_mean_s, r.ttft_max_s, r.roofline_tok_s,
                    100.0 * r.decode_tok_s / r.roofline_tok_s, one > 0 ? r.decode_tok_s / one : 0.0,
                    (long long)(r.forward_tokens - r.sequences * (a.decode - 1)),
                    (long long)(r.sequences * a.prompt));
}

}  // namespace mariana
