#include "runtime/reasoning_stream.h"

#include <algorithm>

namespace mariana {

namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// The length of the longest suffix of `text` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view text, std::string_view tag)
{
    for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n)
        if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
    return 0;
}

bool blank(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; });
}

}  // namespace

void ReasoningStream::emit(std::vector<Piece>& out, std::string_view text)
{
    if (text.empty()) return;
    if (!in_reasoning_ && !blank(text)) answer_started_ = true;
    if (!out.empty() && out.back().reasoning == in_reasoning_) out.back().text += text;
    else out.push_back({in_reasoning_, std::string(text)});
}

std::vector<ReasoningStream::Piece> ReasoningStream::push(std::string_view text)
{
    pending_ += text;
    std::vector<Piece> out;
    for (;;) {
        if (!in_reasoning_ && answer_started_) {  // plain answer text from here on
            emit(out, pending_);
            pending_.clear();
            return out;
        }
        const std::string_view tag = in_reasoning_ ? kClose : kOpen;
        const size_t at = pending_.find(tag);
        // An opening tag counts only with nothing but blank text before it.
        if (at != std::string::npos && (in_reasoning_ || blank(std::string_view(pending_).substr(0, at)))) {
            emit(out, std::string_view(pending_).substr(0, at));
            pending_.erase(0, at + tag.size());
            in_reasoning_ = !in_reasoning_;
            if (!in_reasoning_) answer_started_ = false;  // the answer starts after the tag
            continue;
        }
        // No tag yet: hold back what could still become one.
        const size_t hold = partial_tag_suffix(pending_, tag);
        const std::string_view before = std::string_view(pending_).substr(0, pending_.size() - hold);
        if (!in_reasoning_ && blank(before)) return out;  // blank text may precede an opening tag
        const size_t keep = in_reasoning_ ? hold : 0;      // otherwise the answer has begun
        emit(out, std::string_view(pending_).substr(0, pending_.size() - keep));
        pending_.erase(0, pending_.size() - keep);
        return out;
    }
}

std::vector<ReasoningStream::Piece> ReasoningStream::finish()
{
    std::vector<Piece> out;
    emit(out, pending_);
    pending_.clear();
    return out;
}

bool prompt_opens_reasoning(std::string_view prompt)
{
    const size_t open = prompt.rfind(kOpen);
    return open != std::string_view::npos && prompt.find(kClose, open) == std::string_view::npos;
}

}  // namespace mariana
