// Golden parity: Mariana's logits against DeepSeek's official reference (shared/golden)
// and against the project's own PyTorch oracle for the dense models (tests/oracle).
// Tolerance from shared/golden/model/NOTES.md §8: max |diff| <= 2e-4 and
// max |diff| / max |logit| <= 2e-5, on prefill and on prefill-then-decode.
#include "core/json.h"
#include "model/deepseek_model.h"
#include "test_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace mariana {
namespace {

struct GoldenCase {
    std::string dir;
};

std::vector<int32_t> read_tokens(const std::string& dir)
{
    const Json json = read_json_file(dir + "/tokens.json");
    return json.get<std::vector<int32_t>>();
}

// Prefill `prefill` tokens in one call, then one token per call through the cache.
std::vector<float> run_logits(Model& model, const std::vector<int32_t>& tokens, int64_t prefill, ThreadPool& pool)
{
    const int64_t T = int64_t(tokens.size()), V = model.config().vocab_size;
    KvCache cache = model.make_cache(1, T);
    std::vector<float> logits(static_cast<size_t>(T * V));
    int64_t done = 0;
    while (done < T) {
        const int64_t n = done == 0 ? prefill : 1;
        const SequenceChunk chunk{0, done, std::span<const int32_t>(tokens).subspan(size_t(done), size_t(n))};
        model.forward({&chunk, 1}, cache, LogitsFor::all_tokens, logits.data() + done * V, pool);
        done += n;
    }
    return logits;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what)
{
    ASSERT_EQ(got.size(), want.size()) << what;
    float max_diff = 0, max_logit = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        max_diff = std::max(max_diff, std::fabs(got[i] - want[i]));
        max_logit = std::max(max_logit, std::fabs(want[i]));
    }
    EXPECT_LE(max_diff, 2e-4f) << what;
    EXPECT_LE(max_diff / max_logit, 2e-5f) << what;
    std::printf("%-40s max |diff| %.3g (max |logit| %.3g)\n", what.c_str(), max_diff, max_logit);
}

class GoldenModel : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenModel, PrefillAndDecodeMatchReference)
{
    const std::string dir = GetParam();
    const auto tokens = read_tokens(dir);
    auto model = load_model(dir);
    ThreadPool pool(2);
    const int64_t T = int64_t(tokens.size());
    expect_close(run_logits(*model, tokens, T, pool), testing::read_f32(dir + "/logits.f32"), dir + " prefill");
    expect_close(run_logits(*model, tokens, T / 2, pool), testing::read_f32(dir + "/logits_decode.f32"), dir + " decode");
}

INSTANTIATE_TEST_SUITE_P(DeepSeek, GoldenModel,
                         ::testing::Values(testing::golden_dir("v3-tiny"), testing::golden_dir("v2-lite-tiny"),
                                           testing::golden_dir("v3-fp8-tiny")));
INSTANTIATE_TEST_SUITE_P(Dense, GoldenModel,
                         ::testing::Values(testing::data_dir("qwen2-tiny"), testing::data_dir("llama-tiny")));

// The expanded and the absorbed MLA forms must agree on every position, prefill and decode.
TEST(MlaForms, ExpandedEqualsAbsorbed)
{
    for (const char* name : {"v3-tiny", "v2-lite-tiny", "v3-fp8-tiny"}) {
        const std::string dir = testing::golden_dir(name);
        const auto tokens = read_tokens(dir);
        auto model = load_model(dir);
        auto& deepseek = dynamic_cast<DeepSeekModel&>(*model);
        ThreadPool pool(2);
        const int64_t T = int64_t(tokens.size());
        deepseek.set_mla_form(MlaForm::expanded);
        const auto expanded = run_logits(*model, tokens, T / 2, pool);
        deepseek.set_mla_form(MlaForm::absorbed);
        const auto absorbed = run_logits(*model, tokens, T / 2, pool);
        expect_close(absorbed, expanded, std::string(name) + " absorbed vs expanded");
        expect_close(absorbed, testing::read_f32(dir + "/logits_decode.f32"), std::string(name) + " absorbed everywhere");
    }
}

}  // namespace
}  // namespace mariana
