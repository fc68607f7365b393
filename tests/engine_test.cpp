// The generation engine against independent oracles: greedy tokens against a forward over
// the whole text with no cache at each step, log-probabilities against log_softmax of those
// logits, and every sequence inside batches of others against the same sequence alone.
#include "core/error.h"
#include "model/decoder_model.h"
#include "runtime/engine.h"
#include "test_data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace mariana {
namespace {

std::vector<int32_t> prompt_of(int64_t length, int64_t salt, int64_t vocab)
{
    std::vector<int32_t> tokens(static_cast<size_t>(length));
    for (int64_t i = 0; i < length; ++i) tokens[size_t(i)] = int32_t(2 + (i * 7919 + salt * 104729) % (vocab - 2));
    return tokens;
}

// Runs every request to the end in one engine; returns the sequences in request order.
struct Request {
    std::vector<int32_t> prompt;
    GenerationParams params;
};
std::vector<Sequence> run_all(Engine& engine, const std::vector<Request>& requests, ThreadPool& pool)
{
    std::vector<SequenceId> ids;
    for (const Request& r : requests) ids.push_back(engine.add(r.prompt, r.params));
    for (int guard = 0; !engine.idle(); ++guard) {
        engine.step(pool);
        if (guard > 100000) ADD_FAILURE() << "the engine does not finish";
    }
    std::vector<Sequence> out;
    for (const SequenceId id : ids) out.push_back(engine.sequence(id));
    return out;
}

GenerationParams sampled(uint64_t seed, int64_t n)
{
    GenerationParams p;
    p.sampler = {.temperature = 0.9f, .top_p = 0.95f, .seed = seed};
    p.max_new_tokens = n;
    p.ignore_eos = true;
    return p;
}

const std::vector<std::string>& model_dirs()
{
    static const std::vector<std::string> dirs = {testing::data_dir("qwen2-tiny"), testing::golden_dir("v2-lite-tiny"),
                                                  testing::golden_dir("v3-tiny")};
    return dirs;
}

// Greedy decoding against a forward over prompt + completion so far at every step, with no
// cache reuse (a fresh one-slot cache each time): the same tokens, and log-probabilities
// log_softmax(logits) of those logits.
TEST(Engine, GreedyMatchesAFullForwardEveryStep)
{
    ThreadPool pool(2);
    for (const std::string& dir : model_dirs()) {
        auto model = load_model(dir);
        const int64_t V = model->config().vocab_size;
        Engine engine(*model, {.context = 256, .page_rows = 8, .prefill_chunk = 16});
        GenerationParams greedy;
        greedy.max_new_tokens = 12;
        greedy.ignore_eos = true;
        const Sequence got = run_all(engine, {{prompt_of(37, 1, V), greedy}}, pool)[0];
        ASSERT_EQ(got.completion.size(), 12u) << dir;
        EXPECT_EQ(got.finish, FinishReason::length);
        std::vector<int32_t> text = got.prompt;
        for (size_t i = 0; i < got.completion.size(); ++i) {
            KvCache cache = model->make_cache(1, int64_t(text.size()));
            std::vector<float> logits(static_cast<size_t>(V));
            const SequenceChunk all{cache.slot(0), 0, text};
            model->forward({&all, 1}, cache, LogitsFor::last_token, logits.data(), pool);
            const int32_t best = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
            ASSERT_EQ(got.completion[i], best) << dir << " token " << i;
            double sum = 0;
            for (float l : logits) sum += std::exp(double(l) - logits[size_t(best)]);
            EXPECT_NEAR(got.logprobs[i], -std::log(sum), 1e-4) << dir << " token " << i;
            text.push_back(best);
        }
    }
}

// Batch invariance: each sequence inside a batch of others (different lengths, prompts
// still being computed while others decode, a step budget that splits the work) samples
// the same tokens with bit-identical log-probabilities as alone. f32 and bf16 compute.
TEST(Engine, SequencesInABatchEqualThemselvesAlone)
{
    ThreadPool pool(2);
    for (const std::string& dir : model_dirs()) {
        auto model = load_model(dir);
        const int64_t V = model->config().vocab_size;
        std::vector<Request> requests;
        for (int64_t i = 0; i < 5; ++i) requests.push_back({prompt_of(9 + 23 * i, i, V), sampled(100 + uint64_t(i), 10 + 3 * i)});
        requests[2].params.top_logprobs = 3;
        for (GemmPrecision compute : {GemmPrecision::f32, GemmPrecision::bf16}) {
            if (compute == GemmPrecision::bf16 && !gemm_bf16_available()) continue;
            model->set_compute(compute);
            const EngineOptions options{.context = 256, .page_rows = 8, .step_tokens = 24, .prefill_chunk = 16};
            Engine together(*model, options);
            const std::vector<Sequence> batch = run_all(together, requests, pool);
            for (size_t i = 0; i < requests.size(); ++i) {
                Engine alone(*model, options);
                const Sequence one = run_all(alone, {requests[i]}, pool)[0];
                EXPECT_EQ(batch[i].completion, one.completion) << dir << " sequence " << i;
                EXPECT_EQ(batch[i].logprobs, one.logprobs) << dir << " sequence " << i;
                EXPECT_EQ(batch[i].top_logprobs, one.top_logprobs) << dir << " sequence " << i;
            }
            EXPECT_EQ(batch[2].top_logprobs.size(), batch[2].completion.size());
            EXPECT_GT(together.stats().steps, 0);
        }
    }
}

// With a bf16 cache (rows rounded when written) a sequence is still the same alone and in
// a batch, samples of one prompt included (their shared last page copied as bf16).
TEST(Engine, Bf16CacheKeepsBatchInvariance)
{
    ThreadPool pool(2);
    auto model = load_model(testing::golden_dir("v2-lite-tiny"));
    const int64_t V = model->config().vocab_size;
    const EngineOptions options{.context = 128, .page_rows = 8, .cache_dtype = DType::bf16, .step_tokens = 24,
                                .prefill_chunk = 16};
    const std::vector<Request> requests = {{prompt_of(37, 1, V), sampled(1, 9)},
                                           {prompt_of(37, 1, V), sampled(2, 9)},
                                           {prompt_of(50, 2, V), sampled(3, 9)}};
    Engine together(*model, options);
    const std::vector<Sequence> batch = run_all(together, requests, pool);
    EXPECT_EQ(together.stats().cached_prompt_tokens, 37);
    for (size_t i = 0; i < requests.size(); ++i) {
        Engine alone(*model, options);
        const Sequence one = run_all(alone, {requests[i]}, pool)[0];
        EXPECT_EQ(batch[i].completion, one.completion) << "sequence " << i;
        EXPECT_EQ(batch[i].logprobs, one.logprobs) << "sequence " << i;
    }
}

// Samples of one prompt compute it once and share its pages (the partly filled last page
// copied); each sample is what its seed gives alone.
TEST(Engine, SamplesOfOnePromptShareItsPages)
{
    ThreadPool pool(2);
    for (const std::string& dir : model_dirs()) {
        auto model = load_model(dir);
        const int64_t V = model->config().vocab_size, n = 45, samples = 4, new_tokens = 6;
        const EngineOptions options{.context = 128, .page_rows = 8, .prefill_chunk = 16};
        std::vector<Request> requests;
        for (int64_t k = 0; k < samples; ++k) {
            requests.push_back({prompt_of(n, 7, V), sampled(uint64_t(k), new_tokens)});
            requests.back().params.sampler.temperature = 3.0f;  // random tiny weights are sure of themselves
            requests.back().params.sampler.top_p = 1.0f;
        }
        Engine engine(*model, options);
        const std::vector<Sequence> got = run_all(engine, requests, pool);
        // The prompt once, then each sample's tokens after its first.
        EXPECT_EQ(engine.stats().forward_tokens, n + samples * (new_tokens - 1)) << dir;
        EXPECT_EQ(engine.stats().cached_prompt_tokens, (samples - 1) * n) << dir;
        for (int64_t k = 0; k < samples; ++k) {
            Engine alone(*model, options);
            const Sequence one = run_all(alone, {requests[size_t(k)]}, pool)[0];
            EXPECT_EQ(got[size_t(k)].completion, one.completion) << dir << " sample " << k;
            EXPECT_EQ(got[size_t(k)].logprobs, one.logprobs) << dir << " sample " << k;
        }
        EXPECT_NE(got[0].completion, got[1].completion) << "different seeds, same tokens";
    }
}

// Requests that begin alike and arrive together (a shared system prompt): the second waits
// while the first computes the common pages, then starts after them, and gets exactly what
// it gets when it arrives after the first has finished.
TEST(Engine, ACommonPrefixArrivingTogetherIsComputedOnce)
{
    ThreadPool pool(2);
    for (const std::string& dir : model_dirs()) {
        auto model = load_model(dir);
        const int64_t V = model->config().vocab_size;
        const EngineOptions options{.context = 256, .page_rows = 8, .step_tokens = 24, .prefill_chunk = 16};
        std::vector<Request> requests;
        for (int64_t i = 0; i < 3; ++i) {
            std::vector<int32_t> prompt = prompt_of(64, 9, V);
            const std::vector<int32_t> question = prompt_of(10, 20 + i, V);
            prompt.insert(prompt.end(), question.begin(), question.end());
            requests.push_back({prompt, sampled(uint64_t(i), 5)});
        }
        Engine together(*model, options);
        const std::vector<Sequence> got = run_all(together, requests, pool);
        EXPECT_EQ(got[1].cached_prompt_tokens, 64) << dir;
        EXPECT_EQ(got[2].cached_prompt_tokens, 64) << dir;
        EXPECT_EQ(together.stats().forward_tokens, 64 + 3 * 10 + 3 * 4) << dir;
        Engine one_after_another(*model, options);
        for (size_t i = 0; i < requests.size(); ++i) {
            const Sequence alone = run_all(one_after_another, {requests[i]}, pool)[0];
            EXPECT_EQ(got[i].completion, alone.completion) << dir << " sequence " << i;
            EXPECT_EQ(got[i].logprobs, alone.logprobs) << dir << " sequence " << i;
        }
    }
}

// The next turn of a conversation finds the pages of the last one in the prefix cache and
// computes only what follows them. Starting after cached pages cuts the prompt at other
// positions (and MLA reads the cached prefix in its absorbed form), so the logits may move
// in the last bits: greedy tokens stay equal, log-probabilities within 1e-4.
TEST(Engine, NextTurnComputesOnlyItsNewTokens)
{
    ThreadPool pool(2);
    for (const std::string& dir : model_dirs()) {
        auto model = load_model(dir);
        const int64_t V = model->config().vocab_size, P = 8;
        const EngineOptions options{.context = 256, .page_rows = P, .prefill_chunk = 16};
        GenerationParams greedy;
        greedy.max_new_tokens = 9;
        greedy.ignore_eos = true;
        Engine engine(*model, options);
        const Sequence first = run_all(engine, {{prompt_of(30, 3, V), greedy}}, pool)[0];
        std::vector<int32_t> turn = first.prompt;
        turn.insert(turn.end(), first.completion.begin(), first.completion.end());
        const std::vector<int32_t> more = prompt_of(11, 4, V);
        turn.insert(turn.end(), more.begin(), more.end());
        const int64_t before = engine.stats().forward_tokens;
        const Sequence second = run_all(engine, {{turn, greedy}}, pool)[0];
        // The first turn's full pages: its prompt and completion but the last token, whose
        // row was never computed.
        const int64_t cached = (int64_t(first.prompt.size() + first.completion.size()) - 1) / P * P;
        EXPECT_EQ(second.cached_prompt_tokens, cached) << dir;
        EXPECT_EQ(engine.stats().forward_tokens - before, int64_t(turn.size()) - cached + 8) << dir;

        // A conversation whose earlier turn changed finds only the pages before the change.
        std::vector<int32_t> edited = turn;
        edited[size_t(P + 3)] ^= 1;
        EXPECT_EQ(run_all(engine, {{edited, greedy}}, pool)[0].cached_prompt_tokens, P) << dir;

        Engine fresh(*model, options);
        const Sequence reference = run_all(fresh, {{turn, greedy}}, pool)[0];
        EXPECT_EQ(reference.cached_prompt_tokens, 0);
        EXPECT_EQ(second.completion, reference.completion) << dir;
        for (size_t i = 0; i < second.logprobs.size(); ++i)
            EXPECT_NEAR(second.logprobs[i], reference.logprobs[i], 1e-4) << dir << " token " << i;
    }
}

// A pool that cannot hold every running sequence: the newest are preempted and computed
// again later, every sequence finishes, and greedy tokens are those of each alone.
TEST(Engine, AFullPoolPreemptsAndRecomputes)
{
    ThreadPool pool(2);
    auto model = load_model(testing::golden_dir("v2-lite-tiny"));
    const int64_t V = model->config().vocab_size;
    const EngineOptions small{.context = 64, .cache_pages = 12, .page_rows = 8, .prefill_chunk = 16};
    std::vector<Request> requests;
    for (int64_t i = 0; i < 4; ++i) {
        GenerationParams greedy;
        greedy.max_new_tokens = 30;
        greedy.ignore_eos = true;
        requests.push_back({prompt_of(10 + i, i, V), greedy});
    }
    Engine engine(*model, small);
    const std::vector<Sequence> got = run_all(engine, requests, pool);
    EXPECT_GT(engine.stats().preemptions, 0);
    for (size_t i = 0; i < requests.size(); ++i) {
        Engine alone(*model, small);
        const Sequence one = run_all(alone, {requests[i]}, pool)[0];
        EXPECT_EQ(got[i].completion, one.completion) << "sequence " << i;
        EXPECT_EQ(got[i].finish, FinishReason::length);
    }
    EXPECT_EQ(engine.pages().available(), 12);
}

// Chunked prefill: a long prompt arriving while another sequence decodes is computed a
// chunk per step, and the decoding sequence gets its token in every one of those steps.
TEST(Engine, ALongPromptNeverStallsDecoding)
{
    ThreadPool pool(2);
    auto model = load_model(testing::golden_dir("v2-lite-tiny"));
    const int64_t V = model->config().vocab_size;
    Engine engine(*model, {.context = 512, .page_rows = 8, .step_tokens = 32, .prefill_chunk = 32});
    const SequenceId decoding = engine.add(prompt_of(5, 1, V), sampled(1, 40));
    engine.step(pool);
    ASSERT_EQ(engine.sequence(decoding).completion.size(), 1u);
    const SequenceId long_prompt = engine.add(prompt_of(300, 2, V), sampled(2, 2));
    int64_t steps = 0;
    while (engine.sequence(long_prompt).completion.empty()) {
        const int64_t before = engine.stats().forward_tokens;
        const std::vector<SequenceId> touched = engine.step(pool);
        ++steps;
        EXPECT_NE(std::find(touched.begin(), touched.end(), decoding), touched.end()) << "step " << steps;
        EXPECT_LE(engine.stats().forward_tokens - before, 1 + 32) << "step " << steps;
    }
    EXPECT_EQ(steps, (300 + 31) / 32);
    EXPECT_EQ(engine.sequence(decoding).completion.size(), size_t(1 + steps));
}

TEST(Engine, CancelReturnsPagesAtOnce)
{
    ThreadPool pool(2);
    auto model = load_model(testing::data_dir("qwen2-tiny"));
    Engine engine(*model, {.context = 64, .cache_pages = 16, .page_rows = 8});
    const SequenceId a = engine.add(prompt_of(20, 1, 512), sampled(1, 40));
    const SequenceId b = engine.add(prompt_of(20, 2, 512), sampled(2, 40));
    engine.step(pool);
    engine.step(pool);
    EXPECT_LT(engine.pages().available(), 16);
    engine.cancel(a);
    engine.cancel(b);
    EXPECT_EQ(engine.sequence(a).finish, FinishReason::cancelled);
    EXPECT_TRUE(engine.idle());
    EXPECT_EQ(engine.pages().available(), 16);
    EXPECT_EQ(engine.sequence(b).completion.size(), 2u);
}

// Stop strings end a sequence and are cut from its text; stop tokens end it and stay in
// its tokens; the budget of new tokens ends it with "length".
TEST(Engine, StopsAtStringsTokensAndLength)
{
    ThreadPool pool(2);
    auto model = load_model(testing::data_dir("qwen2-tiny"));
    std::vector<std::string> names(512);
    for (size_t i = 0; i < names.size(); ++i) names[i] = "<" + std::to_string(i) + ">";
    const EngineOptions options{.context = 128, .token_text = [&](int32_t id) -> const std::string& { return names[size_t(id)]; }};
    GenerationParams greedy;
    greedy.max_new_tokens = 10;
    greedy.ignore_eos = true;
    Engine engine(*model, options);
    const Sequence free = run_all(engine, {{prompt_of(12, 5, 512), greedy}}, pool)[0];
    ASSERT_EQ(free.completion.size(), 10u);
    EXPECT_EQ(free.finish, FinishReason::length);

    GenerationParams by_string = greedy;
    // Spans the third token's text and the fourth's: "N>" of the third, "<M" of the fourth.
    const std::string third = names[size_t(free.completion[2])], fourth = names[size_t(free.completion[3])];
    const std::string stop = third.substr(1) + fourth.substr(0, 2);
    by_string.stop_strings = {"never matches", stop};
    const Sequence s = run_all(engine, {{prompt_of(12, 5, 512), by_string}}, pool)[0];
    EXPECT_EQ(s.finish, FinishReason::stop);
    // The first match (the model may repeat itself): the tokens up to the one completing it.
    std::string text;
    size_t tokens = 0;
    while (text.find(stop) == std::string::npos) text += names[size_t(free.completion[tokens++])];
    EXPECT_EQ(s.completion.size(), tokens);
    EXPECT_EQ(s.text, text.substr(0, text.find(stop)));
    EXPECT_EQ(free.text.substr(0, s.text.size()), s.text);

    GenerationParams by_token = greedy;
    by_token.stop_tokens = {free.completion[5]};
    const Sequence t = run_all(engine, {{prompt_of(12, 5, 512), by_token}}, pool)[0];
    EXPECT_EQ(t.finish, FinishReason::stop);
    const size_t first = size_t(std::find(free.completion.begin(), free.completion.end(), free.completion[5]) -
                                free.completion.begin());
    EXPECT_EQ(t.completion.size(), first + 1);
}

TEST(Engine, RefusesImpossibleRequests)
{
    auto model = load_model(testing::data_dir("qwen2-tiny"));
    Engine engine(*model, {.context = 64, .cache_pages = 4, .page_rows = 8});
    GenerationParams ok;
    ok.max_new_tokens = 8;
    EXPECT_THROW(engine.add({}, ok), Error);                        // empty prompt
    EXPECT_THROW(engine.add(prompt_of(64, 0, 512), ok), Error);     // no room in the context
    EXPECT_THROW(engine.add({5, 512}, ok), Error);                  // token outside the vocabulary
    GenerationParams long_run;                                      // 64 tokens: 8 pages, the pool has 4
    EXPECT_THROW(engine.add(prompt_of(4, 0, 512), long_run), Error);
    GenerationParams bad = ok;
    bad.sampler.temperature = -1;
    EXPECT_THROW(engine.add({5, 6}, bad), Error);
    bad = ok;
    bad.sampler.top_p = 1.5f;
    EXPECT_THROW(engine.add({5, 6}, bad), Error);
    bad = ok;
    bad.max_new_tokens = 0;
    EXPECT_THROW(engine.add({5, 6}, bad), Error);
    bad = ok;
    bad.stop_strings = {"x"};  // no tokenizer given
    EXPECT_THROW(engine.add({5, 6}, bad), Error);
    EXPECT_TRUE(engine.idle());
    EXPECT_THROW(Engine(*model, {.page_rows = 0}), Error);
}

}  // namespace
}  // namespace mariana
