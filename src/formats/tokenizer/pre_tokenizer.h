// tokenizer.json's "pre_tokenizer": cuts text into pieces that BPE encodes one by one.
// Supported: Split (regex or literal pattern, every behaviour, invert), ByteLevel
// (add_prefix_space, use_regex with GPT-2's pattern) and Sequence of those. A Sequence
// applies each step to every piece the previous step left, so a later pattern never sees
// across an earlier boundary and its anchors see the piece's end as the input's end.
// ByteLevel must be present: Mariana's BPE works on the raw bytes its alphabet spells.
#pragma once

#include "core/json.h"
#include "formats/tokenizer/regex.h"

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace mariana {

enum class SplitBehavior { isolated, removed, merged_with_previous, merged_with_next, contiguous };

class PreTokenizer {
public:
    // Throws Error naming `what` and the step for an unsupported or malformed step.
    PreTokenizer(const Json& spec, const std::string& what);

    // Appends the pieces of `text` (raw UTF-8 bytes) to `pieces`. Pieces point into `text`,
    // or into `arena` when a step had to change them (a prefix space).
    void split(std::string_view text, std::vector<std::string_view>& pieces, std::deque<std::string>& arena) const;

private:
    struct Step {
        enum class Kind { split, prefix_space } kind;
        const Regex* regex = nullptr;  // into regexes_
        SplitBehavior behavior = SplitBehavior::isolated;
        bool invert = false;
    };
    void parse(const Json& spec, const std::string& what, int& byte_level_steps);
    void apply(const Step& step, std::string_view piece, std::vector<std::string_view>& out,
               std::deque<std::string>& arena) const;

    std::deque<Regex> regexes_;  // deque: steps keep pointers into it
    std::vector<Step> steps_;
};

}  // namespace mariana
