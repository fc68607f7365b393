#include "cli/generation_options.h"

#include "core/error.h"

#include <unistd.h>

#include <algorithm>

namespace mariana {

void add_generation_options(CLI::App& command, GenerationParams& params)
{
    SamplerOptions& s = params.sampler;
    command.add_option("--temperature", s.temperature, "0: greedy")->capture_default_str();
    command.add_option("--top-p", s.top_p, "Nucleus sampling mass")->capture_default_str();
    command.add_option("--top-k", s.top_k, "Sample among the k most likely (0: all)")->capture_default_str();
    command.add_option("--min-p", s.min_p, "Drop tokens less likely than this fraction of the best")->capture_default_str();
    command.add_option("--repetition-penalty", s.repetition_penalty, "1: off; 1.1 is mild")->capture_default_str();
    command.add_option("--seed", s.seed, "Sampling seed")->capture_default_str();
    command
        .add_option("-n,--max-new-tokens", params.max_new_tokens,
                    "Most tokens to generate (-1: up to the end of the context)")
        ->capture_default_str();
    command.add_option("--stop", params.stop_strings, "Stop when the text contains this string (repeatable)");
    command.add_flag("--ignore-eos", params.ignore_eos, "Keep generating after the end-of-sequence token");
}

void add_engine_options(CLI::App& command, EngineFlags& flags)
{
    command.add_option("--context", flags.context, "Most tokens per sequence (0: the model's maximum)")
        ->check(CLI::NonNegativeNumber)->capture_default_str();
    command.add_option("--cache-mb", flags.cache_mb,
                       "KV cache size in MiB (0: room for --max-sequences full contexts, at most a quarter of the RAM)")
        ->check(CLI::NonNegativeNumber)->capture_default_str();
    command.add_option("--cache-dtype", flags.cache_dtype, "KV cache rows in f32, or bf16 for half the memory")
        ->check(CLI::IsMember({"f32", "bf16"}))->capture_default_str();
    command.add_option("--max-sequences", flags.max_sequences, "Sequences decoded at once")
        ->check(CLI::PositiveNumber)->capture_default_str();
    command.add_option("--step-tokens", flags.step_tokens, "Prompt tokens computed per step beside decoding")
        ->check(CLI::PositiveNumber)->capture_default_str();
}

EngineOptions engine_options(const EngineFlags& flags, const Model& model, const Tokenizer* tokenizer)
{
    EngineOptions o;
    o.context = std::min(flags.context == 0 ? model.config().max_position_embeddings : flags.context,
                         model.config().max_position_embeddings);
    o.max_sequences = flags.max_sequences;
    o.step_tokens = flags.step_tokens;
    o.cache_dtype = flags.cache_dtype == "bf16" ? DType::bf16 : DType::f32;
    const int64_t page_bytes =
        KvCache::page_bytes(model.config().num_hidden_layers, o.page_rows, model.cache_row_floats(), o.cache_dtype);
    const int64_t context_pages = (o.context + o.page_rows - 1) / o.page_rows;
    if (flags.cache_mb > 0) {
        o.cache_pages = flags.cache_mb * (int64_t(1) << 20) / page_bytes;
        if (o.cache_pages == 0)
            fail("--cache-mb {}: a KV cache page of {} positions takes {:.1f} MiB", flags.cache_mb, o.page_rows,
                 double(page_bytes) / double(1 << 20));
    } else {
        const int64_t ram = int64_t(sysconf(_SC_PHYS_PAGES)) * int64_t(sysconf(_SC_PAGE_SIZE));
        o.cache_pages = std::max(context_pages, std::min(flags.max_sequences * context_pages, ram / 4 / page_bytes));
    }
    if (tokenizer) {
        // Special tokens (the end of a turn, ...) have no text, as when decoding with
        // skip_special_tokens.
        o.token_text = [tokenizer](int32_t id) -> const std::string& {
            static const std::string none;
            return id >= tokenizer->vocab_size() || tokenizer->is_special(id) ? none : tokenizer->token_bytes(id);
        };
    }
    return o;
}

void add_tokenizer_stops(const Tokenizer& tokenizer, GenerationParams& params)
{
    if (tokenizer.eos_id() >= 0) params.stop_tokens.push_back(tokenizer.eos_id());
}

}  // namespace mariana
