// mariana init: a new checkpoint with random weights in the real HF layout.
#include "cli/commands.h"
#include "core/error.h"
#include "model/init.h"

#include <cstdio>

namespace mariana {

std::function<void()> add_init_command(CLI::App& app)
{
    struct Args {
        std::string config, out, dtype = "bf16";
        uint64_t seed = 0;
        int64_t shard_mb = 4096;
        int threads = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* command = app.add_subcommand("init", "Write a new checkpoint with random weights (DeepSeek's initialisation)");
    command->add_option("--config", args->config, "config.json describing the model")->required()->check(CLI::ExistingFile);
    command->add_option("--out", args->out, "Folder to create (must not exist or be empty)")->required();
    command->add_option("--seed", args->seed, "Random seed");
    command->add_option("--dtype", args->dtype, "Storage of the projections")->check(CLI::IsMember({"bf16", "f32", "fp8"}));
    command->add_option("--shard-mb", args->shard_mb, "Largest shard in MiB; more shards add an index")
        ->check(CLI::Range(int64_t(1), int64_t(1) << 30));
    add_threads_option(*command, args->threads);
    return [command, args] {
        if (!command->parsed()) return;
        InitOptions options;
        options.seed = args->seed;
        options.dtype = args->dtype == "f32" ? DType::f32 : args->dtype == "fp8" ? DType::f8_e4m3 : DType::bf16;
        options.max_shard_bytes = args->shard_mb << 20;
        options.config_source = args->config;
        ThreadPool pool(args->threads);
        write_random_checkpoint(read_json_file(args->config), args->out, options, pool);
        std::printf("wrote %s\n", args->out.c_str());
    };
}

}  // namespace mariana
