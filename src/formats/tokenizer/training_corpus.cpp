#include "formats/tokenizer/training_corpus.h"

#include "core/error.h"
#include "core/json.h"
#include "core/utf8.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace mariana {

namespace {

constexpr size_t kReadBytes = 1 << 20;         // one read, and the usual plain-text document
constexpr size_t kMaxDocumentBytes = 16 << 20;  // a plain-text line longer than this is cut anywhere
constexpr size_t kBatchBytes = 8 << 20;         // documents handed to the counter at once

bool has_json_lines_name(const std::string& path)
{
    return path.ends_with(".jsonl") || path.ends_with(".json");
}

std::ifstream open_or_fail(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open: {}", path, std::strerror(errno));
    return in;
}

// `text` with invalid UTF-8 repaired; adds the number of repaired sequences to `repaired`.
std::string repaired_text(std::string text, int64_t& repaired)
{
    if (utf8_is_valid(text)) return text;
    for (size_t pos = 0; pos < text.size();) {
        int invalid = 0;
        const int valid = utf8_valid_prefix(std::string_view(text).substr(pos), invalid);
        if (valid == 0) ++repaired;
        pos += valid > 0 ? valid : invalid;
    }
    return utf8_repair(text);
}

// Where plain text may be cut without changing its pieces: just after a '\n' whose next
// character is not whitespace. Returns the last such offset, or 0.
size_t last_safe_cut(std::string_view text)
{
    for (size_t i = text.rfind('\n'); i != std::string_view::npos && i > 0; i = text.rfind('\n', i - 1)) {
        const std::string_view rest = text.substr(i + 1);
        if (rest.empty()) continue;
        int invalid = 0;
        if (utf8_valid_prefix(rest, invalid) == 0) {
            if (static_cast<size_t>(invalid) < rest.size()) return i + 1;  // invalid bytes: U+FFFD, a symbol
            continue;                                                     // maybe a character cut by the read
        }
        size_t pos = 0;
        if (!is_unicode_whitespace(utf8_next(rest, pos))) return i + 1;
    }
    return 0;
}

// The last character boundary of `text` (before a byte that is not a continuation byte).
size_t last_character_boundary(std::string_view text)
{
    size_t i = text.size();
    while (i > 0 && (static_cast<unsigned char>(text[i - 1]) & 0xC0) == 0x80) --i;
    return i > 0 ? i - 1 : text.size();
}

class Batch {
public:
    Batch(WordCounter& counter, ThreadPool& pool, CorpusFileStats& stats) : counter_(counter), pool_(pool), stats_(stats) {}
    void add(std::string document)
    {
        document = repaired_text(std::move(document), stats_.repaired_sequences);
        bytes_ += document.size();
        documents_.push_back(std::move(document));
        ++stats_.documents;
        if (bytes_ >= kBatchBytes) flush();
    }
    void flush()
    {
        counter_.add(documents_, pool_);
        documents_.clear();
        bytes_ = 0;
    }

private:
    WordCounter& counter_;
    ThreadPool& pool_;
    CorpusFileStats& stats_;
    std::vector<std::string> documents_;
    size_t bytes_ = 0;
};

void read_plain_text(const std::string& path, std::ifstream& in, Batch& batch, CorpusFileStats& stats)
{
    std::string pending;
    std::vector<char> block(kReadBytes);
    for (;;) {
        in.read(block.data(), static_cast<std::streamsize>(block.size()));
        const auto got = static_cast<size_t>(in.gcount());
        if (in.bad()) fail("{}: read error after {} bytes", path, stats.bytes);
        stats.bytes += static_cast<int64_t>(got);
        pending.append(block.data(), got);
        const bool at_end = got < block.size();
        if (at_end) break;
        if (pending.size() < kReadBytes) continue;
        size_t cut = last_safe_cut(pending);
        if (cut == 0 && pending.size() >= kMaxDocumentBytes) cut = last_character_boundary(pending);
        if (cut == 0) continue;
        batch.add(pending.substr(0, cut));
        pending.erase(0, cut);
    }
    if (!pending.empty()) batch.add(std::move(pending));
}

void read_json_lines(const std::string& path, std::ifstream& in, Batch& batch, CorpusFileStats& stats)
{
    std::string line;
    for (int64_t number = 1; std::getline(in, line, '\n'); ++number) {
        stats.bytes += static_cast<int64_t>(line.size()) + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = fmt::format("{}:{}", path, number);
        // Repaired before parsing (the JSON parser rejects invalid UTF-8); the text is then valid.
        const Json record = parse_json(repaired_text(std::move(line), stats.repaired_sequences), where);
        if (!record.is_object() || !record.contains("text") || !record["text"].is_string())
            fail("{}: expected a JSON object with a string \"text\" field", where);
        batch.add(record["text"].get<std::string>());
    }
    if (in.bad()) fail("{}: read error after {} bytes", path, stats.bytes);
}

}  // namespace

CorpusFileStats count_corpus_file(const std::string& path, WordCounter& counter, ThreadPool& pool)
{
    std::ifstream in = open_or_fail(path);
    CorpusFileStats stats;
    Batch batch(counter, pool, stats);
    if (has_json_lines_name(path)) read_json_lines(path, in, batch, stats);
    else read_plain_text(path, in, batch, stats);
    batch.flush();
    return stats;
}

}  // namespace mariana
