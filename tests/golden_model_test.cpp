// Golden parity: Mariana's logits against DeepSeek's official reference (shared/golden)
// and against the project's own PyTorch oracle for the dense models (tests/oracle).
// Tolerance from shared/golden/model/NOTES.md §8: max |diff| <= 2e-4 and
// max |diff| / max |logit| <= 2e-5, on prefill and on prefill-then-decode.
#include "core/json.h"
#include "model/decoder_model.h"
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
        const SequenceChunk chunk{cache.slot(0), done, std::span<const int32_t>(tokens).subspan(size_t(done), size_t(n))};
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

// Several sequences at different positions in one forward call give each sequence the
// logits it gets alone. Three sequences share a cache of three slots: after their prefixes
// are prefilled (in one call too), one call runs A's next token (decode, its prefix 15
// tokens), B's next 4 tokens after a prefix of 5 (a chunk attending to a cache), and C's
// first 70 tokens (a prefill from position 0, the golden tokens reversed and repeated:
// the batch has more rows than any product of A or B alone). Alone, each runs the same
// chunks in a cache of its own. Projections and experts handle each row on its own and attention each
// sequence on its own, so the logits must be the same bits, in float32 and in bf16 compute
// (whose products read weights packed once, one order per row whatever the batch); A's are
// also the reference's.
TEST_P(GoldenModel, BatchOfSequencesEqualsEachAlone)
{
    const std::string dir = GetParam();
    const auto golden = read_tokens(dir);
    auto model = load_model(dir);
    ThreadPool pool(2);
    std::vector<GemmPrecision> computes{GemmPrecision::f32};
    if (gemm_bf16_available()) computes.push_back(GemmPrecision::bf16);
    for (const GemmPrecision compute : computes) {
    model->set_compute(compute);
    const std::string what = dir + (compute == GemmPrecision::bf16 ? " (bf16)" : " (f32)");
    const int64_t V = model->config().vocab_size;
    struct Sequence {
        std::vector<int32_t> tokens;
        int64_t prefix;  // tokens cached before the batched call; the rest run in it
    };
    std::vector<int32_t> b(golden.begin(), golden.begin() + 9), c;
    std::reverse(b.begin(), b.end() - 4);
    while (c.size() < 70) c.insert(c.end(), golden.rbegin(), golden.rend());
    c.resize(70);
    const std::vector<Sequence> sequences = {{golden, int64_t(golden.size()) - 1}, {b, 5}, {c, 0}};

    // Alone: prefix, then the chunk, each sequence in its own cache.
    std::vector<std::vector<float>> alone;
    for (const Sequence& s : sequences) {
        const int64_t n = int64_t(s.tokens.size());
        KvCache cache = model->make_cache(1, n);
        std::vector<float> logits(size_t(n * V));
        if (s.prefix > 0) {
            const SequenceChunk prefix{cache.slot(0), 0, std::span(s.tokens).first(size_t(s.prefix))};
            model->forward({&prefix, 1}, cache, LogitsFor::all_tokens, logits.data(), pool);
        }
        const SequenceChunk rest{cache.slot(0), s.prefix, std::span(s.tokens).subspan(size_t(s.prefix))};
        model->forward({&rest, 1}, cache, LogitsFor::all_tokens, logits.data() + s.prefix * V, pool);
        alone.emplace_back(logits.begin() + s.prefix * V, logits.end());
    }

    // Together: the prefixes in one call, then the three chunks in one call.
    const int64_t capacity = int64_t(std::max(golden.size(), c.size()));
    KvCache cache = model->make_cache(3, capacity);
    std::vector<SequenceChunk> prefixes, chunks;
    int64_t prefix_tokens = 0, chunk_tokens = 0;
    for (size_t i = 0; i < sequences.size(); ++i) {
        const Sequence& s = sequences[i];
        if (s.prefix > 0) prefixes.push_back({cache.slot(int64_t(i)), 0, std::span(s.tokens).first(size_t(s.prefix))});
        chunks.push_back({cache.slot(int64_t(i)), s.prefix, std::span(s.tokens).subspan(size_t(s.prefix))});
        prefix_tokens += s.prefix;
        chunk_tokens += int64_t(s.tokens.size()) - s.prefix;
    }
    std::vector<float> scratch(size_t(prefix_tokens * V)), together(size_t(chunk_tokens * V));
    model->forward(prefixes, cache, LogitsFor::all_tokens, scratch.data(), pool);
    model->forward(chunks, cache, LogitsFor::all_tokens, together.data(), pool);
    size_t offset = 0;
    for (size_t i = 0; i < sequences.size(); ++i) {
        const std::vector<float> got(together.begin() + std::ptrdiff_t(offset),
                                     together.begin() + std::ptrdiff_t(offset + alone[i].size()));
        EXPECT_EQ(got, alone[i]) << what << ": sequence " << i << " in the batch differs from alone";
        offset += alone[i].size();
    }
    // The last-token form returns each chunk's last row.
    std::vector<float> last(sequences.size() * size_t(V));
    KvCache again = model->make_cache(3, capacity);
    model->forward(prefixes, again, LogitsFor::last_token, scratch.data(), pool);
    model->forward(chunks, again, LogitsFor::last_token, last.data(), pool);
    for (size_t i = 0; i < sequences.size(); ++i)
        EXPECT_TRUE(std::equal(last.begin() + std::ptrdiff_t(i * size_t(V)), last.begin() + std::ptrdiff_t((i + 1) * size_t(V)),
                               alone[i].end() - V))
            << what << ": last-token logits of sequence " << i;
    // A's one decoded row is the reference's last row.
    const std::vector<float> reference = testing::read_f32(dir + "/logits.f32");
    if (compute == GemmPrecision::f32)
        expect_close(alone[0], std::vector<float>(reference.end() - V, reference.end()), dir + " batched decode row");
    }
}

