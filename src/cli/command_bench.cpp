// mariana bench: prefill and decode speed of a checkpoint, beside the memory bandwidth and
// fp32 FMA peak measured in the same process with the same threads (docs/benchmarks.md);
// with --batch, decoding many sequences at once on the engine (cli/bench_batch.h).
#include "cli/bench_batch.h"
#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/memory_bandwidth.h"
#include "cli/model_summary.h"
#include "core/error.h"
#include "core/json.h"
#include "formats/checkpoint.h"
#include "kernels/cpu/isa.h"
#include "model/model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <random>
#include <vector>

namespace mariana {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int32_t argmax(const std::vector<float>& logits)
{
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

struct RunTimes {
    double prefill_s = 0, decode_s = 0;
    std::vector<int32_t> tokens;  // greedy: the one after the prompt, then one per decode step
};

// One prompt through the model as a single chunk, then `n_decode` greedy steps of one token
// each through the cache. Positions restart at 0, so the cache is simply overwritten.
RunTimes run_once(Model& model, KvCache& cache, const std::vector<int32_t>& prompt, int64_t n_decode,
                  std::vector<float>& logits, ThreadPool& pool)
{
    RunTimes r;
    SequenceChunk chunk{cache.slot(0), 0, prompt};
    auto start = Clock::now();
    model.forward({&chunk, 1}, cache, LogitsFor::last_token, logits.data(), pool);
    r.prefill_s = seconds_since(start);
    int32_t token = argmax(logits);
    r.tokens.push_back(token);
    start = Clock::now();
    for (int64_t i = 0; i < n_decode; ++i) {
        chunk = SequenceChunk{cache.slot(0), int64_t(prompt.size()) + i, {&token, 1}};
        model.forward({&chunk, 1}, cache, LogitsFor::last_token, logits.data(), pool);
        token = argmax(logits);
        r.tokens.push_back(token);
    }
    r.decode_s = seconds_since(start);
    return r;
}

std::string human(double n, const char* unit)
{
    const char* prefixes[] = {"", "K", "M", "G", "T"};
    int i = 0;
    while (n >= 1000.0 && i < 4) n /= 1000.0, ++i;
    return fmt::format("{:.2f}{}{}{}", n, prefixes[i][0] || unit[0] ? " " : "", prefixes[i], unit);
}

}  // namespace

std::function<void()> add_bench_command(CLI::App& app)
{
    struct Args {
        std::string model, compute = "auto";
        int64_t prompt = 128, decode = 32;
        int threads = 0, repeats = 3, warmup = 1;
        uint64_t seed = 0;
        bool json = false;
        std::vector<int64_t> batch;
        int64_t samples = 1;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand(
        "bench", "Prefill and decode tokens/s beside the memory bandwidth and FMA peak measured in the same run");
    command->add_option("--model", args->model, "Checkpoint folder")->required();
    const auto tokens = CLI::Range(int64_t(1), int64_t(1) << 24);
    command->add_option("--prompt", args->prompt, "Prompt tokens (random ids) run as one prefill")->check(tokens);
    command->add_option("--decode", args->decode, "Tokens decoded one at a time after the prompt")->check(tokens);
    command->add_option("--repeats", args->repeats, "Timed runs; figures are medians")->check(CLI::Range(1, 1000));
    command->add_option("--warmup", args->warmup, "Untimed runs first (they fault the mapped weights in)")
        ->check(CLI::Range(0, 100));
    command->add_option("--seed", args->seed, "Seed of the random prompt");
    command->add_flag("--json", args->json, "Print one JSON object on stdout instead of the table");
    command->add_option("--batch", args->batch, "Decode this many sequences at once on the engine, e.g. 1,4,16,64")
        ->delimiter(',')->check(CLI::Range(int64_t(1), int64_t(4096)));
    command->add_option("--samples", args->samples, "With --batch: sequences per shared prompt")
        ->check(CLI::Range(int64_t(1), int64_t(4096)));
    add_threads_option(*command, args->threads);
    add_compute_option(*command, args->compute);
    return [command, args] {
        if (!command->parsed()) return;
        const Args& a = *args;
        // The summary needs the checkpoint's stored dtypes; a second mapping of the same files costs nothing.
        const ModelSummary summary = [&] {
            const Checkpoint checkpoint = Checkpoint::open(a.model);
            return summarize(parse_model_config(checkpoint.config(), checkpoint.config_path()), checkpoint);
        }();
        ThreadPool pool(a.threads);
        auto start = Clock::now();
        const std::unique_ptr<Model> model = load_model_with(a.model, a.compute);
        const double load_s = seconds_since(start);
        const ModelConfig& c = model->config();
        if (a.prompt + a.decode > c.max_position_embeddings)
            fail("--prompt {} + --decode {} exceeds max_position_embeddings ({})", a.prompt, a.decode, c.max_position_embeddings);

        std::mt19937_64 rng(a.seed);
        std::uniform_int_distribution<int32_t> pick(0, int32_t(c.vocab_size - 1));
        std::vector<int32_t> prompt(size_t(a.prompt));
        for (int32_t& t : prompt) t = pick(rng);
        KvCache cache = model->make_cache(1, a.prompt + a.decode);
        std::vector<float> logits(size_t(c.vocab_size));

        auto note = [&](const std::string& line) {
            std::fprintf(stderr, "bench: %s\n", line.c_str());
            std::fflush(stderr);
        };
        note(fmt::format("loaded {} in {:.2f} s; {} threads, {} kernels", a.model, load_s, pool.size(), active_kernels().name));
        if (!a.batch.empty()) {
            // One warm-up sequence faults the weights in (and packs them for bf16).
            warm_up_engine(*model, pool);
            // Measured before and after, the better kept (as above): a moment of another
            // process on a shared host would otherwise flatter the shares.
            FmaPeakResult batch_peak = measure_fma_peak(pool, 5);
            BandwidthResult bandwidth = measure_read_bandwidth(pool);
            note(fmt::format("before: bandwidth {:.1f} GB/s, bf16 dot peak {:.0f} GFLOP/s", bandwidth.best_gb_per_s,
                             batch_peak.bf16_gflop_per_s));
            run_batch_bench(*model, summary, {a.batch, a.prompt, a.decode, a.samples, a.seed, a.json},
                            [&](BandwidthResult& b, FmaPeakResult& p) {
                                const FmaPeakResult peak_after = measure_fma_peak(pool, 5);
                                const BandwidthResult after = measure_read_bandwidth(pool);
                                note(fmt::format("after: bandwidth {:.1f} GB/s, bf16 dot peak {:.0f} GFLOP/s",
                                                 after.best_gb_per_s, peak_after.bf16_gflop_per_s));
                                b = bandwidth, p = batch_peak;
                                b.best_gb_per_s = std::max(b.best_gb_per_s, after.best_gb_per_s);
                                p.best_gflop_per_s = std::max(p.best_gflop_per_s, peak_after.best_gflop_per_s);
                                p.bf16_gflop_per_s = std::max(p.bf16_gflop_per_s, peak_after.bf16_gflop_per_s);
                            },
                            pool);
            return;
        }
        for (int i = 0; i < a.warmup; ++i) {
            const RunTimes r = run_once(*model, cache, prompt, a.decode, logits, pool);
            note(fmt::format("warm-up {}: prefill {:.2f} s, decode {:.2f} s", i + 1, r.prefill_s, r.decode_s));
        }

        // The peak is measured before and after too, and the better kept: other processes on a
        // shared host can hold a core for a moment, and a low "peak" would flatter the prefill.
        FmaPeakResult peak = measure_fma_peak(pool, 5);
        const BandwidthResult before = measure_read_bandwidth(pool);
        note(fmt::format("before: bandwidth {:.1f} GB/s, fp32 FMA peak ({}) {:.0f} GFLOP/s, bf16 dot peak {:.0f} GFLOP/s",
                         before.best_gb_per_s, peak.isa, peak.best_gflop_per_s, peak.bf16_gflop_per_s));
        std::vector<double> prefill_s, decode_s;
        bool identical = true;
        std::vector<int32_t> first_tokens;
        for (int i = 0; i < a.repeats; ++i) {
            RunTimes r = run_once(*model, cache, prompt, a.decode, logits, pool);
            note(fmt::format("run {}/{}: prefill {:.3f} s ({:.2f} tok/s), decode {:.3f} s ({:.2f} tok/s)", i + 1, a.repeats,
                             r.prefill_s, double(a.prompt) / r.prefill_s, r.decode_s, double(a.decode) / r.decode_s));
            prefill_s.push_back(r.prefill_s);
            decode_s.push_back(r.decode_s);
            if (i == 0) first_tokens = std::move(r.tokens);
            else identical = identical && r.tokens == first_tokens;
        }
        const BandwidthResult after = measure_read_bandwidth(pool);
        const FmaPeakResult peak_after = measure_fma_peak(pool, 5);
        const double peak_before_gflop_s = peak.best_gflop_per_s;
        peak.best_gflop_per_s = std::max(peak.best_gflop_per_s, peak_after.best_gflop_per_s);
        peak.bf16_gflop_per_s = std::max(peak.bf16_gflop_per_s, peak_after.bf16_gflop_per_s);
        const bool bf16 = model->compute() == GemmPrecision::bf16;

        // FLOP: 2 per matmul parameter per token (embedding lookup and lm_head excluded: the
        // lm_head runs on the last token only) plus causal attention, QKᵀ and PV over
        // T(T+1)/2 query-key pairs per head and layer.
        const int64_t table = c.vocab_size * c.hidden_size;
        const int64_t matmul_params = summary.active_params - table * (c.tie_word_embeddings ? 1 : 2);
        const int64_t qk_dim = c.is_mla() ? c.qk_head_dim() : c.head_dim;
        const int64_t v_dim = c.is_mla() ? c.v_head_dim : c.head_dim;
        const double pairs = double(a.prompt) * double(a.prompt + 1) / 2.0;
        const double attention_flop = double(c.num_hidden_layers * c.num_attention_heads) * pairs * 2.0 * double(qk_dim + v_dim);
        const double prefill_flop = 2.0 * double(matmul_params) * double(a.prompt) + 2.0 * double(table) + attention_flop;

        const double prefill_med = median(prefill_s), decode_med = median(decode_s);
        const double prefill_tok_s = double(a.prompt) / prefill_med;
        const double prefill_gflop_s = prefill_flop / prefill_med / 1e9;
        const double decode_tok_s = double(a.decode) / decode_med;
        const double bytes_per_token = double(summary.active_weight_bytes);
        const double bound_before = before.best_gb_per_s * 1e9 / bytes_per_token;
        const double bound_after = after.best_gb_per_s * 1e9 / bytes_per_token;
        const double peak_share = peak.best_gflop_per_s > 0 ? prefill_gflop_s / peak.best_gflop_per_s : 0.0;
        // The prefill goal counts against the bf16 dot peak (../shared/BENCHMARKS.md).
        const double bf16_share = peak.bf16_gflop_per_s > 0 ? prefill_gflop_s / peak.bf16_gflop_per_s : 0.0;
        std::string dtypes;
        for (const auto& [dtype, n] : summary.params_by_dtype)
            dtypes += fmt::format("{}{} {}", dtypes.empty() ? "" : ", ", dtype, human(double(n), ""));

        if (a.json) {
            Json out = {
                {"model", a.model},
                {"architecture", c.architecture_name},
                {"params_by_dtype", summary.params_by_dtype},
                {"threads", pool.size()},
                {"kernels", active_kernels().name},
                {"compute", bf16 ? "bf16" : "f32"},
                {"prompt_tokens", a.prompt},
                {"decode_tokens", a.decode},
                {"repeats", a.repeats},
                {"warmup", a.warmup},
                {"load_s", load_s},
                {"active_params", summary.active_params},
                {"matmul_params_per_token", matmul_params},
                {"weight_bytes_per_token", summary.active_weight_bytes},
                {"bandwidth_before_gb_s", before.best_gb_per_s},
                {"bandwidth_after_gb_s", after.best_gb_per_s},
                {"bandwidth_before_passes_gb_s", before.pass_gb_per_s},
                {"bandwidth_after_passes_gb_s", after.pass_gb_per_s},
                {"fma_peak_gflop_s", peak.best_gflop_per_s},
                {"fma_peak_before_after_gflop_s", {peak_before_gflop_s, peak_after.best_gflop_per_s}},
                {"fma_peak_isa", peak.isa},
                {"prefill_s", prefill_s},
                {"prefill_tok_s", prefill_tok_s},
                {"prefill_gflop", prefill_flop / 1e9},
                {"prefill_gflop_s", prefill_gflop_s},
                {"prefill_share_of_fma_peak", peak_share},
                {"bf16_peak_gflop_s", peak.bf16_gflop_per_s},
                {"prefill_share_of_bf16_peak", bf16_share},
                {"decode_s", decode_s},
                {"decode_tok_s", decode_tok_s},
                {"decode_ms_per_token", 1e3 * decode_med / double(a.decode)},
                {"decode_bound_before_tok_s", bound_before},
                {"decode_bound_after_tok_s", bound_after},
                {"decode_share_of_bound_before", decode_tok_s / bound_before},
                {"decode_share_of_bound_after", decode_tok_s / bound_after},
                {"tokens_identical_across_repeats", identical},
            };
            std::printf("%s\n", out.dump().c_str());
            return;
        }
        std::string text = fmt::format("model              {} ({})\n", a.model, c.architecture_name);
        text += fmt::format("parameters         {}; {} matmul parameters and {} of weights per token\n", dtypes,
                            human(double(matmul_params), ""), human(bytes_per_token, "B"));
        text += fmt::format("run                {} threads, {} kernels, {} compute; prompt {} random ids, {} greedy decode "
                            "steps; medians of {} (after {} warm-up)\n",
                            pool.size(), active_kernels().name, bf16 ? "bf16" : "f32", a.prompt, a.decode, a.repeats,
                            a.warmup);
        text += fmt::format("bandwidth before   {:8.1f} GB/s    sum of a 1 GiB huge-page buffer, best of 3\n",
                            before.best_gb_per_s);
        text += fmt::format("prefill            {:8.2f} tok/s   {:.1f} GFLOP/s = {:.0f}% of the fp32 FMA peak ({:.0f} GFLOP/s {}, "
                            "best of before {:.0f} / after {:.0f})\n",
                            prefill_tok_s, prefill_gflop_s, 100.0 * peak_share, peak.best_gflop_per_s, peak.isa,
                            peak_before_gflop_s, peak_after.best_gflop_per_s);
        if (peak.bf16_gflop_per_s > 0)
            text += fmt::format("                   {:8s}          = {:.0f}% of the bf16 dot-product peak ({:.0f} GFLOP/s)\n", "",
                                100.0 * bf16_share, peak.bf16_gflop_per_s);
        text += fmt::format("decode             {:8.2f} tok/s   {:.1f} ms/token\n", decode_tok_s,
                            1e3 * decode_med / double(a.decode));
        text += fmt::format("decode bound       {:8.2f} tok/s   bandwidth / weight bytes per token ({:.2f} after)\n",
                            bound_before, bound_after);
        text += fmt::format("share of bound     {:8.0f} %       {:.0f}% against the bandwidth after\n",
                            100.0 * decode_tok_s / bound_before, 100.0 * decode_tok_s / bound_after);
        text += fmt::format("bandwidth after    {:8.1f} GB/s\n", after.best_gb_per_s);
        if (!identical) text += "warning            the greedy tokens differed between repeats\n";
        std::fputs(text.c_str(), stdout);
    };
}

}  // namespace mariana
