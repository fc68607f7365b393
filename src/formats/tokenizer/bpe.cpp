#include "formats/tokenizer/bpe.h"

#include "core/error.h"

#include <queue>

namespace mariana {

namespace {

uint64_t pair_key(int32_t left, int32_t right)
{
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

Bpe::Bpe(TokenMap vocab, const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges,
         const std::string& what)
    : vocab_(std::move(vocab)), ignore_merges_(ignore_merges)
{
    for (int b = 0; b < 256; ++b) {
        const char byte = static_cast<char>(b);
        const auto it = vocab_.find(std::string_view(&byte, 1));
        if (it == vocab_.end()) fail("{}: the vocabulary has no token for byte 0x{:02X}", what, b);
        byte_ids_[b] = it->second;
    }
    merges_.reserve(merges.size());
    std::string joined;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [left, right] = merges[rank];
        joined.assign(left).append(right);
        const auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(joined);
        if (l == vocab_.end() || r == vocab_.end() || m == vocab_.end())
            fail("{}: merge #{} joins tokens that are not in the vocabulary", what, rank);
        // A pair listed twice keeps its first (lowest) rank.
        merges_.try_emplace(pair_key(l->second, r->second), Merge{static_cast<int32_t>(rank), m->second});
    }
}

std::optional<int32_t> Bpe::token_id(std::string_view bytes) const
{
    const auto it = vocab_.find(bytes);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

const Bpe::Merge* Bpe::find_merge(int32_t left, int32_t right) const
{
    const auto it = merges_.find(pair_key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
}

void Bpe::encode(std::string_view piece, std::vector<int32_t>& out) const
{
    if (piece.size() == 1) {
        out.push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
        return;
    }
    // Llama 3: a piece that is itself a token is taken whole, merges or not.
    if (ignore_merges_) {
        const auto it = vocab_.find(piece);
        if (it != vocab_.end()) {
            out.push_back(it->second);
            return;
        }
    }

    struct Symbol {
        int32_t id;
        int32_t prev, next;  // -1 at the ends; a merged-away symbol has id -1
    };
    const auto n = static_cast<int32_t>(piece.size());
    std::vector<Symbol> symbols(n);
    for (int32_t i = 0; i < n; ++i) symbols[i] = {byte_ids_[static_cast<unsigned char>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};

    struct Candidate {
        int32_t rank, left;  // the pair starting at symbol `left`
        int32_t left_id, right_id;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    auto consider = [&](int32_t left) {
        if (left < 0) return;
        const int32_t right = symbols[left].next;
        if (right < 0) return;
        if (const Merge* m = find_merge(symbols[left].id, symbols[right].id))
            queue.push({m->rank, left, symbols[left].id, symbols[right].id});
    };
    for (int32_t i = 0; i + 1 < n; ++i) consider(i);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& left = symbols[c.left];
        // Stale entries: either side has been merged into something else since.
        if (left.id != c.left_id || left.next < 0 || symbols[left.next].id != c.right_id) continue;
        const int32_t right = left.next;
        left.id = find_merge(c.left_id, c.right_id)->result;
        left.next = symbols[right].next;
        if (left.next >= 0) symbols[left.next].prev = c.left;
        symbols[right].id = -1;
        consider(left.prev);
        consider(c.left);
    }
    for (int32_t i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace mariana
