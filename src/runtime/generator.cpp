#include "runtime/generator.h"

#include "core/error.h"

namespace mariana {

std::vector<int32_t> generate(Model& model, std::span<const int32_t> prompt, const GenerateOptions& options,
                              ThreadPool& pool, const std::function<void(int32_t)>& on_token)
{
    const ModelConfig& config = model.config();
    if (prompt.empty()) fail("the prompt has no tokens");
    if (options.max_new_tokens < 0) fail("the number of new tokens must be >= 0, got {}", options.max_new_tokens);
    const int64_t total = int64_t(prompt.size()) + options.max_new_tokens;
    if (int64_t(prompt.size()) > config.max_position_embeddings)
        fail("the prompt has {} tokens, more than max_position_embeddings ({})", prompt.size(), config.max_position_embeddings);
    const int64_t capacity = std::min(total, config.max_position_embeddings);

    Sampler sampler(options.sampler);
    KvCache cache = model.make_cache(1, capacity);
    std::vector<float> logits(static_cast<size_t>(config.vocab_size));
    std::vector<int32_t> generated;
    SequenceChunk chunk{0, 0, prompt};
    int32_t token = 0;
    while (int64_t(generated.size()) < options.max_new_tokens) {
        if (chunk.start_pos + int64_t(chunk.tokens.size()) > capacity) break;  // context full
        model.forward({&chunk, 1}, cache, LogitsFor::last_token, logits.data(), pool);
        token = sampler.sample(logits);
        generated.push_back(token);
        if (on_token) on_token(token);
        if (options.stop_at_eos && token == config.eos_token_id) break;
        chunk = SequenceChunk{0, chunk.start_pos + int64_t(chunk.tokens.size()), {&token, 1}};
    }
    return generated;
}

}  // namespace mariana
