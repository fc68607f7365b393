// Loading a model for a command that runs one, with the run's compute setting:
// --compute f32|bf16|auto, shared by run, chat, logits, bench, score and perplexity.
#pragma once

#include "model/model.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace mariana {

// auto (the default): bf16 when the checkpoint's projections are stored as BF16 or FP8 and
// the CPU has AVX-512 BF16, else f32. f32 gives the reference's numerics (what the golden
// tests compare); bf16 prefills at twice the arithmetic rate (kernels/matmul.h).
void add_compute_option(CLI::App& command, std::string& compute);

// The checkpoint in `dir` with `compute` applied. Asking for bf16 on a CPU without AVX-512
// BF16 is an error naming the flag.
std::unique_ptr<Model> load_model_with(const std::string& dir, const std::string& compute);

}  // namespace mariana
