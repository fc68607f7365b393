// Teacher-forced scoring: what log-probability a model gives each token of a known text,
// given the tokens before it. `mariana score` prints it per token; `mariana perplexity`
// sums it over a long text in fixed windows, counted as llama.cpp's llama-perplexity does
// so that the two programs' figures compare.
#pragma once

#include "model/model.h"

#include <functional>
#include <span>
#include <vector>

namespace mariana {

// log softmax(logits)[target] over `vocab` logits, summed in double.
double log_softmax_at(const float* logits, int64_t vocab, int32_t target);

// result[i] = log p(tokens[first + i] | tokens[0 .. first + i)) for first ≥ 1: the tokens
// run from position 0 through a cache of their own, in chunks of at most 256. Throws Error
// when there is nothing to score (first ≥ tokens.size() or first < 1) or the tokens do not
// fit the model's context.
std::vector<double> token_logprobs(Model& model, std::span<const int32_t> tokens, int64_t first, ThreadPool& pool);

struct Perplexity {
    double value = 0;           // e^(mean negative log-likelihood)
    double standard_error = 0;  // of `value`, from the spread of the scored tokens' NLL
    int64_t windows = 0, scored_tokens = 0;
};

// llama-perplexity's count: the text is cut into ⌊n / ctx⌋ windows of ctx tokens (the
// rest is left out), each run from position 0 with its first token replaced by `bos` when
// bos ≥ 0; in each window only positions ctx/2 .. ctx-2 are scored, each predicting the
// token after it, so every scored token has at least ctx/2 tokens of context. Needs
// 2·ctx tokens at least (Error otherwise). on_window(k, running perplexity) after each.
Perplexity windowed_perplexity(Model& model, std::span<const int32_t> tokens, int64_t ctx, int32_t bos,
                               ThreadPool& pool, const std::function<void(int64_t, double)>& on_window = {});

}  // namespace mariana
