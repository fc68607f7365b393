// One sequence's model state across calls: the KV cache and the tokens whose rows it
// holds. Each call runs only the tokens after the longest prefix it shares with what was
// computed before, so a chat turn costs the new message, not the whole conversation, and a
// template that rewrites earlier turns (R1 drops old reasoning) just recomputes from there.
#pragma once

#include "model/model.h"
#include "runtime/sampler.h"

#include <functional>
#include <vector>

namespace mariana {

struct GenerateOptions {
    int64_t max_new_tokens = 32;
    SamplerOptions sampler;
    bool stop_at_eos = true;            // config.json's eos_token_id
    std::vector<int32_t> stop_tokens;   // more ids that end generation (e.g. the tokenizer's EOS)
};

class Session {
public:
    // `capacity`: the most tokens (context + generated) the cache holds, at most
    // max_position_embeddings.
    Session(Model& model, int64_t capacity);

    // Generates after `context` until a stop token, max_new_tokens, a full cache, or
    // on_token (if set) returning false; returns the new tokens (the stop token included).
    // Throws Error for an empty context or one that does not fit in the cache.
    std::vector<int32_t> generate(std::span<const int32_t> context, const GenerateOptions& options, ThreadPool& pool,
                                  const std::function<bool(int32_t)>& on_token = {});

    int64_t capacity() const { return capacity_; }
    void reset() { cached_.clear(); }

private:
    Model& model_;
    int64_t capacity_;
    KvCache cache_;
    std::vector<int32_t> cached_;  // tokens whose cache rows are written, in order
    std::vector<float> logits_;
};

// A one-off generation with a fresh session sized for prompt + max_new_tokens.
std::vector<int32_t> generate(Model& model, std::span<const int32_t> prompt, const GenerateOptions& options,
                              ThreadPool& pool, const std::function<bool(int32_t)>& on_token = {});

}  // namespace mariana