// 76 tokens through `cache` under the page table `pages`: a 40-token chunk, a 30-token
// continuation (blocked attention over rows gathered from pages), then 6 decoded tokens
// (rows read in place, page by page); the logits of every position.
std::vector<float> logits_through(Model& model, KvCache& cache, std::span<const int32_t> pages, ThreadPool& pool)
{
    const int64_t V = model.config().vocab_size, n = 76, prompt = 70;
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 7919 + 5) % size_t(V));
    std::vector<float> logits(size_t(n * V));
    for (int64_t done = 0; done < n;) {
        const int64_t count = done == 0 ? 40 : done < prompt ? prompt - done : 1;
        const SequenceChunk chunk{pages, done, std::span(tokens).subspan(size_t(done), size_t(count))};
        model.forward({&chunk, 1}, cache, LogitsFor::all_tokens, logits.data() + done * V, pool);
        done += count;
    }
    return logits;
}

// 19 pages of 4 positions out of 24, handed out in scrambled order.
std::vector<int32_t> scrambled_pages()
{
    std::vector<int32_t> pages(19);
    for (size_t i = 0; i < pages.size(); ++i) pages[i] = int32_t((i * 7 + 3) % 24);
    return pages;
}

// A paged cache gives the bits of one contiguous slot, in f32 and bf16 compute.
TEST_P(GoldenModel, PagedCacheEqualsOneSlot)
{
    const std::string dir = GetParam();
    auto model = load_model(dir);
    ThreadPool pool(2);
    for (GemmPrecision compute : {GemmPrecision::f32, GemmPrecision::bf16}) {
        if (compute == GemmPrecision::bf16 && !gemm_bf16_available()) continue;
        model->set_compute(compute);
        KvCache slot = model->make_cache(1, 76);
        KvCache paged = model->make_cache_pages(24, 4);
        EXPECT_EQ(logits_through(*model, paged, scrambled_pages(), pool), logits_through(*model, slot, slot.slot(0), pool))
            << dir << (compute == GemmPrecision::bf16 ? " bf16" : " f32");
    }
}

