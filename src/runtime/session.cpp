#include "runtime/session.h"

#include "core/error.h"

#include <algorithm>

namespace mariana {

Session::Session(Model& model, int64_t capacity)
    : model_(model),
      capacity_(std::min(capacity, model.config().max_position_embeddings)),
      cache_(model.make_cache(1, std::max<int64_t>(capacity_, 1))),
      logits_(static_cast<size_t>(model.config().vocab_size))
{
    if (capacity <= 0) fail("the context size must be positive, got {}", capacity);
}

std::vector<int32_t> Session::generate(std::span<const int32_t> context, const GenerateOptions& options,
                                       ThreadPool& pool, const std::function<bool(int32_t)>& on_token)
{
    const ModelConfig& config = model_.config();
    if (context.empty()) fail("the prompt has no tokens");
    if (options.max_new_tokens < 0) fail("the number of new tokens must be >= 0, got {}", options.max_new_tokens);
    if (int64_t(context.size()) > config.max_position_embeddings)
        fail("the prompt has {} tokens, more than max_position_embeddings ({})", context.size(),
             config.max_position_embeddings);
    if (int64_t(context.size()) > capacity_)
        fail("the conversation has {} tokens, more than the context of {} tokens", context.size(), capacity_);

    // Reuse the shared prefix, but always run at least the last token for its logits.
    const auto shared = std::mismatch(cached_.begin(), cached_.end(), context.begin(), context.end()).first - cached_.begin();
    const int64_t reuse = std::min<int64_t>(shared, int64_t(context.size()) - 1);
    cached_.resize(size_t(reuse));  // rows past this are about to be overwritten

    Sampler sampler(options.sampler);
    std::vector<int32_t> generated;
    SequenceChunk chunk{cache_.slot(0), reuse, context.subspan(size_t(reuse))};
    int32_t token = 0;  // chunk.tokens points here after the first step
    while (int64_t(generated.size()) < options.max_new_tokens) {
        if (chunk.start_pos + int64_t(chunk.tokens.size()) > capacity_) break;  // context full
        model_.forward({&chunk, 1}, cache_, LogitsFor::last_token, logits_.data(), pool);
        // Now the chunk's rows are written.
        cached_.insert(cached_.end(), chunk.tokens.begin(), chunk.tokens.end());
        token = sampler.sample(logits_, cached_).token;
        generated.push_back(token);
        const bool stop = (options.stop_at_eos && token == config.eos_token_id) ||
                          std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) !=
                              options.stop_tokens.end();
        if ((on_token && !on_token(token)) || stop) break;
        chunk = SequenceChunk{cache_.slot(0), chunk.start_pos + int64_t(chunk.tokens.size()), {&token, 1}};
    }
    return generated;
}

std::vector<int32_t> generate(Model& model, std::span<const int32_t> prompt, const GenerateOptions& options,
                              ThreadPool& pool, const std::function<bool(int32_t)>& on_token)
{
    Session session(model, std::max<int64_t>(int64_t(prompt.size()) + options.max_new_tokens, 1));
    return session.generate(prompt, options, pool, on_token);
}

}  // namespace mariana
