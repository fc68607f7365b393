// The sampling flags shared by the commands that generate (run, chat).
#pragma once

#include "runtime/sampler.h"

#include <CLI/CLI.hpp>

namespace mariana {

inline void add_sampling_options(CLI::App& command, SamplerOptions& sampler)
{
    command.add_option("--temperature", sampler.temperature, "0: greedy");
    command.add_option("--top-p", sampler.top_p, "Nucleus sampling mass");
    command.add_option("--top-k", sampler.top_k, "Sample among the k most likely (0: all)");
    command.add_option("--min-p", sampler.min_p, "Drop tokens less likely than this fraction of the best");
    command.add_option("--repetition-penalty", sampler.repetition_penalty, "1: off; 1.1 is mild");
    command.add_option("--seed", sampler.seed, "Sampling seed");
}

}  // namespace mariana
