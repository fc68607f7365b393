#include "runtime/engine.h"

#include "core/error.h"

#include <algorithm>

namespace mariana {

const char* finish_reason_name(FinishReason reason)
{
    switch (reason) {
    case FinishReason::none: return "none";
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::cancelled: return "cancelled";
    }
    return "none";
}

namespace {

EngineOptions checked(EngineOptions o, const ModelConfig& config)
{
    const int64_t limit = config.max_position_embeddings;
    if (o.context < 0) fail("the context must be positive, got {}", o.context);
    o.context = o.context == 0 ? limit : std::min(o.context, limit);
    if (o.page_rows <= 0) fail("KV cache pages must hold at least one position, got {}", o.page_rows);
    if (o.max_sequences <= 0) fail("at least one sequence must run at once, got {}", o.max_sequences);
    if (o.step_tokens <= 0) fail("a step must compute at least one prompt token, got {}", o.step_tokens);
    if (o.prefill_chunk <= 0) fail("prompt chunks must hold at least one token, got {}", o.prefill_chunk);
    if (o.cache_pages < 0) fail("the KV cache cannot have {} pages", o.cache_pages);
    if (o.cache_pages == 0) o.cache_pages = (o.context + o.page_rows - 1) / o.page_rows;
    return o;
}

}  // namespace

Engine::Engine(Model& model, EngineOptions options)
    : model_(model),
      options_(checked(std::move(options), model.config())),
      cache_(model.make_cache_pages(options_.cache_pages, options_.page_rows, options_.cache_dtype)),
      pool_(options_.cache_pages, options_.page_rows)
{
}

Engine::Entry& Engine::entry(SequenceId id)
{
    const auto it = entries_.find(id);
    if (it == entries_.end()) fail("no sequence {} in the engine", id);
    return it->second;
}

const Sequence& Engine::sequence(SequenceId id) const { return const_cast<Engine*>(this)->entry(id).seq; }

void Engine::erase(SequenceId id)
{
    if (!entry(id).seq.finished()) fail("sequence {} is still running: cancel it first", id);
    entries_.erase(id);
}

SequenceId Engine::add(std::vector<int32_t> prompt, GenerationParams params)
{
    const ModelConfig& config = model_.config();
    const int64_t n = int64_t(prompt.size()), P = options_.page_rows;
    if (n == 0) fail("the prompt has no tokens");
    for (const int32_t t : prompt)
        if (t < 0 || t >= config.vocab_size) fail("token id {} is out of range: vocab_size is {}", t, config.vocab_size);
    if (n >= options_.context)
        fail("the prompt has {} tokens, which leaves no room to generate in the context of {} tokens (at most "
             "max_position_embeddings ({}))",
             n, options_.context, config.max_position_embeddings);
    if (params.max_new_tokens == 0 || params.max_new_tokens < -1)
        fail("the most new tokens must be at least 1 (or -1: to the end of the context), got {}", params.max_new_tokens);
    if (params.top_logprobs < 0 || params.top_logprobs > 20)
        fail("top log-probabilities must be between 0 and 20, got {}", params.top_logprobs);
    for (const std::string& stop : params.stop_strings)
        if (stop.empty()) fail("a stop string is empty");
    if (!params.stop_strings.empty() && !options_.token_text) fail("stop strings need the model's tokenizer");
    const int64_t longest = params.max_new_tokens < 0 ? options_.context : std::min(options_.context, n + params.max_new_tokens);
    if ((longest + P - 1) / P > pool_.n_pages())
        fail("a sequence of up to {} tokens needs {} KV cache pages of {} positions; the cache has {} (raise its size "
             "or lower the context or the new tokens)",
             longest, (longest + P - 1) / P, P, pool_.n_pages());

    Sampler sampler(params.sampler);  // throws for impossible sampling values
    const SequenceId id = next_id_++;
    Entry e(std::move(params), std::move(sampler));
    e.tokens = prompt;
    e.seq.prompt = std::move(prompt);
    // The same prompt as one not computed yet: wait for it and share its pages.
    for (const auto& [other_id, other] : entries_)
        if (other.state != State::finished && other.seq.completion.empty() && other.twin_of < 0 &&
            other.tokens == e.tokens) {
            e.twin_of = other_id;
            break;
        }
    entries_.emplace(id, std::move(e));
    waiting_.push_back(id);
    return id;
}

void Engine::cancel(SequenceId id)
{
    Entry& e = entry(id);
    if (e.seq.finished()) return;
    finish(id, e, FinishReason::cancelled);
}

void Engine::finish(SequenceId id, Entry& e, FinishReason reason)
{
    e.seq.finish = reason;
    e.state = State::finished;
    release_pages(e);
    std::erase(running_, id);
    std::erase(waiting_, id);
}

void Engine::release_pages(Entry& e)
{
    for (const uint64_t key : e.computing) computing_.erase(key);
    e.computing.clear();
    for (const int32_t page : e.pages) pool_.release(page);
    e.pages.clear();
    e.keys.clear();
    e.computed = 0;
}

void Engine::preempt(SequenceId id, Entry& e)
{
    release_pages(e);
    e.state = State::waiting;
    std::erase(running_, id);
    waiting_.push_front(id);
    ++stats_.preemptions;
}

int64_t Engine::chunk_end(const Entry& e) const
{
    // Cut at multiples of prefill_chunk from position 0, whatever else runs (batch
    // invariance); a decoding sequence's chunk is its one new token.
    const int64_t C = options_.prefill_chunk;
    return std::min(int64_t(e.tokens.size()), (e.computed / C + 1) * C);
}

bool Engine::reserve_pages(Entry& e, int64_t end)
{
    while (int64_t(e.pages.size()) * options_.page_rows < end) {
        const int32_t page = pool_.allocate();
        if (page < 0) return false;
        e.pages.push_back(page);
    }
    return true;
}

Engine::Admission Engine::admit(SequenceId id, Entry& e)
{
    const int64_t P = options_.page_rows, n = int64_t(e.tokens.size());
    // The longest run of cached pages the tokens begin with, leaving at least the last
    // token to compute (its logits give the next token).
    for (int64_t i = 0; i < (n - 1) / P; ++i) {
        const std::span<const int32_t> tokens(e.tokens.data() + i * P, size_t(P));
        const uint64_t key = PagePool::chain(e.keys.empty() ? 0 : e.keys.back(), tokens);
        const int32_t page = pool_.find(key, tokens);
        if (page < 0) {
            // A running sequence is computing this very page (a common system prompt, say):
            // wait for it rather than compute it twice.
            if (computing_.count(key)) {
                release_pages(e);
                return Admission::wait;
            }
            break;
        }
        e.pages.push_back(page);
        e.keys.push_back(key);
    }
    e.computed = int64_t(e.pages.size()) * P;
    if (pool_.available() < (n + P - 1) / P - int64_t(e.pages.size())) {
        release_pages(e);
        return Admission::no_room;
    }
    reserve_pages(e, n);
    e.state = State::running;
    e.admitted = next_admission_++;
    if (e.seq.completion.empty()) {
        e.seq.cached_prompt_tokens = e.computed;
        stats_.prompt_tokens += n;
        stats_.cached_prompt_tokens += e.computed;
    }
    // The full pages this prompt will compute, for others that begin alike to wait for.
    uint64_t key = e.keys.empty() ? 0 : e.keys.back();
    for (int64_t i = int64_t(e.keys.size()); i < n / P; ++i) {
        key = PagePool::chain(key, std::span<const int32_t>(e.tokens.data() + i * P, size_t(P)));
        if (computing_.emplace(key, id).second) e.computing.push_back(key);
    }
    return Admission::admitted;
}

void Engine::publish_pages(Entry& e)
{
    const int64_t P = options_.page_rows;
    while (int64_t(e.keys.size()) < e.computed / P) {
        const size_t i = e.keys.size();
        const std::span<const int32_t> tokens(e.tokens.data() + int64_t(i) * P, size_t(P));
        const uint64_t key = PagePool::chain(e.keys.empty() ? 0 : e.keys.back(), tokens);
        pool_.publish(e.pages[i], key, tokens);  // false: an identical page is cached already
        e.keys.push_back(key);
        if (std::erase(e.computing, key) > 0) computing_.erase(key);
    }
}

void Engine::fork_twins(SequenceId id, Entry& e, std::span<const float> logits)
{
    const int64_t P = options_.page_rows, full = e.computed / P, partial = e.computed % P;
    const std::vector<SequenceId> waiting(waiting_.begin(), waiting_.end());
    for (const SequenceId twin_id : waiting) {
        Entry& b = entry(twin_id);
        if (b.twin_of != id) continue;
        b.twin_of = -1;  // from here on, or if it cannot fork now, an ordinary waiting sequence
        if (int64_t(running_.size()) >= options_.max_sequences || pool_.available() < (partial > 0 ? 1 : 0)) continue;
        for (int64_t i = 0; i < full; ++i) {
            pool_.retain(e.pages[size_t(i)]);
            b.pages.push_back(e.pages[size_t(i)]);
        }
        if (partial > 0) {  // the partly filled last page: a copy of its own to write into
            const int32_t page = pool_.allocate();
            cache_.copy_page(e.pages[size_t(full)], page, partial);
            b.pages.push_back(page);
        }
        b.keys = e.keys;
        b.computed = e.computed;
        b.state = State::running;
        b.admitted = next_admission_++;
        b.seq.cached_prompt_tokens = b.computed;
        stats_.prompt_tokens += b.computed;
        stats_.cached_prompt_tokens += b.computed;
        std::erase(waiting_, twin_id);
        running_.push_back(twin_id);
        accept(twin_id, b, logits);
    }
}

void Engine::accept(SequenceId id, Entry& e, std::span<const float> logits)
{
    Sampled s = e.sampler.sample(logits, e.tokens, e.params.top_logprobs);
    e.tokens.push_back(s.token);
    e.seq.completion.push_back(s.token);
    e.seq.logprobs.push_back(s.logprob);
    if (e.params.top_logprobs > 0) e.seq.top_logprobs.push_back(std::move(s.top));
    ++stats_.sampled_tokens;
    touched_.push_back(id);

    const std::vector<int32_t>& stops = e.params.stop_tokens;
    if ((!e.params.ignore_eos && s.token == model_.config().eos_token_id) ||
        std::find(stops.begin(), stops.end(), s.token) != stops.end()) {
        finish(id, e, FinishReason::stop);
        return;
    }
    if (options_.token_text) {
        const size_t before = e.seq.text.size();
        e.seq.text += options_.token_text(s.token);
        size_t cut = std::string::npos;
        for (const std::string& stop : e.params.stop_strings) {
            // Only a match that ends in the new bytes is new.
            const size_t from = before >= stop.size() - 1 ? before - (stop.size() - 1) : 0;
            cut = std::min(cut, e.seq.text.find(stop, from));
        }
        if (cut != std::string::npos) {
            e.seq.text.resize(cut);
            finish(id, e, FinishReason::stop);
            return;
        }
    }
    if (int64_t(e.seq.completion.size()) == e.params.max_new_tokens || int64_t(e.tokens.size()) >= options_.context)
        finish(id, e, FinishReason::length);
}

const std::vector<SequenceId>& Engine::step(ThreadPool& pool)
{
    touched_.clear();
    if (idle()) return touched_;
    ++stats_.steps;

    // Room for every running sequence's next chunk, oldest first; when the pool is out of
    // pages, the newest sequence gives its pages back (and may be the one asking).
    bool preempted = false;
    for (size_t i = 0; i < running_.size(); ++i) {
        const SequenceId id = running_[i];
        Entry& e = entry(id);
        while (!reserve_pages(e, chunk_end(e))) {
            const SequenceId victim = running_.back();
            preempt(victim, entry(victim));
            preempted = true;
            if (victim == id) break;
        }
    }

    // Decoding sequences first, one token each; then prompt chunks within the budget.
    struct Scheduled {
        SequenceId id;
        int64_t end;
    };
    std::vector<Scheduled> scheduled;
    int64_t budget = options_.step_tokens;
    bool prompt_chunk = false;
    const auto schedule_prompt = [&](SequenceId id, Entry& e) {
        const int64_t end = chunk_end(e), n = end - e.computed;
        if (prompt_chunk && n > budget) return false;
        scheduled.push_back({id, end});
        budget -= n;
        prompt_chunk = true;
        return true;
    };
    for (const SequenceId id : running_)
        if (!prefilling(entry(id))) scheduled.push_back({id, int64_t(entry(id).tokens.size())});
    for (const SequenceId id : running_)
        if (prefilling(entry(id)) && !schedule_prompt(id, entry(id))) break;
    // Admit waiting sequences while there is room, first come first served; not in a step
    // that had to preempt, which would take back the pages it just freed.
    for (size_t i = 0; !preempted && i < waiting_.size() && int64_t(running_.size()) < options_.max_sequences;) {
        const SequenceId id = waiting_[i];
        Entry& e = entry(id);
        if (e.twin_of >= 0) {
            const auto twin = entries_.find(e.twin_of);
            if (twin != entries_.end() && twin->second.state != State::finished && twin->second.seq.completion.empty()) {
                ++i;  // its prompt is being computed: fork from it then
                continue;
            }
            e.twin_of = -1;
        }
        const Admission admission = admit(id, e);
        if (admission == Admission::no_room) break;
        if (admission == Admission::wait) {
            ++i;
            continue;
        }
        waiting_.erase(waiting_.begin() + std::ptrdiff_t(i));
        running_.push_back(id);
        if (prefilling(e)) schedule_prompt(id, e);
        else scheduled.push_back({id, int64_t(e.tokens.size())});
    }
    if (scheduled.empty()) return touched_;  // everything waits (for a twin's prompt)

    std::vector<SequenceChunk> chunks;
    int64_t wanted = 0;
    for (const Scheduled& s : scheduled) {
        Entry& e = entry(s.id);
        const bool last = s.end == int64_t(e.tokens.size());
        chunks.push_back({e.pages, e.computed,
                          std::span<const int32_t>(e.tokens.data() + e.computed, size_t(s.end - e.computed)), last});
        wanted += last;
        stats_.forward_tokens += s.end - e.computed;
    }
    const int64_t V = model_.config().vocab_size;
    logits_.resize(size_t(wanted * V));
    model_.forward(chunks, cache_, LogitsFor::last_token, logits_.data(), pool);

    int64_t row = 0;
    for (const Scheduled& s : scheduled) {
        Entry& e = entry(s.id);
        e.computed = s.end;
        publish_pages(e);
        if (s.end < int64_t(e.tokens.size())) continue;
        const std::span<const float> logits(logits_.data() + row++ * V, size_t(V));
        if (e.seq.completion.empty()) fork_twins(s.id, e, logits);
        accept(s.id, e, logits);
    }
    return touched_;
}

Sequence generate(Engine& engine, std::vector<int32_t> prompt, GenerationParams params, ThreadPool& pool,
                  const std::function<bool(int32_t)>& on_token)
{
    const SequenceId id = engine.add(std::move(prompt), std::move(params));
    size_t seen = 0;
    while (!engine.sequence(id).finished()) {
        engine.step(pool);
        const Sequence& s = engine.sequence(id);
        for (; on_token && seen < s.completion.size(); ++seen)
            if (!on_token(s.completion[seen])) {
                engine.cancel(id);
                break;
            }
    }
    Sequence result = engine.sequence(id);
    engine.erase(id);
    return result;
}

size_t settled_text_end(const Sequence& sequence, size_t hold)
{
    const std::string& text = sequence.text;
    if (sequence.finished()) return text.size();
    size_t end = text.size() > hold ? text.size() - hold : 0;
    // Back to the start of the character `end` is inside (continuation bytes are 10xxxxxx),
    // then past it again if the whole character is there.
    size_t start = end;
    while (start > 0 && (static_cast<unsigned char>(text[start - 1]) & 0xC0) == 0x80) --start;
    if (start > 0) {
        const unsigned char lead = static_cast<unsigned char>(text[start - 1]);
        const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (start - 1 + length > end) end = start - 1;
    }
    return end;
}

}  // namespace mariana
