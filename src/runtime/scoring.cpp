#include "runtime/scoring.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace mariana {

namespace {

constexpr int64_t kChunk = 256;  // tokens per forward call: [kChunk, vocab] logits at a time

// Runs tokens from position 0 through slot 0 of `cache` (which holds them all; earlier
// contents are overwritten) and calls visit(position, logits) for every position at or
// after `from`.
void for_each_logits_row(Model& model, KvCache& cache, std::span<const int32_t> tokens, int64_t from,
                         ThreadPool& pool, const std::function<void(int64_t, const float*)>& visit)
{
    const int64_t n = int64_t(tokens.size()), vocab = model.config().vocab_size;
    std::vector<float> logits(size_t(std::min(n, kChunk) * vocab));
    for (int64_t begin = 0; begin < n; begin += kChunk) {
        const int64_t count = std::min(kChunk, n - begin);
        const SequenceChunk chunk{cache.slot(0), begin, tokens.subspan(size_t(begin), size_t(count))};
        // Chunks wholly before `from` still fill the cache; their logits are not needed, but
        // the last-token form costs only one head row.
        const bool wanted = begin + count > from;
        model.forward({&chunk, 1}, cache, wanted ? LogitsFor::all_tokens : LogitsFor::last_token, logits.data(), pool);
        if (!wanted) continue;
        for (int64_t p = std::max(begin, from); p < begin + count; ++p) visit(p, logits.data() + (p - begin) * vocab);
    }
}

void check_fits(const Model& model, int64_t n)
{
    if (n > model.config().max_position_embeddings)
        fail("{} tokens do not fit the model's context of {} (max_position_embeddings)", n,
             model.config().max_position_embeddings);
}

}  // namespace

double log_softmax_at(const float* logits, int64_t vocab, int32_t target)
{
    const float max = *std::max_element(logits, logits + vocab);
    double sum = 0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(logits[i]) - double(max));
    return double(logits[target]) - double(max) - std::log(sum);
}

std::vector<double> token_logprobs(Model& model, std::span<const int32_t> tokens, int64_t first, ThreadPool& pool)
{
    const int64_t n = int64_t(tokens.size()), vocab = model.config().vocab_size;
    if (first < 1 || first >= n)
        fail("nothing to score: {} tokens, scoring from token {} (a token is scored given at least one before it)", n,
             first);
    check_fits(model, n);
    std::vector<double> result;
    result.reserve(size_t(n - first));
    // Position p's logits predict token p + 1; the last position predicts nothing here.
    KvCache cache = model.make_cache(1, n - 1);
    for_each_logits_row(model, cache, tokens.first(size_t(n - 1)), first - 1, pool, [&](int64_t p, const float* row) {
        result.push_back(log_softmax_at(row, vocab, tokens[size_t(p + 1)]));
    });
    return result;
}

Perplexity windowed_perplexity(Model& model, std::span<const int32_t> tokens, int64_t ctx, int32_t bos,
                               ThreadPool& pool, const std::function<void(int64_t, double)>& on_window)
{
    const int64_t n = int64_t(tokens.size()), vocab = model.config().vocab_size;
    if (ctx < 4) fail("--ctx {} is too short: a window scores its second half, and needs 4 tokens at least", ctx);
    check_fits(model, ctx);
    if (n < 2 * ctx)
        fail("the text has {} tokens; perplexity with a context of {} needs at least {} (two windows)", n, ctx,
             2 * ctx);
    Perplexity result;
    result.windows = n / ctx;
    double nll = 0, nll_squared = 0;
    std::vector<int32_t> window(static_cast<size_t>(ctx));
    KvCache cache = model.make_cache(1, ctx - 1);  // every window starts over at position 0
    for (int64_t w = 0; w < result.windows; ++w) {
        std::copy_n(tokens.begin() + w * ctx, ctx, window.begin());
        if (bos >= 0) window[0] = bos;
        for_each_logits_row(model, cache, std::span<const int32_t>(window).first(size_t(ctx - 1)), ctx / 2, pool,
                            [&](int64_t p, const float* row) {
                                // The original token is the target even where the window's
                                // first one was replaced (it never is one: p + 1 ≥ 1).
                                const double v = -log_softmax_at(row, vocab, tokens[size_t(w * ctx + p + 1)]);
                                nll += v;
                                nll_squared += v * v;
                                ++result.scored_tokens;
                            });
        if (on_window) on_window(w, std::exp(nll / double(result.scored_tokens)));
    }
    const double count = double(result.scored_tokens), mean = nll / count;
    result.value = std::exp(mean);
    const double variance = nll_squared / count - mean * mean;
    // The NLL mean's standard error, carried to e^mean to first order (as llama.cpp reports).
    if (variance > 0 && count > 1) result.standard_error = std::sqrt(variance / (count - 1)) * result.value;
    return result;
}

}  // namespace mariana