// A bf16 KV cache rounds every cached row to 8 significant bits. Against a float32 cache
// (f32 compute), per token, the largest logit change: its median stays under 0.5% of the
// largest logit (measured 0.07-0.18%), and in the dense models (no router) its maximum
// under 1% (measured 0.12-0.22%). In MoE models a token whose router sits near a tie may
// pick other experts and move far more (v3-fp8-tiny: one token, 35%), as with bf16
// products. It is not zero: the rows really were rounded.
TEST_P(GoldenModel, Bf16CacheStaysWithinItsBound)
{
    const std::string dir = GetParam();
    auto model = load_model(dir);
    ThreadPool pool(2);
    const int64_t V = model->config().vocab_size, n = 76;
    KvCache f32_cache = model->make_cache_pages(24, 4, DType::f32), bf16_cache = model->make_cache_pages(24, 4, DType::bf16);
    const std::vector<float> f32 = logits_through(*model, f32_cache, scrambled_pages(), pool);
    const std::vector<float> bf16 = logits_through(*model, bf16_cache, scrambled_pages(), pool);
    float max_logit = 0;
    for (const float x : f32) max_logit = std::max(max_logit, std::fabs(x));
    std::vector<float> per_token(size_t(n), 0.0f);
    for (size_t i = 0; i < f32.size(); ++i)
        per_token[i / size_t(V)] = std::max(per_token[i / size_t(V)], std::fabs(bf16[i] - f32[i]));
    const float max_diff = *std::max_element(per_token.begin(), per_token.end());
    std::nth_element(per_token.begin(), per_token.begin() + n / 2, per_token.end());
    std::printf("%-40s bf16 cache vs f32: per token, median %.3g, max %.3g of max |logit| %.3g\n", dir.c_str(),
                per_token[size_t(n / 2)] / max_logit, max_diff / max_logit, max_logit);
    EXPECT_GT(max_diff, 0.0f);
    EXPECT_LT(per_token[size_t(n / 2)], 0.005f * max_logit);
    if (model->config().n_routed_experts == 0) EXPECT_LT(max_diff, 0.01f * max_logit);
}

// bf16 compute (every projection with an F32 or BF16 weight in bf16 products) against float32, on
// a 96-token prefill and one decoded token of every case. Per token, the largest change of a
// logit: its median over the tokens stays under 1% of the largest logit (measured 0.09-0.36%),
// and in the dense models (no router) so does its maximum. In MoE models a token whose router
// sits near a tie may pick other experts under the rounding and move far more (seen with
// bf16 projections alone: 5 of v3-tiny's 97 tokens, up to 29%), so the maximum is not bounded
// there. (With bf16 attention too, the largest is 0.63% on these tokens.) The logits must move at all
// where the weights are BF16 or F32 (the bf16 path really ran); F16 weights (llama-tiny)
// stay on the float32 path.
TEST_P(GoldenModel, Bf16ComputeStaysWithinItsBound)
{
    if (!gemm_bf16_available()) GTEST_SKIP() << "this CPU has no AVX-512 BF16";
    const std::string dir = GetParam();
    auto model = load_model(dir);
    ThreadPool pool(2);
    const int64_t V = model->config().vocab_size, n = 96;
    std::vector<int32_t> tokens(size_t(n) + 1);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 7919 + 17) % size_t(V));
    const auto run = [&](GemmPrecision compute) {
        model->set_compute(compute);
        KvCache cache = model->make_cache(1, n + 1);
        std::vector<float> logits(size_t((n + 1) * V));
        const SequenceChunk prompt{cache.slot(0), 0, std::span(tokens).first(size_t(n))}, next{cache.slot(0), n, std::span(tokens).last(1)};
        model->forward({&prompt, 1}, cache, LogitsFor::all_tokens, logits.data(), pool);
        model->forward({&next, 1}, cache, LogitsFor::all_tokens, logits.data() + n * V, pool);
        return logits;
    };
    const std::vector<float> f32 = run(GemmPrecision::f32), bf16 = run(GemmPrecision::bf16);
    const float max_logit = std::fabs(*std::max_element(f32.begin(), f32.end(), [](float x, float y) {
        return std::fabs(x) < std::fabs(y);
    }));
    std::vector<float> per_token(size_t(n + 1), 0.0f);
    for (size_t i = 0; i < f32.size(); ++i)
        per_token[i / size_t(V)] = std::max(per_token[i / size_t(V)], std::fabs(bf16[i] - f32[i]));
    const float max_diff = *std::max_element(per_token.begin(), per_token.end());
    std::nth_element(per_token.begin(), per_token.begin() + n / 2, per_token.end());
    const float median = per_token[size_t(n / 2)];
    std::printf("%-40s bf16 vs f32: per token, median %.3g, max %.3g of max |logit| %.3g\n", dir.c_str(),
                median / max_logit, max_diff / max_logit, max_logit);
    EXPECT_LT(median, 0.01f * max_logit);
    if (!model->config().is_mla()) {
        EXPECT_LT(max_diff, 0.02f * max_logit);  // Qwen2, Llama: dense
    }
    if (model->projection_dtype() == DType::bf16 || model->projection_dtype() == DType::f32) {
        EXPECT_GT(max_diff, 0.0f) << "the bf16 path did not run";
    }
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
        auto& deepseek = dynamic_cast<DecoderModel&>(*model);
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
