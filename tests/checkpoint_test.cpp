// Checkpoints Mariana writes (`mariana init`): the real HF layout, deterministic,
// shardable, and loadable by the same code that loads DeepSeek's files.
#include "core/error.h"
#include "formats/checkpoint.h"
#include "model/init.h"
#include "model/model.h"
#include "test_data.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mariana {
namespace {

namespace fs = std::filesystem;

using testing::file_bytes;
using testing::TempDir;

Json golden_config(const std::string& name) { return read_json_file(testing::golden_dir(name) + "/config.json"); }

std::vector<float> prefill_logits(const std::string& dir, const std::vector<int32_t>& tokens)
{
    auto model = load_model(dir);
    ThreadPool pool(2);
    KvCache cache = model->make_cache(1, int64_t(tokens.size()));
    std::vector<float> logits(tokens.size() * size_t(model->config().vocab_size));
    const SequenceChunk chunk{cache.slot(0), 0, tokens};
    model->forward({&chunk, 1}, cache, LogitsFor::all_tokens, logits.data(), pool);
    return logits;
}

TEST(Init, SameSeedSameBytesWhateverTheThreadCount)
{
    TempDir tmp;
    ThreadPool one(1), two(2);
    write_random_checkpoint(golden_config("v3-fp8-tiny"), tmp / "a", {.seed = 5, .dtype = DType::f8_e4m3}, one);
    write_random_checkpoint(golden_config("v3-fp8-tiny"), tmp / "b", {.seed = 5, .dtype = DType::f8_e4m3}, two);
    write_random_checkpoint(golden_config("v3-fp8-tiny"), tmp / "c", {.seed = 6, .dtype = DType::f8_e4m3}, two);
    EXPECT_EQ(file_bytes(tmp / "a/model.safetensors"), file_bytes(tmp / "b/model.safetensors"));
    EXPECT_NE(file_bytes(tmp / "a/model.safetensors"), file_bytes(tmp / "c/model.safetensors"));
}

TEST(Init, WritesEveryDeclaredTensorWithDeepSeekInitialisation)
{
    TempDir tmp;
    ThreadPool pool(2);
    Json config = golden_config("v3-tiny");
    config["initializer_range"] = 0.05;
    write_random_checkpoint(config, tmp / "m", {.seed = 1, .dtype = DType::bf16}, pool);
    const Checkpoint checkpoint = Checkpoint::open(tmp / "m");
    const ModelConfig c = parse_model_config(checkpoint.config(), "config");
    EXPECT_EQ(checkpoint.tensors().size(), declared_tensors(c).size());

    auto stats = [&](const std::string& name) {
        const TensorInfo& t = checkpoint.tensor(name);
        double sum = 0, sum_sq = 0;
        for (int64_t i = 0; i < t.numel(); ++i) {
            uint16_t h;
            std::memcpy(&h, t.data + 2 * i, 2);
            const double v = bf16_to_f32(h);
            sum += v;
            sum_sq += v * v;
        }
        const double mean = sum / double(t.numel());
        return std::pair{mean, std::sqrt(sum_sq / double(t.numel()) - mean * mean)};
    };
    const auto [mean, std] = stats("model.layers.1.mlp.experts.3.down_proj.weight");
    EXPECT_NEAR(mean, 0.0, 0.005);
    EXPECT_NEAR(std, 0.05, 0.003);
    const auto [norm_mean, norm_std] = stats("model.layers.0.input_layernorm.weight");
    EXPECT_EQ(norm_mean, 1.0);
    EXPECT_EQ(norm_std, 0.0);
    const TensorInfo& bias = checkpoint.tensor("model.layers.1.mlp.gate.e_score_correction_bias");
    EXPECT_EQ(bias.dtype, DType::f32);
}

TEST(Init, ShardedCheckpointLoadsToTheSameLogits)
{
    TempDir tmp;
    ThreadPool pool(2);
    const Json config = golden_config("v2-lite-tiny");
    write_random_checkpoint(config, tmp / "single", {.seed = 3, .dtype = DType::f32}, pool);
    write_random_checkpoint(config, tmp / "sharded", {.seed = 3, .dtype = DType::f32, .max_shard_bytes = 1 << 20}, pool);
    ASSERT_TRUE(fs::exists(tmp / "sharded/model.safetensors.index.json"));
    int shards = 0;
    for (const auto& entry : fs::directory_iterator(tmp / "sharded")) shards += entry.path().extension() == ".safetensors";
    EXPECT_GT(shards, 2) << "expected several shards";
    const std::vector<int32_t> tokens = {5, 17, 300, 999, 0, 42};
    EXPECT_EQ(prefill_logits(tmp / "single", tokens), prefill_logits(tmp / "sharded", tokens));
}

TEST(Init, Fp8WeightsAreTheFloat32DrawsQuantisedPerBlock)
{
    // Same seed, same draws: every FP8 code times its 128x128 block scale must be the
    // float32 checkpoint's value to within e4m3's half step (2^-4 relative), including in
    // the partial edge blocks, and the largest value of each block must hit ±448.
    TempDir tmp;
    ThreadPool pool(2);
    const Json config = golden_config("v3-fp8-tiny");
    write_random_checkpoint(config, tmp / "f32", {.seed = 9, .dtype = DType::f32}, pool);
    write_random_checkpoint(config, tmp / "fp8", {.seed = 9, .dtype = DType::f8_e4m3}, pool);
    const Checkpoint exact = Checkpoint::open(tmp / "f32"), quantised = Checkpoint::open(tmp / "fp8");
    for (const char* name : {"model.layers.0.self_attn.q_b_proj", "model.layers.1.mlp.experts.0.down_proj"}) {
        const TensorInfo& want = exact.tensor(std::string(name) + ".weight");
        const TensorInfo& codes = quantised.tensor(std::string(name) + ".weight");
        const TensorInfo& scales = quantised.tensor(std::string(name) + ".weight_scale_inv");
        ASSERT_EQ(codes.dtype, DType::f8_e4m3);
        const Weight w{DType::f8_e4m3, codes.shape[0], codes.shape[1], codes.data,
                       reinterpret_cast<const float*>(scales.data), scales.shape[1]};
        ASSERT_NE(w.rows % 128, 0) << "the case should have partial edge blocks";
        const float* f = reinterpret_cast<const float*>(want.data);
        int saturated = 0;
        for (int64_t r = 0; r < w.rows; ++r)
            for (int64_t c = 0; c < w.cols; ++c) {
                const float v = f[r * w.cols + c], q = w.at(r, c);
                const float scale = w.scale_row(r)[c / 128];
                ASSERT_LE(std::fabs(q - v), std::max(std::fabs(v) / 16.0f, scale * std::ldexp(1.0f, -10)) * 1.0001f)
                    << name << " [" << r << ", " << c << "]";
                saturated += std::fabs(std::fabs(q) / scale - 448.0f) < 1e-3f;
            }
        EXPECT_GE(saturated, int(scales.numel())) << name << ": each block reaches ±448";
    }
}

TEST(Init, RefusesToOverwriteAndLeavesNoPartialCheckpoint)
{
    TempDir tmp;
    ThreadPool pool(1);
    fs::create_directories(tmp / "busy");
    std::ofstream(tmp / "busy/keep.txt") << "precious";
    EXPECT_THROW(write_random_checkpoint(golden_config("v3-tiny"), tmp / "busy", {}, pool), Error);
    EXPECT_EQ(file_bytes(tmp / "busy/keep.txt"), "precious");

    Json bad = golden_config("v3-tiny");
    bad["hidden_size"] = "wide";
    try {
        write_random_checkpoint(bad, tmp / "bad", {}, pool);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("hidden_size"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(tmp / "bad"));
}

TEST(Safetensors, WriteThenParseRoundTrips)
{
    TempDir tmp;
    const std::string path = tmp / "t.safetensors";
    write_safetensors(path, {{"b", DType::bf16, {3, 5}}, {"a", DType::f8_e4m3, {7}}, {"c", DType::f32, {}}},
                      [](const TensorSpec& spec, std::span<std::byte> out) {
                          for (size_t i = 0; i < out.size(); ++i) out[i] = std::byte(spec.name[0] + i);
                      });
    const SafetensorsFile file = SafetensorsFile::open(path);
    ASSERT_EQ(file.tensors().size(), 3u);
    const std::string bytes = file_bytes(path);
    uint64_t header = 0;
    std::memcpy(&header, bytes.data(), 8);
    EXPECT_EQ(header % 8, 0u) << "header padded to a multiple of 8";
    for (const TensorInfo& t : file.tensors()) {
        EXPECT_EQ(int64_t(t.end - t.begin), t.numel() * dtype_size(t.dtype)) << t.name;
        EXPECT_EQ(char(t.data[0]), t.name[0]) << t.name;
    }
}

}  // namespace
}  // namespace mariana
