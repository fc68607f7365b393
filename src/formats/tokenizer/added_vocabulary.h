// Added tokens (special and not) are cut out of the text before normalization and BPE, the
// way Hugging Face's AddedVocabulary does: tokens with "normalized": false are found in the
// raw text, those with "normalized": true in the normalized stretches between. Matching is
// leftmost-longest (at the first position where any token starts, the longest one wins).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mariana {

struct AddedToken {
    std::string content;
    int32_t id = -1;
    bool special = false;
    bool normalized = false;
    bool lstrip = false;  // the match also swallows whitespace on its left
    bool rstrip = false;  // ... and on its right
};

class AddedVocabulary {
public:
    // `normalize` turns a normalized token's content into the form it is searched in.
    // Throws Error naming `what` for an empty token or an unsupported option.
    template <class Normalize>
    AddedVocabulary(const std::vector<AddedToken>& tokens, Normalize normalize, const std::string& what)
    {
        for (const AddedToken& t : tokens) add(t, t.normalized ? normalize(t.content) : t.content, what);
    }
    AddedVocabulary() = default;

    // A stretch of text: [begin, end) of the input, and the token id or -1 for plain text.
    struct Segment {
        size_t begin, end;
        int32_t id;
    };
    // Cuts `text` by the tokens of one group (normalized or not) and appends the segments.
    void split(std::string_view text, bool normalized_group, std::vector<Segment>& out) const;

private:
    struct Trie {
        std::unordered_map<uint64_t, int32_t> edges;  // node << 8 | byte -> child node
        std::vector<int32_t> token_at;                // token index ending at each node, or -1
        bool first_byte[256] = {};
        int32_t child(int32_t node, unsigned char byte) const;
    };
    void add(const AddedToken& token, const std::string& searched, const std::string& what);

    std::vector<AddedToken> tokens_;
    Trie tries_[2];  // [0]: not normalized, [1]: normalized
};

}  // namespace mariana
