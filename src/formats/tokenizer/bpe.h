// Byte-pair encoding over raw bytes: a piece starts as one symbol per byte and the
// adjacent pair with the lowest merge rank is merged until no ranked pair is left (leftmost
// first among equal ranks, as Hugging Face does). A priority queue over the pairs and a
// linked list of symbols keep long pieces (a 2,048-character word) O(n log n).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mariana {

// std::hash<std::string_view> for both key types, so lookups by view allocate nothing.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class Bpe {
public:
    struct Merge {
        int32_t rank;
        int32_t result;
    };

    // `vocab` maps each token's bytes to its id; `merges` lists pairs of tokens (as bytes)
    // in rank order. Throws Error naming `what` when a merge names a token not in the
    // vocabulary or produces one that is missing, or a single byte has no token.
    Bpe(TokenMap vocab, const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges,
        const std::string& what);

    // Appends the ids of one piece (non-empty) to `out`.
    void encode(std::string_view piece, std::vector<int32_t>& out) const;

    // The id of the token whose bytes are `bytes`.
    std::optional<int32_t> token_id(std::string_view bytes) const;

private:
    const Merge* find_merge(int32_t left, int32_t right) const;

    TokenMap vocab_;
    std::unordered_map<uint64_t, Merge> merges_;  // key: left id << 32 | right id
    int32_t byte_ids_[256];
    bool ignore_merges_;
};

}  // namespace mariana
