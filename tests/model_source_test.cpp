// Models built on tensors in memory (a trainer's parameters) instead of a checkpoint folder:
// the same logits as the folder, a bf16 copy within its bound, a model built after a
// training step that computes what the saved checkpoint of that step computes, two models
// (a live policy, a frozen reference) side by side in one process, and the generation
// engine on a model in memory.
#include "core/error.h"
#include "model/init.h"
#include "model/model.h"
#include "runtime/engine.h"
#include "test_data.h"
#include "train/model_folder.h"
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace mariana::train {
namespace {

// Logits of every position of `tokens`: a prefill of all but the last 3, then 3 decode steps.
std::vector<float> logits_of(Model& model, const std::vector<int32_t>& tokens, ThreadPool& pool)
{
    const int64_t n = int64_t(tokens.size()), vocab = model.config().vocab_size;
    KvCache cache = model.make_cache(1, n);
    std::vector<float> logits(size_t(n * vocab));
    for (int64_t begin = 0; begin < n;) {
        const int64_t count = begin == 0 ? n - 3 : 1;
        const SequenceChunk chunk{cache.slot(0), begin, std::span(tokens).subspan(size_t(begin), size_t(count))};
        model.forward({&chunk, 1}, cache, LogitsFor::all_tokens, logits.data() + begin * vocab, pool);
        begin += count;
    }
    return logits;
}

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b)
{
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
    return worst;
}

double max_abs(const std::vector<float>& a)
{
    double worst = 0;
    for (const float v : a) worst = std::max(worst, double(std::fabs(v)));
    return worst;
}

struct Case {
    const char* name;
    Json overrides;  // on the golden config the case starts from
    const char* golden;
};

class WeightsInMemory : public ::testing::TestWithParam<Case> {};

// A float32 checkpoint of the case's architecture, and its parameters loaded for training.
struct TinyCheckpoint {
    std::string dir;
    ModelConfig config;
    ParameterSet params;
};

TinyCheckpoint make_checkpoint(const testing::TempDir& tmp, const Case& c, ThreadPool& pool)
{
    Json config = read_json_file(std::string(c.golden) + "/config.json");
    config.update(c.overrides);
    write_random_checkpoint(config, tmp / "model", {.seed = 11, .dtype = DType::f32}, pool);
    const Checkpoint checkpoint = Checkpoint::open(tmp / "model");
    ModelConfig parsed = parse_model_config(checkpoint.config(), checkpoint.config_path());
    ParameterSet params = ParameterSet::load(parsed, checkpoint);
    return {tmp / "model", std::move(parsed), std::move(params)};
}

const std::vector<int32_t> kTokens = {3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3};

TEST_P(WeightsInMemory, GiveTheLogitsOfTheCheckpoint)
{
    testing::TempDir tmp;
    ThreadPool pool(2);
    TinyCheckpoint s = make_checkpoint(tmp, GetParam(), pool);
    const std::vector<float> from_folder = logits_of(*load_model(s.dir), kTokens, pool);

    // float32 views of the very values the folder holds: the same kernels on the same
    // numbers, so the same bits.
    auto live = build_model(s.config, s.params.as_tensors(DType::f32, pool));
    EXPECT_EQ(logits_of(*live, kTokens, pool), from_folder);

    // The bf16 copy rounds every matrix to 8 significant bits (relative error ≤ 2^-9 per
    // weight). Through these few layers of random weights that moves the logits by 0.22% to
    // 0.58% of their largest magnitude (measured); the bound is 2%, and the difference must
    // not be zero: the copy is really rounded.
    auto rounded = build_model(s.config, s.params.as_tensors(DType::bf16, pool));
    const std::vector<float> from_bf16 = logits_of(*rounded, kTokens, pool);
    const double difference = max_abs_difference(from_bf16, from_folder);
    EXPECT_GT(difference, 0.0);
    EXPECT_LT(difference, 0.02 * max_abs(from_folder));
    EXPECT_THROW(s.params.as_tensors(DType::f8_e4m3, pool), Error);
}

// The generation engine runs a model built on parameters in memory as it runs the folder's:
// the same sampled tokens, the same log-probabilities.
TEST_P(WeightsInMemory, DriveTheGenerationEngine)
{
    testing::TempDir tmp;
    ThreadPool pool(2);
    TinyCheckpoint s = make_checkpoint(tmp, GetParam(), pool);
    GenerationParams params;
    params.sampler = {.temperature = 1.5f, .seed = 4};
    params.max_new_tokens = 12;
    params.ignore_eos = true;
    const auto completion = [&](Model& model) {
        Engine engine(model, {.context = 64});
        return generate(engine, kTokens, params, pool);
    };
    const Sequence from_folder = completion(*load_model(s.dir));
    const Sequence live = completion(*build_model(s.config, s.params.as_tensors(DType::f32, pool)));
    EXPECT_EQ(live.completion, from_folder.completion);
    EXPECT_EQ(live.logprobs, from_folder.logprobs);
    EXPECT_EQ(live.completion.size(), 12u);
}

TEST_P(WeightsInMemory, FollowATrainerWhenBuiltAgainAfterEachStep)
{
    testing::TempDir tmp;
    ThreadPool pool(2);
    TinyCheckpoint s = make_checkpoint(tmp, GetParam(), pool);
    const int64_t vocab = s.config.vocab_size;
    std::vector<uint32_t> data(600);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint32_t((i * 7919 + i / 5) % uint64_t(vocab - 2) + 2);
    {
        std::ofstream out(tmp / "data.bin", std::ios::binary);
        out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size() * 4));
    }
    TokenWindows windows(tmp / "data.bin", 16, 0.0, 3);
    TrainOptions options;
    options.batch = 2;
    options.seq_len = 16;
    options.schedule = {ScheduleKind::constant, 1e-2, 1e-2, 0, 10, 0};
    Trainer trainer(s.config, std::move(s.params), options);

    // A frozen reference (a bf16 copy, owned by its source) and the live policy, each with
    // its own cache, side by side.
    auto reference = build_model(s.config, trainer.params().as_tensors(DType::bf16, pool));
    const std::vector<float> reference_before = logits_of(*reference, kTokens, pool);
    const std::vector<float> policy_before =
        logits_of(*build_model(s.config, trainer.params().as_tensors(DType::f32, pool)), kTokens, pool);

    trainer.step(0, windows, pool);
    trainer.step(1, windows, pool);
    auto policy = build_model(s.config, trainer.params().as_tensors(DType::f32, pool));
    const std::vector<float> policy_after = logits_of(*policy, kTokens, pool);
    EXPECT_GT(max_abs_difference(policy_after, policy_before), 0.0) << "the steps changed nothing";

    // What the rebuilt model computes is what the checkpoint of that step computes.
    write_model_folder(tmp / "step2", Checkpoint::open(s.dir).config(), trainer.params(), {});
    EXPECT_EQ(policy_after, logits_of(*load_model(tmp / "step2"), kTokens, pool));
    // The reference kept its own copy.
    EXPECT_EQ(logits_of(*reference, kTokens, pool), reference_before);
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, WeightsInMemory,
    ::testing::Values(
        Case{"deepseek_v3_with_mtp",
             {{"hidden_size", 64}, {"intermediate_size", 96}, {"num_hidden_layers", 2}, {"vocab_size", 64},
              {"q_lora_rank", 32}, {"kv_lora_rank", 16}, {"qk_nope_head_dim", 8}, {"qk_rope_head_dim", 8},
              {"v_head_dim", 8}, {"moe_intermediate_size", 16}, {"n_routed_experts", 8}, {"n_group", 2},
              {"topk_group", 1}, {"num_experts_per_tok", 2}, {"num_nextn_predict_layers", 1}},
             MARIANA_SHARED_DIR "/golden/model/v3-tiny"},
        Case{"deepseek_v2_lite", {{"vocab_size", 64}}, MARIANA_SHARED_DIR "/golden/model/v2-lite-tiny"},
        Case{"qwen2", {{"vocab_size", 64}}, MARIANA_TEST_DATA_DIR "/qwen2-tiny"},
        Case{"llama_tied", {{"vocab_size", 64}, {"tie_word_embeddings", true}}, MARIANA_TEST_DATA_DIR "/llama-tiny"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mariana::train
