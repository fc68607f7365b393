// The generation runtime: sampling options, scoring, and the reasoning splitter that chat
// and the server use to set <think> text apart.
#include "core/error.h"
#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/reasoning_stream.h"
#include "runtime/sampler.h"
#include "runtime/scoring.h"
#include "test_data.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mariana {
namespace {

using Pieces = std::vector<ReasoningStream::Piece>;

// Feeds `text` cut at every pair of positions and merges adjacent pieces of the same kind;
// the result must not depend on where the chunks were cut.
Pieces split_every_way(std::string_view text, bool starts_in_reasoning, const Pieces& expected)
{
    for (size_t a = 0; a <= text.size(); ++a) {
        for (size_t b = a; b <= text.size(); ++b) {
            ReasoningStream stream(starts_in_reasoning);
            Pieces got;
            auto add = [&](const Pieces& pieces) {
                for (const auto& p : pieces) {
                    if (!got.empty() && got.back().reasoning == p.reasoning) got.back().text += p.text;
                    else got.push_back(p);
                }
            };
            add(stream.push(text.substr(0, a)));
            add(stream.push(text.substr(a, b - a)));
            add(stream.push(text.substr(b)));
            add(stream.finish());
            if (got != expected) return got;
        }
    }
    return expected;
}

TEST(ReasoningStream, SeparatesThinkingFromAnswerWhereverChunksAreCut)
{
    // R1: the prompt opened the block, the output only closes it.
    const Pieces r1 = {{true, "Let me add: 2+2=4.\n"}, {false, "\n\nThe answer is 4."}};
    EXPECT_EQ(split_every_way("Let me add: 2+2=4.\n</think>\n\nThe answer is 4.", true, r1), r1);
    // A model that opens the block itself, after blank text.
    const Pieces opened = {{false, "\n"}, {true, "hmm"}, {false, " yes"}};
    EXPECT_EQ(split_every_way("\n<think>hmm</think> yes", false, opened), opened);
    // Once the answer has begun, a "<think>" is text, and a half tag at the end is flushed.
    const Pieces literal = {{false, "Use <think> tags </thi"}};
    EXPECT_EQ(split_every_way("Use <think> tags </thi", false, literal), literal);
    // A reply cut off while thinking stays reasoning.
    const Pieces cut = {{true, "still thinking </thin"}};
    EXPECT_EQ(split_every_way("still thinking </thin", true, cut), cut);
}

TEST(ReasoningStream, KnowsWhenAPromptOpensReasoning)
{
    EXPECT_TRUE(prompt_opens_reasoning("<｜User｜>hi<｜Assistant｜><think>\n"));
    EXPECT_FALSE(prompt_opens_reasoning("<｜User｜>hi<｜Assistant｜>"));
    EXPECT_FALSE(prompt_opens_reasoning("<think>a</think>b<｜Assistant｜>"));
}

// The nucleus is found without sorting the vocabulary: against an explicit computation, the
// empirical frequencies of 40000 draws match the renormalised probabilities of exactly the
// tokens top-k, top-p and min-p keep, and a long flat tail is reached when the nucleus needs it.
TEST(Sampler, DrawsFromExactlyTheKeptTokens)
{
    const std::vector<float> logits = {2.0f, 0.5f, 1.0f, -1.0f, 1.0f, 3.0f, -4.0f};
    struct Case {
        SamplerOptions options;
        std::vector<int32_t> kept;  // sorted by probability, ties by id
    };
    // exp(logit / 0.8) ∝ 3: 42.5, 0: 12.2, 2: 3.49, 4: 3.49, 1: 1.87, 3: 0.29, 6: 0.007 (sum 63.9).
    const std::vector<Case> cases = {
        {{.temperature = 0.8f, .top_p = 0.9f}, {5, 0, 2}},               // 42.5 + 12.2 = 54.7 < 57.5
        {{.temperature = 0.8f, .top_k = 2}, {5, 0}},
        {{.temperature = 0.8f, .min_p = 0.05f}, {5, 0, 2, 4}},          // 2.1 is the floor
        {{.temperature = 0.8f}, {5, 0, 2, 4, 1, 3, 6}},
    };
    for (const Case& c : cases) {
        Sampler sampler([&] { SamplerOptions o = c.options; o.seed = 11; return o; }());
        std::vector<double> weight(logits.size(), 0.0), count(logits.size(), 0.0);
        double sum = 0;
        for (const int32_t id : c.kept) sum += weight[size_t(id)] = std::exp(logits[size_t(id)] / 0.8);
        const int draws = 40000;
        for (int i = 0; i < draws; ++i) count[size_t(sampler.sample(logits).token)] += 1;
        for (size_t id = 0; id < logits.size(); ++id) {
            const double want = weight[id] / sum, got = count[id] / draws;
            EXPECT_NEAR(got, want, 4 * std::sqrt(want * (1 - want) / draws) + 1e-9) << "token " << id;
        }
    }
    // One likely token and 5000 at 1e-5 of its weight (below the first floor searched):
    // top-p 0.99 needs 3950 of the tail, the lowest ids first.
    std::vector<float> tail(5001, std::log(1e-5f));
    tail[0] = 0.0f;
    Sampler nucleus({.temperature = 1.0f, .top_p = 0.99f, .seed = 3});
    int best = 0, beyond = 0;
    for (int i = 0; i < 4000; ++i) {
        const int32_t t = nucleus.sample(tail).token;
        best += t == 0;
        beyond += t > 3951;
    }
    EXPECT_NEAR(best / 4000.0, 1.0 / 1.0395, 0.012);
    EXPECT_EQ(beyond, 0);
}

TEST(Sampler, MinPAndRepetitionPenalty)
{
    const std::vector<float> logits = {2.0f, 1.9f, -1.0f, 0.5f};
    // min-p 0.5 at temperature 1 keeps ids 0 and 1 (e^-0.1 > 0.5), never 2 or 3.
    Sampler min_p({.temperature = 1.0f, .min_p = 0.5f, .seed = 7});
    for (int i = 0; i < 200; ++i) EXPECT_LT(min_p.sample(logits).token, 2);
    // Greedy with a penalty: id 0 (seen) drops to 2/1.3 < 1.9, so id 1 wins; a negative
    // logit is multiplied, so a seen id 2 only gets less likely.
    Sampler penalized({.repetition_penalty = 1.3f});
    const std::vector<int32_t> seen = {0, 2, 0};
    EXPECT_EQ(penalized.sample(logits, seen).token, 1);
    EXPECT_EQ(penalized.sample(logits).token, 0);
    EXPECT_THROW(Sampler({.min_p = 1.0f}), Error);
    EXPECT_THROW(Sampler({.repetition_penalty = 0.0f}), Error);
}

// Scoring runs long sequences in chunks through the cache (the later ones in MLA's absorbed
// form); the log-probabilities must match one prefill of the whole sequence, and scoring
// from a later token must give exactly the tail of the full result.
TEST(Scoring, ChunkedRunMatchesOnePrefill)
{
    ThreadPool pool(2);
    std::unique_ptr<Model> model = load_model(testing::golden_dir("v3-tiny"));
    const int64_t n = 600, vocab = model->config().vocab_size;
    std::vector<int32_t> tokens(n);
    for (int64_t i = 0; i < n; ++i) tokens[size_t(i)] = int32_t((i * 7919 + 13) % vocab);

    KvCache cache = model->make_cache(1, n);
    std::vector<float> logits(size_t(n * vocab));
    const SequenceChunk whole{cache.slot(0), 0, tokens};
    model->forward({&whole, 1}, cache, LogitsFor::all_tokens, logits.data(), pool);

    const std::vector<double> got = token_logprobs(*model, tokens, 1, pool);
    ASSERT_EQ(int64_t(got.size()), n - 1);
    for (int64_t i = 0; i + 1 < n; ++i)
        ASSERT_NEAR(got[size_t(i)], log_softmax_at(logits.data() + i * vocab, vocab, tokens[size_t(i + 1)]), 1e-4)
            << "token " << i + 1;

    const std::vector<double> tail = token_logprobs(*model, tokens, 300, pool);
    EXPECT_EQ(tail, std::vector<double>(got.begin() + 299, got.end()));
    EXPECT_THROW(token_logprobs(*model, tokens, n, pool), Error);
    EXPECT_THROW(token_logprobs(*model, std::vector<int32_t>(2000, 1), 1, pool), Error);  // context is 1024
}

}  // namespace
}  // namespace mariana
