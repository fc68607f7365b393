// The flags shared by the commands that generate (run, chat, batch), one meaning each: how
// to sample (--temperature --top-p --top-k --min-p --repetition-penalty --seed), when to
// stop (-n/--max-new-tokens --stop --ignore-eos), and the engine's cache and batch
// (--context --cache-mb --cache-dtype --max-sequences --step-tokens).
#pragma once

#include "formats/tokenizer/tokenizer.h"
#include "runtime/engine.h"

#include <CLI/CLI.hpp>

namespace mariana {

// `params` holds the command's defaults; max_new_tokens -1 means up to the end of the context.
void add_generation_options(CLI::App& command, GenerationParams& params);

struct EngineFlags {
    int64_t context = 0;  // 0: the model's max_position_embeddings
    int64_t cache_mb = 0;  // 0: room for max_sequences full contexts, at most 25% of the RAM
    int64_t max_sequences = 64;
    int64_t step_tokens = 256;
    std::string cache_dtype = "f32";
};
void add_engine_options(CLI::App& command, EngineFlags& flags);

// The engine options for `model` (text and stop strings through `tokenizer` if given).
// Throws Error naming the flag for a cache too small for one page.
EngineOptions engine_options(const EngineFlags& flags, const Model& model, const Tokenizer* tokenizer);

// The stop tokens a tokenizer adds: its end-of-sequence id, where it has one.
void add_tokenizer_stops(const Tokenizer& tokenizer, GenerationParams& params);

}  // namespace mariana
