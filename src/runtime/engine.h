// The generation engine: many sequences decoded together, each step one forward call over
// the next token of every running sequence plus chunks of prompts, on one paged KV cache
// (nano-vllm's shape: schedule → run the model → sample). Every generating command runs on
// it (run, chat, batch; the server and the RL rollouts to come); one sequence is a batch of
// one. Any Model works, loaded from a checkpoint or built on parameters in memory.
//
// Scheduling. Running sequences decode one token each per step. Prompts are computed in
// chunks that end at multiples of prefill_chunk positions, within step_tokens tokens per
// step (at least one chunk), so a long prompt never stalls the sequences already decoding.
// A prompt's pages are all taken when it is admitted: a sequence waits while the pool
// cannot hold its prompt, and when decoding sequences outgrow the pool the most recently
// admitted one is preempted (its pages released, its prompt and completion computed again
// later), so a full pool never fails a request.
//
// Sharing. Full pages are published in the PagePool's prefix cache as they are computed;
// a new sequence starts after the longest run of cached pages its prompt begins with (the
// next turn of a chat computes only its new tokens), and waits while its next page is
// being computed by a running sequence (a system prompt shared by requests that arrive
// together is computed once). Sequences added with the same prompt
// as one whose prompt is still being computed (the samples of one prompt, a GRPO group)
// wait for it, then share its pages (the partly filled last page copied) and sample from
// its logits: the prompt is computed once for the group.
//
// Batch invariance. A sequence's logits do not depend on the other sequences of its steps:
// every product gives a row the same bits in any batch (model.h), each sequence has its own
// random generator, and the chunks of a prompt are cut at the same positions whatever else
// runs. What can change the last bits is computing a prefix differently: starting after
// cached pages, or again after a preemption, cuts the prompt at other positions (and MLA
// attends over a cached prefix in its absorbed form); tests/engine_test.cpp bounds it.
#pragma once

#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/page_pool.h"
#include "runtime/sampler.h"

#include <deque>
#include <functional>
#include <map>
#include <unordered_map>
#include <string>
#include <vector>

namespace mariana {

struct GenerationParams {
    SamplerOptions sampler;
    int64_t max_new_tokens = -1;        // -1: up to the end of the context
    bool ignore_eos = false;            // keep going after config.json's eos_token_id
    std::vector<int32_t> stop_tokens;   // more ids that end generation (kept in the completion)
    std::vector<std::string> stop_strings;  // end generation; cut from the text
    int64_t top_logprobs = 0;           // alternatives kept per sampled token (0-20)
};

enum class FinishReason { none, stop, length, cancelled };
const char* finish_reason_name(FinishReason reason);

using SequenceId = int64_t;

// What a caller reads of a sequence.
struct Sequence {
    std::vector<int32_t> prompt;
    std::vector<int32_t> completion;
    std::vector<float> logprobs;                          // of each completion token
    std::vector<std::vector<TokenLogprob>> top_logprobs;  // per token, when asked for
    std::string text;  // the completion's bytes (with a token_text), cut before a stop string
    FinishReason finish = FinishReason::none;
    int64_t cached_prompt_tokens = 0;  // prompt tokens found computed (prefix cache or group)
    bool finished() const { return finish != FinishReason::none; }
};

struct EngineOptions {
    int64_t context = 0;         // most tokens of one sequence; 0: max_position_embeddings
    int64_t cache_pages = 0;     // pages in the pool; 0: enough for one full context
    int64_t page_rows = 32;
    DType cache_dtype = DType::f32;  // bf16: half the memory per token, rows rounded
    int64_t max_sequences = 64;  // running at once
    int64_t step_tokens = 256;   // prompt tokens per step (beyond one chunk)
    int64_t prefill_chunk = 128;
    // The bytes of a token (Tokenizer::token_bytes), for Sequence::text and stop strings;
    // without it text stays empty and stop strings are refused.
    std::function<const std::string&(int32_t)> token_text = nullptr;
};

struct EngineStats {
    int64_t steps = 0, forward_tokens = 0, sampled_tokens = 0;
    int64_t prompt_tokens = 0, cached_prompt_tokens = 0;  // of admitted prompts
    int64_t preemptions = 0;
};

class Engine {
public:
    // Throws Error for options the model or the pool cannot satisfy.
    Engine(Model& model, EngineOptions options);

