// The training loop's parts: the token stream from each data format, the window order,
// the learning-rate schedules, the balancing rule, checkpoint folders that reload
// bit-exactly, and a tiny model that memorises a short text.
#include "core/error.h"
#include "model/init.h"
#include "model/model.h"
#include "test_data.h"
#include "train/model_folder.h"
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

namespace mariana::train {
namespace {

void write_file(const std::string& path, const std::string& bytes)
{
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string uint32_bytes(const std::vector<uint32_t>& ids)
{
    std::string bytes;
    for (const uint32_t v : ids)
        for (int i = 0; i < 4; ++i) bytes.push_back(char((v >> (8 * i)) & 0xff));
    return bytes;
}

std::vector<uint32_t> read_stream(const std::string& path)
{
    const std::vector<float> raw = testing::read_f32(path);  // same 4-byte words
    std::vector<uint32_t> ids(raw.size());
    std::memcpy(ids.data(), raw.data(), raw.size() * 4);
    return ids;
}

TEST(TokenData, EachFormatBecomesTheDocumentedStream)
{
    testing::TempDir tmp;
    const Tokenizer tokenizer = Tokenizer::load(testing::golden_tokenizer_dir("deepseek-v3"));
    const int32_t eos = 1;
    write_file(tmp / "a.jsonl", "{\"text\": \"Hello world\"}\n\n{\"text\": \"second document\", \"id\": 7}\n");
    // More than a megabyte, so the text is encoded in pieces: the ids must still equal
    // those of encoding the whole file at once.
    std::string text;
    for (int i = 0; text.size() < (3u << 20) / 2; ++i) text += "line " + std::to_string(i) + " of  text,\n\n  indented\n";
    write_file(tmp / "b.txt", text);
    write_file(tmp / "c.bin", uint32_bytes({5, 6, 7, 1}));
    write_token_stream({{tmp / "a.jsonl", tmp / "b.txt", tmp / "c.bin"}, tokenizer.vocab_size(), eos, &tokenizer},
                       tmp / "tokens.bin");

    std::vector<uint32_t> want;
    for (const char* doc : {"Hello world", "second document"}) {
        for (const int32_t id : tokenizer.encode(doc, true)) want.push_back(uint32_t(id));
        want.push_back(eos);
    }
    for (const int32_t id : tokenizer.encode(text, true)) want.push_back(uint32_t(id));
    want.push_back(eos);
    for (const uint32_t id : {5u, 6u, 7u, 1u}) want.push_back(id);
    EXPECT_EQ(read_stream(tmp / "tokens.bin"), want);
}

TEST(TokenData, BadInputNamesTheFileAndPlace)
{
    testing::TempDir tmp;
    const Tokenizer tokenizer = Tokenizer::load(testing::golden_tokenizer_dir("deepseek-v3"));
    auto error_of = [&](const std::string& name, const std::string& bytes, const Tokenizer* t) -> std::string {
        write_file(tmp / name, bytes);
        try {
            write_token_stream({{tmp / name}, 100, 1, t}, tmp / "out.bin");
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_NE(error_of("big.bin", uint32_bytes({3, 100}), nullptr).find("token id 100 at byte 4"), std::string::npos);
    EXPECT_NE(error_of("cut.bin", std::string("\x01\x00\x00\x00\x02", 5), nullptr).find("5 bytes"), std::string::npos);
    EXPECT_NE(error_of("bad.jsonl", "{\"text\": \"a\"}\n[1, 2]\n", &tokenizer).find("bad.jsonl line 2"), std::string::npos);
    EXPECT_NE(error_of("junk.jsonl", "{\"text\": \"a\"}\n{oops\n", &tokenizer).find("junk.jsonl line 2"), std::string::npos);
    EXPECT_NE(error_of("notok.txt", "text", nullptr).find("needs a tokenizer"), std::string::npos);
    EXPECT_THROW(write_token_stream({{tmp / "nothing-here.txt"}, 100, 1, &tokenizer}, tmp / "o.bin"), Error);
    EXPECT_FALSE(std::filesystem::exists(tmp / "out.bin"));  // never a half-made stream
}

TEST(TokenWindows, EpochsVisitEveryWindowOnceInASeededOrder)
{
    testing::TempDir tmp;
    std::vector<uint32_t> ids(1000);
    for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
    write_file(tmp / "s.bin", uint32_bytes(ids));
    TokenWindows a(tmp / "s.bin", 10, 0.1, 42), b(tmp / "s.bin", 10, 0.1, 42), c(tmp / "s.bin", 10, 0.1, 43);
    EXPECT_EQ(a.val_windows(), 9);     // the last 100 tokens
    EXPECT_EQ(a.train_windows(), 89);  // windows of 11 starting every 10 in the first 900
    const int64_t n = a.train_windows();
    std::vector<int32_t> wa(size_t(3 * n * 11)), wb(wa.size()), wc(wa.size());
    a.train_batch(0, 3 * n, wa.data());
    for (int64_t i = 0; i < 3 * n; i += 7) b.train_batch(i, std::min<int64_t>(7, 3 * n - i), wb.data() + i * 11);
    c.train_batch(0, 3 * n, wc.data());
    EXPECT_EQ(wa, wb);  // a pure function of the index, however it is read
    EXPECT_NE(wa, wc);  // and of the seed
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
        std::set<int32_t> starts;
        for (int64_t w = 0; w < n; ++w) {
            const int32_t* window = wa.data() + (epoch * n + w) * 11;
            EXPECT_EQ(window[0] % 10, 0);
            EXPECT_EQ(window[10], window[0] + 10);
            EXPECT_LT(window[10], 900);  // never reads the held-out tail
            starts.insert(window[0]);
        }
        EXPECT_EQ(int64_t(starts.size()), n);
    }
    EXPECT_NE(std::vector<int32_t>(wa.begin(), wa.begin() + n * 11),
              std::vector<int32_t>(wa.begin() + n * 11, wa.begin() + 2 * n * 11));  // reshuffled each epoch
    std::vector<int32_t> val(11);
    a.val_window(8, val.data());
    EXPECT_EQ(val[0], 980);
    EXPECT_THROW(TokenWindows(tmp / "s.bin", 1000, 0.0, 1), Error);
}

TEST(LrSchedule, WarmupThenCosineWsdOrConstant)
{
    LrSchedule s{ScheduleKind::cosine, 1.0, 0.1, 10, 110, 0.2};
    EXPECT_DOUBLE_EQ(s.at(0), 0.1);
    EXPECT_DOUBLE_EQ(s.at(9), 1.0);
    EXPECT_DOUBLE_EQ(s.at(10), 1.0);
    EXPECT_NEAR(s.at(10 + 99 / 2.0), 0.55, 1e-2);
    EXPECT_DOUBLE_EQ(s.at(109), 0.1);
    s.kind = ScheduleKind::wsd;
    EXPECT_DOUBLE_EQ(s.at(60), 1.0);
    EXPECT_NEAR(s.at(109), 0.1, 1e-12);
    EXPECT_GT(s.at(100), 0.1);
    EXPECT_LT(s.at(100), 1.0);
    s.kind = ScheduleKind::constant;
    EXPECT_DOUBLE_EQ(s.at(109), 1.0);
    EXPECT_THROW(parse_schedule_kind("linear"), Error);
}

// A small DeepSeek-V3 model (MLA, MoE with a shared expert and selection bias, one MTP
// module) written in float32.
struct TinyModel {
    Checkpoint checkpoint;
    ModelConfig config;
};

TinyModel tiny_model(const testing::TempDir& tmp, ThreadPool& pool)
{
    Json c = read_json_file(testing::golden_dir("v3-tiny") + "/config.json");
    c.update({{"hidden_size", 64}, {"intermediate_size", 96}, {"num_hidden_layers", 2}, {"vocab_size", 64},
              {"q_lora_rank", 32}, {"kv_lora_rank", 16}, {"qk_nope_head_dim", 8}, {"qk_rope_head_dim", 8},
              {"v_head_dim", 8}, {"moe_intermediate_size", 16}, {"n_routed_experts", 8}, {"n_group", 2},
              {"topk_group", 1}, {"num_experts_per_tok", 2}, {"num_nextn_predict_layers", 1}, {"rope_scaling", nullptr}});
    write_random_checkpoint(c, tmp / "model", {.seed = 3, .dtype = DType::f32}, pool);
    TinyModel model{Checkpoint::open(tmp / "model"), {}};
    model.config = parse_model_config(model.checkpoint.config(), model.checkpoint.config_path());
    return model;
}

class Memorise : public ::testing::TestWithParam<GemmPrecision> {};

TEST_P(Memorise, AShortTextAndBalancesExperts)
{
    if (GetParam() == GemmPrecision::bf16 && !gemm_bf16_available()) GTEST_SKIP() << "this CPU has no AVX-512 BF16";
    testing::TempDir tmp;
    ThreadPool pool(2);
    const auto [checkpoint, config] = tiny_model(tmp, pool);
    std::vector<uint32_t> text;  // 33 tokens, no pattern a model could guess
    for (uint32_t i = 0; i < 33; ++i) text.push_back((i * 37 + 11) % 61 + 2);
    std::vector<uint32_t> data;
    for (int copy = 0; copy < 8; ++copy) data.insert(data.end(), text.begin(), text.end());
    write_file(tmp / "text.bin", uint32_bytes(data));
    TokenWindows windows(tmp / "text.bin", 32, 0.0, 1);

    TrainOptions options;
    options.batch = 4;
    options.seq_len = 32;
    options.schedule = {ScheduleKind::constant, 5e-3, 5e-3, 10, 150, 0};
    options.adamw.weight_decay = 0;
    options.bias_update_rate = 0.01;
    options.compute = GetParam();
    Trainer trainer(config, ParameterSet::load(config, checkpoint), options);
    const ParameterSet& params = trainer.params();
    const Parameter& bias = params.find("model.layers.1.mlp.gate.e_score_correction_bias");
    std::vector<float> bias_before(params.value(bias), params.value(bias) + bias.size);

    const StepReport first = trainer.step(0, windows, pool);
    // The balancing rule: every selection bias entry moved by exactly ±γ or not at all.
    for (int64_t e = 0; e < bias.size; ++e) {
        const float moved = params.value(bias)[e] - bias_before[size_t(e)];
        EXPECT_TRUE(moved == 0.0f || std::fabs(std::fabs(moved) - 0.01f) < 1e-6f) << moved;
    }
    ASSERT_EQ(first.load_max_over_mean.size(), 2u);  // layer 1 and the MTP module

    StepReport last;
    for (int64_t step = 1; step < 150; ++step) last = trainer.step(step, windows, pool);
    EXPECT_GT(first.losses.loss, 3.5);
    EXPECT_LT(last.losses.loss, 0.05) << "the model did not memorise the text";
    EXPECT_LT(last.losses.mtp_loss, first.losses.mtp_loss / 4);
}

INSTANTIATE_TEST_SUITE_P(Compute, Memorise, ::testing::Values(GemmPrecision::f32, GemmPrecision::bf16),
                         [](const auto& info) { return info.param == GemmPrecision::f32 ? "f32" : "bf16"; });

// What the balancing rule is for: a router skewed so that every token picks expert 0 (a
// selection bias of +0.3 on it) is evened out by the bias updates alone (learning rate 0,
// so the router's weights cannot help), and stays even.
TEST(Trainer, BalancingRuleEvensASkewedRouter)
{
    testing::TempDir tmp;
    ThreadPool pool(2);
    const auto [checkpoint, config] = tiny_model(tmp, pool);
    std::vector<uint32_t> data(4000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint32_t((i * 7919 + i / 7) % 61 + 2);
    write_file(tmp / "data.bin", uint32_bytes(data));
    TokenWindows windows(tmp / "data.bin", 32, 0.0, 5);

    TrainOptions options;
    options.batch = 4;
    options.seq_len = 32;
    options.schedule = {ScheduleKind::constant, 0.0, 0.0, 0, 100, 0};
    options.bias_update_rate = 0.01;
    ParameterSet params = ParameterSet::load(config, checkpoint);
    params.value(params.find("model.layers.1.mlp.gate.e_score_correction_bias"))[0] = 0.3f;
    Trainer trainer(config, std::move(params), options);

    // 8 experts, 2 per token: expert 0 taking every token would be 4 times the mean load;
    // the bias sends it most of them, and with learning rate 0 only the updates can change that.
    const StepReport first = trainer.step(0, windows, pool);
    EXPECT_GT(first.load_max_over_mean[0], 3.0);
    double worst_late = 0;
    for (int64_t step = 1; step < 100; ++step) {
        const StepReport r = trainer.step(step, windows, pool);
        if (step >= 60) worst_late = std::max(worst_late, r.load_max_over_mean[0]);
    }
    EXPECT_LT(worst_late, 2.0) << "the bias updates did not even out the experts' load";
}

// Two micro-batches of 2 sequences give the step one batch of 4 gives: the same windows,
// the same mean loss, the same gradient (up to float summation order).
TEST(Trainer, GradientAccumulationEqualsOneLargerBatch)
{
    testing::TempDir tmp;
    ThreadPool pool(2);
    const auto [checkpoint, config] = tiny_model(tmp, pool);
    std::vector<uint32_t> data(2000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint32_t((i * 7919) % 61 + 2);
    write_file(tmp / "data.bin", uint32_bytes(data));
    TokenWindows windows(tmp / "data.bin", 16, 0.0, 9);

    TrainOptions whole;
    whole.batch = 4;
    whole.seq_len = 16;
    whole.schedule = {ScheduleKind::constant, 1e-3, 1e-3, 0, 10, 0};
    TrainOptions split = whole;
    split.batch = 2;
    split.accumulation = 2;
    Trainer a(config, ParameterSet::load(config, checkpoint), whole), b(config, ParameterSet::load(config, checkpoint), split);
    for (int64_t step = 0; step < 3; ++step) {
        const StepReport ra = a.step(step, windows, pool), rb = b.step(step, windows, pool);
        EXPECT_NEAR(ra.losses.loss, rb.losses.loss, 1e-5 * ra.losses.loss) << step;
        EXPECT_NEAR(ra.losses.mtp_loss, rb.losses.mtp_loss, 1e-5 * ra.losses.mtp_loss) << step;
        EXPECT_NEAR(ra.grad_norm, rb.grad_norm, 1e-4 * ra.grad_norm) << step;
        EXPECT_EQ(ra.load_max_over_mean, rb.load_max_over_mean) << step;
    }
}

TEST(ModelFolder, ReloadsBitExactlyAndRunsInInference)
{
    testing::TempDir tmp;
    ThreadPool pool(2);
    const auto [checkpoint, config] = tiny_model(tmp, pool);
    ParameterSet params = ParameterSet::load(config, checkpoint);
    for (size_t i = 0; i < params.values().size(); ++i) params.values()[i] += 1e-3f * float(std::sin(double(i)));
    AdamW adamw(params, {});
    for (size_t i = 0; i < params.grads().size(); ++i) params.grads()[i] = float(std::cos(double(i)));
    adamw.step(params, 1e-3, pool);
    const TrainingState state{&adamw, {{"adam_steps", adamw.steps()}, {"step", 1}}};
    write_model_folder(tmp / "saved", checkpoint.config(), params, {}, &state);
    EXPECT_THROW(write_model_folder(tmp / "saved", checkpoint.config(), params, {}), Error);  // never overwritten

    const Checkpoint saved = Checkpoint::open(tmp / "saved");
    const ParameterSet reloaded = ParameterSet::load(config, saved);
    ASSERT_EQ(reloaded.values().size(), params.values().size());
    EXPECT_EQ(std::memcmp(reloaded.values().data(), params.values().data(), params.values().size() * 4), 0);
    AdamW restored(reloaded, {});
    EXPECT_EQ(read_training_state(tmp / "saved", reloaded, restored)["step"], 1);
    EXPECT_EQ(restored.steps(), 1);
    EXPECT_EQ(restored.first_moment(), adamw.first_moment());
    EXPECT_EQ(restored.second_moment(), adamw.second_moment());

    // The inference engine computes what the training forward computes.
    const std::vector<int32_t> tokens = {3, 14, 15, 9, 26, 5, 35};
    Transformer<float> model(config, reloaded, {});
    std::vector<float> want(tokens.size() * size_t(config.vocab_size));
    model.logits({reloaded.values().data(), nullptr}, tokens.data(), 1, int64_t(tokens.size()), want.data(), pool);
    auto inference = load_model(tmp / "saved");
    KvCache cache = inference->make_cache(1, int64_t(tokens.size()));
    std::vector<float> got(want.size());
    const SequenceChunk chunk{cache.slot(0), 0, tokens};
    inference->forward({&chunk, 1}, cache, LogitsFor::all_tokens, got.data(), pool);
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4) << i;
}

}  // namespace
}  // namespace mariana::train
