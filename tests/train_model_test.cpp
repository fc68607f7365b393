// The training model against independent oracles:
// - its forward reproduces the reference logits: DeepSeek's official implementation for
//   V2/V3 (shared/golden) and the project's PyTorch oracle for Qwen2/Llama (tests/data);
// - its backward matches central differences of the whole objective (next-token loss,
//   MTP loss, balance loss) in double precision, for every parameter tensor of tiny models
//   of each architecture: MLA with and without q_lora, the router with sigmoid and softmax
//   scores, shared experts, MTP at two depths, GQA with biases, tied and untied heads.
#include "model/init.h"
#include "test_data.h"
#include "train/transformer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

namespace mariana::train {
namespace {

struct Loaded {
    Checkpoint checkpoint;
    ModelConfig config;
    ParameterSet params;
};

Loaded load(const std::string& dir)
{
    Loaded l;
    l.checkpoint = Checkpoint::open(dir);
    l.config = parse_model_config(l.checkpoint.config(), l.checkpoint.config_path());
    l.params = ParameterSet::load(l.config, l.checkpoint);
    return l;
}

class TrainForward : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainForward, ReproducesReferenceLogits)
{
    const std::string dir = GetParam();
    Loaded l = load(dir);
    const auto tokens = read_json_file(dir + "/tokens.json").get<std::vector<int32_t>>();
    const std::vector<float> want = testing::read_f32(dir + "/logits.f32");
    ThreadPool pool(2);
    Transformer<float> model(l.config, l.params, Objective{});
    std::vector<float> got(want.size());
    model.logits({l.params.values().data(), nullptr}, tokens.data(), 1, int64_t(tokens.size()), got.data(), pool);

    // The tolerance of shared/golden/model/NOTES.md §8.
    float max_diff = 0, max_logit = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        max_diff = std::max(max_diff, std::fabs(got[i] - want[i]));
        max_logit = std::max(max_logit, std::fabs(want[i]));
    }
    EXPECT_LE(max_diff, 2e-4f);
    EXPECT_LE(max_diff / max_logit, 2e-5f);
}

INSTANTIATE_TEST_SUITE_P(DeepSeek, TrainForward,
                         ::testing::Values(testing::golden_dir("v3-tiny"), testing::golden_dir("v2-lite-tiny"),
                                           testing::golden_dir("v3-fp8-tiny")));
INSTANTIATE_TEST_SUITE_P(Dense, TrainForward,
                         ::testing::Values(testing::data_dir("qwen2-tiny"), testing::data_dir("llama-tiny")));

// Tiny configs, one per architecture and feature mix; weights drawn larger than usual
// (initializer_range 0.3) so every path carries a gradient well above rounding.
Json tiny_config(const std::string& kind)
{
    Json c = {{"hidden_size", 16},        {"intermediate_size", 20}, {"num_hidden_layers", 2},
              {"num_attention_heads", 2}, {"vocab_size", 23},        {"max_position_embeddings", 64},
              {"rms_norm_eps", 1e-6},     {"initializer_range", 0.3}, {"bos_token_id", 0},
              {"eos_token_id", 1},        {"tie_word_embeddings", false}, {"rope_theta", 10000.0}};
    if (kind == "v3" || kind == "v2") {
        c.update({{"kv_lora_rank", 8}, {"qk_nope_head_dim", 4}, {"qk_rope_head_dim", 4}, {"v_head_dim", 6},
                  {"num_key_value_heads", 2}, {"first_k_dense_replace", 1}, {"n_routed_experts", 8},
                  {"num_experts_per_tok", 2}, {"moe_intermediate_size", 6}, {"moe_layer_freq", 1}});
    }
    if (kind == "v3") {
        c.update({{"architectures", {"DeepseekV3ForCausalLM"}}, {"model_type", "deepseek_v3"}, {"q_lora_rank", 12},
                  {"n_shared_experts", 1}, {"n_group", 4}, {"topk_group", 2}, {"topk_method", "noaux_tc"},
                  {"scoring_func", "sigmoid"}, {"norm_topk_prob", true}, {"routed_scaling_factor", 2.5},
                  {"num_nextn_predict_layers", 2},
                  {"rope_scaling", {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 16},
                                    {"beta_fast", 32}, {"beta_slow", 1}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}}}});
    } else if (kind == "v2") {
        c.update({{"architectures", {"DeepseekV2ForCausalLM"}}, {"model_type", "deepseek_v2"}, {"q_lora_rank", nullptr},
                  {"n_shared_experts", 2}, {"n_group", 2}, {"topk_group", 1}, {"topk_method", "group_limited_greedy"},
                  {"scoring_func", "softmax"}, {"norm_topk_prob", false}, {"routed_scaling_factor", 1.5}});
    } else if (kind == "qwen2") {
        c.update({{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"}, {"num_key_value_heads", 1},
                  {"tie_word_embeddings", true}, {"head_dim", 8}});
    } else if (kind == "llama") {
        c.update({{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"num_key_value_heads", 1},
                  {"head_dim", 8}, {"attention_bias", false},
                  {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                                    {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}}}});
    }
    return c;
}

class TrainGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainGradients, MatchCentralDifferencesForEveryTensor)
{
    testing::TempDir tmp;
    ThreadPool pool(2);
    write_random_checkpoint(tiny_config(GetParam()), tmp / "model", {.seed = 7, .dtype = DType::f32}, pool);
    Loaded l = load(tmp / "model");
    const Objective objective{.mtp_weight = 0.3, .balance_alpha = 0.05};
    Transformer<double> model(l.config, l.params, objective);
    if (GetParam() == "v3") {
        EXPECT_EQ(model.mtp_depth(), 2);
    }

    std::vector<double> values(l.params.values().begin(), l.params.values().end()), grads(values.size(), 0.0);
    const int64_t B = 2, S = 12;  // enough tokens that every expert is chosen
    std::mt19937 rng(3);
    std::vector<int32_t> windows(size_t(B * (S + 1)));
    for (int32_t& t : windows) t = int32_t(rng() % uint32_t(l.config.vocab_size));

    const double scale = 0.75;  // the gradient must carry the caller's scale
    model.step({values.data(), grads.data()}, windows.data(), B, S, scale, pool);
    auto objective_at = [&] { return model.step({values.data(), nullptr}, windows.data(), B, S, 1.0, pool).objective; };
    const double base = objective_at();
    EXPECT_TRUE(std::isfinite(base));

    // Tokens each routed expert received, by layer index (main layers, then MTP modules).
    std::map<int64_t, std::vector<int64_t>> load;
    const std::vector<MoeRun<double>> moe = model.moe_runs();
    for (int64_t layer = 0, block = 0; block < int64_t(moe.size()); ++layer)
        if (l.config.is_moe_layer(layer)) load[layer] = moe[size_t(block++)].activations->load;
    for (const auto& [layer, tokens] : load)
        EXPECT_GE(std::ranges::count_if(tokens, [](int64_t n) { return n > 0; }), 6) << "layer " << layer;
    auto chosen = [&](const std::string& name) {
        int64_t layer = 0, expert = 0;
        return std::sscanf(name.c_str(), "model.layers.%ld.mlp.experts.%ld.", &layer, &expert) != 2 ||
               load.at(layer)[size_t(expert)] > 0;
    };

    constexpr double h = 1e-6;
    int checked = 0;
    for (const Parameter& p : l.params.parameters()) {
        if (p.alias) continue;
        SCOPED_TRACE(p.name);
        double norm = 0;
        for (int64_t i = 0; i < p.size; ++i) norm += grads[size_t(p.offset + i)] * grads[size_t(p.offset + i)];
        // The selection bias moves by the balancing rule, never by gradient.
        if (p.role == TensorRole::correction_bias) {
            EXPECT_EQ(norm, 0.0);
            continue;
        }
        // An expert no token chose gets none (and central differences agree: it changes nothing).
        if (chosen(p.name)) EXPECT_GT(norm, 0.0) << "no gradient reaches " << p.name;
        else EXPECT_EQ(norm, 0.0);
        // Up to 6 entries per tensor, the first and last among them.
        std::vector<int64_t> entries = {0, p.size - 1};
        for (int k = 0; k < 4 && p.size > 2; ++k) entries.push_back(int64_t(rng() % uint64_t(p.size)));
        for (const int64_t i : entries) {
            double& v = values[size_t(p.offset + i)];
            const double saved = v;
            v = saved + h;
            const double plus = objective_at();
            v = saved - h;
            const double minus = objective_at();
            v = saved;
            const double numeric = (plus - minus) / (2 * h);
            const double analytic = grads[size_t(p.offset + i)] / scale;
            EXPECT_NEAR(analytic, numeric, 1e-8 + 1e-5 * std::abs(numeric)) << p.name << "[" << i << "]";
            ++checked;
        }
    }
    EXPECT_GT(checked, 50);
}

INSTANTIATE_TEST_SUITE_P(Architectures, TrainGradients, ::testing::Values("v3", "v2", "qwen2", "llama"));

}  // namespace
}  // namespace mariana::train