    // Queues a sequence. Throws Error naming the problem for an empty prompt, one that
    // leaves no room in the context or does not fit the pool, or impossible parameters.
    SequenceId add(std::vector<int32_t> prompt, GenerationParams params);
    // Finishes a sequence now (reason cancelled) and releases its pages. No-op if finished.
    void cancel(SequenceId id);
    // Runs one step; returns the sequences that got a token or finished in it. Nothing to
    // do: returns an empty list.
    const std::vector<SequenceId>& step(ThreadPool& pool);
    bool idle() const { return waiting_.empty() && running_.empty(); }

    const Sequence& sequence(SequenceId id) const;
    // Forgets a finished sequence.
    void erase(SequenceId id);

    const EngineStats& stats() const { return stats_; }
    const PagePool& pages() const { return pool_; }
    int64_t context() const { return options_.context; }
    const Model& model() const { return model_; }

private:
    enum class State { waiting, running, finished };
    struct Entry {
        Entry(GenerationParams p, Sampler s) : params(std::move(p)), sampler(std::move(s)) {}
        Sequence seq;
        GenerationParams params;
        Sampler sampler;
        State state = State::waiting;
        std::vector<int32_t> tokens;  // prompt + completion: what the cache rows stand for
        std::vector<int32_t> pages;
        std::vector<uint64_t> keys;   // prefix-cache keys of the full pages computed
        int64_t computed = 0;         // tokens whose rows are in the cache
        int64_t admitted = 0;         // admission order (the newest is preempted first)
        SequenceId twin_of = -1;      // waits for this sequence's identical prompt
        std::vector<uint64_t> computing;  // keys of full pages it will compute (in computing_)
    };

    Entry& entry(SequenceId id);
    int64_t chunk_end(const Entry& e) const;
    bool prefilling(const Entry& e) const { return e.computed < int64_t(e.tokens.size()) - 1; }
    enum class Admission { admitted, no_room, wait };
    Admission admit(SequenceId id, Entry& e);
    bool reserve_pages(Entry& e, int64_t end);
    void preempt(SequenceId id, Entry& e);
    void release_pages(Entry& e);
    void publish_pages(Entry& e);
    void fork_twins(SequenceId id, Entry& e, std::span<const float> logits);
    void accept(SequenceId id, Entry& e, std::span<const float> logits);
    void finish(SequenceId id, Entry& e, FinishReason reason);

    Model& model_;
    EngineOptions options_;
    KvCache cache_;
    PagePool pool_;
    std::map<SequenceId, Entry> entries_;
    std::unordered_map<uint64_t, SequenceId> computing_;  // page key -> the sequence computing it
    std::deque<SequenceId> waiting_;
    std::vector<SequenceId> running_;  // in admission order
    SequenceId next_id_ = 0;
    int64_t next_admission_ = 0;
    EngineStats stats_;
    std::vector<SequenceId> touched_;
    std::vector<float> logits_;
};

// Runs one sequence to its end (a batch of one, beside whatever else the engine runs),
// calling on_token with each new token; on_token returning false cancels it. Returns the
// finished sequence and forgets it (its pages stay in the prefix cache).
Sequence generate(Engine& engine, std::vector<int32_t> prompt, GenerationParams params, ThreadPool& pool,
                  const std::function<bool(int32_t)>& on_token = {});

// How much of a sequence's text can be shown while it runs: all of it once finished;
// before, all but the last `hold` bytes (the longest stop string less one, which may yet
// be cut), and never part of a UTF-8 character.
size_t settled_text_end(const Sequence& sequence, size_t hold);

}  // namespace mariana
