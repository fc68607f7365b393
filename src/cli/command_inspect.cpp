// mariana inspect: what a checkpoint is and what it costs to run.
#include "cli/commands.h"
#include "cli/model_summary.h"
#include "formats/checkpoint.h"
#include "model/config.h"

#include <cstdio>
#include <fmt/format.h>
#include <memory>

namespace mariana {

namespace {

std::string human(double n, const char* unit)
{
    const char* prefixes[] = {"", "K", "M", "G", "T"};
    if (n < 1000.0) return fmt::format("{:.0f} {}", n, unit);
    int i = 0;
    while (n >= 1000.0 && i < 4) n /= 1000.0, ++i;
    return fmt::format("{:.2f} {}{}", n, prefixes[i], unit);
}

}  // namespace

std::function<void()> add_inspect_command(CLI::App& app)
{
    auto dir = std::make_shared<std::string>();
    CLI::App* command = app.add_subcommand("inspect", "Architecture, parameters, dtypes, KV cache and memory of a checkpoint");
    command->add_option("dir", *dir, "Checkpoint folder")->required();
    return [command, dir] {
        if (!command->parsed()) return;
        const Checkpoint checkpoint = Checkpoint::open(*dir);
        const ModelConfig c = parse_model_config(checkpoint.config(), checkpoint.config_path());
        const ModelSummary s = summarize(c, checkpoint);
        std::string text = fmt::format("architecture      {}\n", c.architecture_name);
        text += fmt::format("layers            {} (hidden {}, {} heads, vocab {})\n", c.num_hidden_layers, c.hidden_size,
                            c.num_attention_heads, c.vocab_size);
        if (c.is_mla()) {
            text += fmt::format("attention         MLA: q_lora_rank {}, kv_lora_rank {}, nope/rope/v head dims {}/{}/{}\n",
                                c.q_lora_rank, c.kv_lora_rank, c.qk_nope_head_dim, c.qk_rope_head_dim, c.v_head_dim);
            if (c.n_routed_experts)
                text += fmt::format("experts           {} routed (top {}) + {} shared, first {} layers dense\n",
                                    c.n_routed_experts, c.num_experts_per_tok, c.n_shared_experts, c.first_k_dense_replace);
        } else {
            text += fmt::format("attention         GQA: {} KV heads of dim {}\n", c.num_key_value_heads, c.head_dim);
        }
        text += fmt::format("parameters        {} total, {} active per token\n", human(double(s.total_params), ""),
                            human(double(s.active_params), ""));
        for (const auto& [dtype, n] : s.params_by_dtype) text += fmt::format("  {:<8}        {}\n", dtype, human(double(n), ""));
        text += fmt::format("weights           {} on disk; {} read per decoded token\n", human(double(s.weight_bytes), "B"),
                            human(double(s.active_weight_bytes), "B"));
        text += fmt::format("KV cache          {} per token (float32){}\n", human(double(s.kv_floats_per_token * 4), "B"),
                            c.is_mla() ? fmt::format("; a per-head K/V cache would need {} ({:.1f}x)",
                                                     human(double(s.per_head_kv_floats_per_token * 4), "B"),
                                                     double(s.per_head_kv_floats_per_token) / double(s.kv_floats_per_token))
                                       : "");
        text += fmt::format("memory needed     {} weights (memory-mapped) + {} KV cache at {} positions\n",
                            human(double(s.weight_bytes), "B"),
                            human(double(s.kv_floats_per_token) * 4.0 * double(c.max_position_embeddings), "B"),
                            c.max_position_embeddings);
        std::fputs(text.c_str(), stdout);
    };
}

}  // namespace mariana
