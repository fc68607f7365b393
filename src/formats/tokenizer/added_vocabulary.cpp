#include "formats/tokenizer/added_vocabulary.h"

#include "core/error.h"
#include "core/utf8.h"

#include <algorithm>

namespace mariana {

namespace {

// Bytes of whitespace directly before `end` / after `begin` (for lstrip / rstrip).
size_t whitespace_before(std::string_view text, size_t end)
{
    size_t begin = end;
    while (begin > 0) {
        size_t start = begin - 1;
        while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t pos = start;
        if (!is_unicode_whitespace(utf8_next(text, pos))) break;
        begin = start;
    }
    return end - begin;
}

size_t whitespace_after(std::string_view text, size_t begin)
{
    size_t end = begin;
    while (end < text.size()) {
        size_t pos = end;
        if (!is_unicode_whitespace(utf8_next(text, pos))) break;
        end = pos;
    }
    return end - begin;
}

}  // namespace

int32_t AddedVocabulary::Trie::child(int32_t node, unsigned char byte) const
{
    const auto it = edges.find((static_cast<uint64_t>(node) << 8) | byte);
    return it == edges.end() ? -1 : it->second;
}

void AddedVocabulary::add(const AddedToken& token, const std::string& searched, const std::string& what)
{
    if (searched.empty()) fail("{}: added token {} has empty content", what, token.id);
    Trie& trie = tries_[token.normalized ? 1 : 0];
    if (trie.token_at.empty()) trie.token_at.push_back(-1);  // the root
    int32_t node = 0;
    for (const char c : searched) {
        const auto byte = static_cast<unsigned char>(c);
        int32_t next = trie.child(node, byte);
        if (next < 0) {
            next = static_cast<int32_t>(trie.token_at.size());
            trie.token_at.push_back(-1);
            trie.edges.emplace((static_cast<uint64_t>(node) << 8) | byte, next);
        }
        node = next;
    }
    trie.first_byte[static_cast<unsigned char>(searched[0])] = true;
    if (trie.token_at[node] < 0) {  // the first of duplicate contents wins
        trie.token_at[node] = static_cast<int32_t>(tokens_.size());
        tokens_.push_back(token);
    }
}

void AddedVocabulary::split(std::string_view text, bool normalized_group, std::vector<Segment>& out) const
{
    const Trie& trie = tries_[normalized_group ? 1 : 0];
    size_t done = 0;  // text before this is already in `out`
    size_t pos = 0;
    while (pos < text.size()) {
        if (trie.token_at.empty() || !trie.first_byte[static_cast<unsigned char>(text[pos])]) {
            ++pos;
            continue;
        }
        int32_t node = 0, found = -1;
        size_t found_end = 0;
        for (size_t i = pos; i < text.size(); ++i) {
            node = trie.child(node, static_cast<unsigned char>(text[i]));
            if (node < 0) break;
            if (trie.token_at[node] >= 0) {
                found = trie.token_at[node];
                found_end = i + 1;
            }
        }
        if (found < 0) {
            ++pos;
            continue;
        }
        const AddedToken& token = tokens_[found];
        size_t begin = pos, end = found_end;
        if (token.lstrip) begin -= std::min(begin - done, whitespace_before(text, begin));
        if (token.rstrip) end += whitespace_after(text, end);
        if (begin > done) out.push_back({done, begin, -1});
        out.push_back({begin, end, token.id});
        done = pos = end;
    }
    if (done < text.size()) out.push_back({done, text.size(), -1});
}

}  // namespace mariana
