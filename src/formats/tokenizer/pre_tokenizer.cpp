#include "formats/tokenizer/pre_tokenizer.h"

#include "core/error.h"

#include <cctype>

namespace mariana {

namespace {

// GPT-2's pattern, which ByteLevel applies itself when "use_regex" is true.
constexpr std::string_view kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

SplitBehavior parse_behavior(const std::string& name, const std::string& what)
{
    if (name == "Isolated") return SplitBehavior::isolated;
    if (name == "Removed") return SplitBehavior::removed;
    if (name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
    if (name == "MergedWithNext") return SplitBehavior::merged_with_next;
    if (name == "Contiguous") return SplitBehavior::contiguous;
    fail("{}: Split behavior '{}' is unknown", what, name);
}

// A literal pattern as a regex: every ASCII punctuation character escaped.
std::string escape_literal(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x80 && !std::isalnum(u)) out += '\\';
        out += c;
    }
    return out;
}

bool flag(const Json& spec, const char* key, bool fallback)
{
    return spec.contains(key) && spec[key].is_boolean() ? spec[key].get<bool>() : fallback;
}

struct Segment {
    size_t begin, end;
    bool match;
};

}  // namespace

PreTokenizer::PreTokenizer(const Json& spec, const std::string& what)
{
    int byte_level_steps = 0;
    parse(spec, what, byte_level_steps);
    if (byte_level_steps != 1)
        fail("{}: pre_tokenizer must contain exactly one ByteLevel step (byte-level BPE), found {}", what,
             byte_level_steps);
}

void PreTokenizer::parse(const Json& spec, const std::string& what, int& byte_level_steps)
{
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
        fail("{}: pre_tokenizer must be an object with a \"type\"", what);
    const std::string type = spec["type"].get<std::string>();
    if (type == "Sequence") {
        if (!spec.contains("pretokenizers") || !spec["pretokenizers"].is_array())
            fail("{}: Sequence pre_tokenizer needs a \"pretokenizers\" list", what);
        for (const Json& inner : spec["pretokenizers"]) parse(inner, what, byte_level_steps);
    } else if (type == "Split") {
        const Json& pattern = spec.contains("pattern") ? spec["pattern"] : Json();
        const std::string step_name = fmt::format("{}: pre_tokenizer Split #{}", what, steps_.size() + 1);
        if (pattern.contains("Regex") && pattern["Regex"].is_string())
            regexes_.emplace_back(pattern["Regex"].get<std::string>(), step_name);
        else if (pattern.contains("String") && pattern["String"].is_string())
            regexes_.emplace_back(escape_literal(pattern["String"].get<std::string>()), step_name);
        else
            fail("{}: Split needs a pattern {{\"Regex\": ...}} or {{\"String\": ...}}", step_name);
        const std::string behavior = spec.contains("behavior") && spec["behavior"].is_string()
                                         ? spec["behavior"].get<std::string>()
                                         : std::string("Isolated");
        steps_.push_back({Step::Kind::split, &regexes_.back(), parse_behavior(behavior, step_name),
                          flag(spec, "invert", false)});
    } else if (type == "ByteLevel") {
        ++byte_level_steps;
        if (flag(spec, "add_prefix_space", true)) steps_.push_back({Step::Kind::prefix_space});
        if (flag(spec, "use_regex", true)) {
            regexes_.emplace_back(kGpt2Pattern, what + ": ByteLevel's GPT-2 pattern");
            steps_.push_back({Step::Kind::split, &regexes_.back(), SplitBehavior::isolated, false});
        }
    } else {
        fail("{}: pre_tokenizer '{}' is not supported (Split, ByteLevel, Sequence)", what, type);
    }
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces,
                         std::deque<std::string>& arena) const
{
    const size_t first = pieces.size();
    if (!text.empty()) pieces.push_back(text);
    std::vector<std::string_view> next;
    for (const Step& step : steps_) {
        next.clear();
        for (size_t i = first; i < pieces.size(); ++i) apply(step, pieces[i], next, arena);
        pieces.resize(first);
        pieces.insert(pieces.end(), next.begin(), next.end());
    }
}

void PreTokenizer::apply(const Step& step, std::string_view piece, std::vector<std::string_view>& out,
                         std::deque<std::string>& arena) const
{
    if (step.kind == Step::Kind::prefix_space) {
        if (piece.front() == ' ') out.push_back(piece);
        else out.push_back(arena.emplace_back(std::string(1, ' ').append(piece)));
        return;
    }
    // The piece as alternating gaps and matches; empty matches delimit nothing.
    std::vector<Segment> segments;
    size_t done = 0;
    for (size_t from = 0; from < piece.size();) {
        const Regex::Match m = step.regex->search(piece, from);
        if (!m.found) break;
        if (m.end == m.begin) {  // step over one whole character
            from = m.end + 1;
            while (from < piece.size() && (static_cast<unsigned char>(piece[from]) & 0xC0) == 0x80) ++from;
            continue;
        }
        if (m.begin > done) segments.push_back({done, m.begin, step.invert});
        segments.push_back({m.begin, m.end, !step.invert});
        done = from = m.end;
    }
    if (done < piece.size()) segments.push_back({done, piece.size(), step.invert});

    auto emit = [&](size_t begin, size_t end) { out.push_back(piece.substr(begin, end - begin)); };
    switch (step.behavior) {
    case SplitBehavior::isolated:
        for (const Segment& s : segments) emit(s.begin, s.end);
        break;
    case SplitBehavior::removed:
        for (const Segment& s : segments)
            if (!s.match) emit(s.begin, s.end);
        break;
    case SplitBehavior::merged_with_previous:
        for (size_t i = 0; i < segments.size(); ++i) {
            const size_t begin = segments[i].begin;
            if (!segments[i].match && i + 1 < segments.size() && segments[i + 1].match) ++i;
            emit(begin, segments[i].end);
        }
        break;
    case SplitBehavior::merged_with_next:
        for (size_t i = 0; i < segments.size(); ++i) {
            const size_t begin = segments[i].begin;
            if (segments[i].match && i + 1 < segments.size() && !segments[i + 1].match) ++i;
            emit(begin, segments[i].end);
        }
        break;
    case SplitBehavior::contiguous:
        for (size_t i = 0; i < segments.size(); ++i) {
            const size_t begin = segments[i].begin;
            while (segments[i].match && i + 1 < segments.size() && segments[i + 1].match) ++i;
            emit(begin, segments[i].end);
        }
        break;
    }
}

}  // namespace mariana
