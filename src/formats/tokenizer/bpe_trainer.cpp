#include "formats/tokenizer/bpe_trainer.h"

#include "core/error.h"

#include <algorithm>
#include <queue>

namespace mariana {

const nlohmann::ordered_json& deepseek_v3_pre_tokenizer()
{
    // The patterns exactly as DeepSeek-V3's tokenizer.json holds them once JSON-decoded
    // (C++ and JSON escapes agree here): the CJK ranges are literal characters and the
    // third pattern holds raw CR and LF characters, not the escapes "\r\n".
    using OrderedJson = nlohmann::ordered_json;
    static const OrderedJson spec = [] {
        auto split = [](const char* pattern) {
            return OrderedJson{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}};
        };
        return OrderedJson{
            {"type", "Sequence"},
            {"pretokenizers",
             {split("\\p{N}{1,3}"), split("[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+"),
              split("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
                    " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
              OrderedJson{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
    }();
    return spec;
}

// ---------------------------------------------------------------------------------------
// Counting words

WordCounter::WordCounter(std::vector<std::string> reserved)
    : pre_tokenizer_(Json::parse(deepseek_v3_pre_tokenizer().dump()), "the DeepSeek-V3 pre-tokenizer"), reserved_(std::move(reserved))
{
    std::erase_if(reserved_, [](const std::string& s) { return s.empty(); });
    for (const std::string& r : reserved_) starts_reserved_[static_cast<unsigned char>(r[0])] = true;
}

void WordCounter::count_document(std::string_view document, std::unordered_map<std::string_view, int64_t>& counts,
                                 std::vector<std::string_view>& pieces, std::deque<std::string>& arena) const
{
    auto count_stretch = [&](size_t begin, size_t end) {
        if (end <= begin) return;
        pieces.clear();
        pre_tokenizer_.split(document.substr(begin, end - begin), pieces, arena);
        for (const std::string_view piece : pieces) ++counts[piece];
    };
    // Cut out the reserved strings (longest match at each position), count what is between.
    size_t begin = 0;
    for (size_t pos = 0; pos < document.size();) {
        size_t length = 0;
        if (starts_reserved_[static_cast<unsigned char>(document[pos])])
            for (const std::string& r : reserved_)
                if (r.size() > length && document.substr(pos).starts_with(r)) length = r.size();
        if (length == 0) {
            ++pos;
            continue;
        }
        count_stretch(begin, pos);
        begin = pos += length;
    }
    count_stretch(begin, document.size());
}

void WordCounter::add(std::span<const std::string> documents, ThreadPool& pool)
{
    if (documents.empty()) return;
    // A few parts per thread even out documents of different lengths; each part counts
    // into its own table (keys point into the documents), merged here in part order.
    const int64_t n = static_cast<int64_t>(documents.size());
    const int64_t n_parts = std::min<int64_t>(n, int64_t(pool.size()) * 4);
    std::vector<std::unordered_map<std::string_view, int64_t>> part_counts(n_parts);
    std::vector<std::deque<std::string>> arenas(n_parts);  // pieces a step rewrote live here
    pool.parallel_for(n_parts, 1, [&](int64_t first, int64_t last) {
        std::vector<std::string_view> pieces;
        for (int64_t part = first; part < last; ++part)
            for (int64_t d = part * n / n_parts; d < (part + 1) * n / n_parts; ++d)
                count_document(documents[d], part_counts[part], pieces, arenas[part]);
    });
    for (const auto& counts : part_counts) {
        for (const auto& [piece, count] : counts) {
            auto it = counts_.find(piece);
            if (it == counts_.end()) it = counts_.emplace(std::string(piece), 0).first;
            it->second += count;
            total_pieces_ += count;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Learning merges

namespace {

uint64_t pair_key(int32_t left, int32_t right) { return uint64_t(uint32_t(left)) << 32 | uint32_t(right); }
int32_t left_of(uint64_t key) { return int32_t(key >> 32); }
int32_t right_of(uint64_t key) { return int32_t(key & 0xFFFFFFFFu); }

struct Word {
    std::vector<int32_t> symbols;  // token ids
    int64_t count;
};

// Replaces every occurrence of (left, right) in `symbols`, scanning left to right (so
// "a a a" becomes "aa a"), by `merged`, and reports each adjacent pair that disappears
// (-1) or appears (+1), the merged pair itself included, so counts stay exact.
template <class Change>
void merge_in_word(std::vector<int32_t>& symbols, int32_t left, int32_t right, int32_t merged, Change change)
{
    size_t out = 0;
    const size_t n = symbols.size();
    for (size_t i = 0; i < n;) {
        if (i + 1 < n && symbols[i] == left && symbols[i + 1] == right) {
            if (out > 0) {
                change(pair_key(symbols[out - 1], left), -1);
                change(pair_key(symbols[out - 1], merged), +1);
            }
            change(pair_key(left, right), -1);
            if (i + 2 < n) {
                change(pair_key(right, symbols[i + 2]), -1);
                change(pair_key(merged, symbols[i + 2]), +1);
            }
            symbols[out++] = merged;
            i += 2;
        } else {
            symbols[out++] = symbols[i++];
        }
    }
    symbols.resize(out);
}

struct Candidate {
    int64_t count;
    uint64_t pair;
};

}  // namespace

BpeModel train_bpe(const WordCounts& word_counts, const BpeTrainerOptions& options)
{
    if (options.vocab_size < 256) fail("vocabulary size {} is smaller than the 256 single bytes", options.vocab_size);
    BpeModel model;
    std::unordered_map<std::string, int32_t> token_ids;  // bytes -> id, to reuse a token spelled twice
    for (int b = 0; b < 256; ++b) {
        model.tokens.emplace_back(1, static_cast<char>(b));
        token_ids.emplace(model.tokens.back(), b);
    }

    // Words of two bytes or more, in byte order (the result does not depend on the order,
    // but the pair lists are then the same from run to run).
    std::vector<const std::pair<const std::string, int64_t>*> sorted;
    for (const auto& entry : word_counts)
        if (entry.first.size() >= 2 && entry.second > 0) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
    std::vector<Word> words;
    words.reserve(sorted.size());
    for (const auto* entry : sorted) {
        Word& w = words.emplace_back(Word{{}, entry->second});
        for (const char c : entry->first) w.symbols.push_back(static_cast<unsigned char>(c));
    }

    // Pair counts over all words, and for each pair the words that (may) hold it.
    std::unordered_map<uint64_t, int64_t> pair_counts;
    std::unordered_map<uint64_t, std::vector<int32_t>> words_with;
    for (int32_t w = 0; w < static_cast<int32_t>(words.size()); ++w) {
        const std::vector<int32_t>& s = words[w].symbols;
        for (size_t i = 0; i + 1 < s.size(); ++i) {
            const uint64_t key = pair_key(s[i], s[i + 1]);
            pair_counts[key] += words[w].count;
            std::vector<int32_t>& list = words_with[key];
            if (list.empty() || list.back() != w) list.push_back(w);
        }
    }

    // Highest count first; among equal counts the smallest (left bytes, right bytes).
    // Entries go stale as counts change: a popped entry whose count is no longer the
    // pair's is pushed again with the current count. Every pair always has an entry at
    // least as high as its count, so a popped entry that is current is the best pair.
    const std::vector<std::string>& tokens = model.tokens;
    auto lower_priority = [&tokens](const Candidate& a, const Candidate& b) {
        if (a.count != b.count) return a.count < b.count;
        const int order = tokens[left_of(a.pair)].compare(tokens[left_of(b.pair)]);
        if (order != 0) return order > 0;
        return tokens[right_of(a.pair)] > tokens[right_of(b.pair)];
    };
    std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> queue(lower_priority);
    for (const auto& [key, count] : pair_counts) queue.push({count, key});

    std::unordered_map<uint64_t, int64_t> delta;
    std::vector<std::pair<uint64_t, int32_t>> appeared;  // (pair, word) for each new occurrence
    while (static_cast<int64_t>(model.tokens.size()) < options.vocab_size) {
        if (queue.empty()) {
            model.stopped_because = "every word is a single token: no pair is left to merge";
            break;
        }
        const Candidate top = queue.top();
        queue.pop();
        const auto found = pair_counts.find(top.pair);
        const int64_t current = found == pair_counts.end() ? 0 : found->second;
        if (current != top.count) {
            if (current > 0) queue.push({current, top.pair});
            continue;
        }
        if (current < options.min_frequency) {
            model.stopped_because = fmt::format("the most frequent pair left occurs {} time(s), fewer than the minimum "
                                                "frequency {}", current, options.min_frequency);
            break;
        }

        const int32_t left = left_of(top.pair), right = right_of(top.pair);
        std::string bytes = model.tokens[left] + model.tokens[right];
        auto [it, is_new] = token_ids.emplace(bytes, static_cast<int32_t>(model.tokens.size()));
        if (is_new) model.tokens.push_back(std::move(bytes));
        const int32_t merged = it->second;
        model.merges.emplace_back(left, right);

        std::vector<int32_t> holders = std::move(words_with[top.pair]);
        words_with.erase(top.pair);
        std::sort(holders.begin(), holders.end());
        holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
        delta.clear();
        appeared.clear();
        for (const int32_t w : holders) {
            const int64_t count = words[w].count;
            merge_in_word(words[w].symbols, left, right, merged, [&](uint64_t key, int sign) {
                delta[key] += sign * count;
                if (sign > 0) appeared.emplace_back(key, w);
            });
        }
        for (const auto& [key, change] : delta) {
            if (change == 0) continue;
            int64_t& count = pair_counts[key];
            count += change;
            MARIANA_CHECK(count >= 0, "pair count went negative");
            if (change > 0) queue.push({count, key});
            if (count == 0) pair_counts.erase(key);
        }
        MARIANA_CHECK(!pair_counts.contains(top.pair), "the merged pair still has occurrences");
        for (const auto& [key, w] : appeared) {
            std::vector<int32_t>& list = words_with[key];
            if (list.empty() || list.back() != w) list.push_back(w);
        }
    }
    return model;
}

}  // namespace mariana
