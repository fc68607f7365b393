// Splits a reasoning model's streamed text into its chain of thought (inside
// <think>…</think>) and its answer, as the text arrives. The tags may be cut across
// chunks, so a chunk's tail that could be the start of a tag is held back until the next
// chunk decides. R1's generation prompt already ends in "<think>\n", so its output starts
// inside the reasoning and only closes it; a model that opens the tag itself is handled
// too, but only before any answer text (a literal "<think>" later in an answer is text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mariana {

class ReasoningStream {
public:
    explicit ReasoningStream(bool starts_in_reasoning) : in_reasoning_(starts_in_reasoning) {}

    struct Piece {
        bool reasoning;
        std::string text;
        bool operator==(const Piece&) const = default;
    };
    // The pieces `text` completes, in order (none while a possible tag is pending).
    std::vector<Piece> push(std::string_view text);
    // What is still held back, at the end of the stream.
    std::vector<Piece> finish();

    bool in_reasoning() const { return in_reasoning_; }

private:
    void emit(std::vector<Piece>& out, std::string_view text);

    bool in_reasoning_;
    bool answer_started_ = false;  // non-blank answer text was emitted
    std::string pending_;
};

// Whether a rendered prompt leaves the model inside an open <think> block.
bool prompt_opens_reasoning(std::string_view prompt);

}  // namespace mariana
