#include "train/token_data.h"

#include "core/error.h"
#include "core/json.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace mariana::train {

namespace {

// Buffers ids and appends them to the stream file, checking each against the vocabulary.
class StreamWriter {
public:
    StreamWriter(const std::string& path, int64_t vocab) : out_(path, std::ios::binary | std::ios::trunc), vocab_(vocab)
    {
        if (!out_) fail("cannot write {}", path);
    }
    // Ids from the tokenizer: one past the model's vocabulary means the two do not match.
    void add(std::span<const int32_t> ids, const std::string& source)
    {
        for (const int32_t id : ids)
            if (id >= vocab_)
                fail("{}: the tokenizer gives id {}, not below the model's vocab_size {}: tokenizer and model do not match",
                     source, id, vocab_);
        for (const int32_t id : ids) append(uint32_t(id));
    }
    void add(int64_t id, const std::string& source, int64_t offset)
    {
        if (id < 0 || id >= vocab_)
            fail("{}: token id {} at byte {} is not below the model's vocab_size {}", source, id, offset, vocab_);
        append(uint32_t(id));
    }
    void append(uint32_t v)
    {
        for (int i = 0; i < 4; ++i) buffer_.push_back(char((v >> (8 * i)) & 0xff));
        if (buffer_.size() >= (1u << 20)) flush();
    }
    void flush()
    {
        out_.write(buffer_.data(), std::streamsize(buffer_.size()));
        buffer_.clear();
    }

private:
    std::ofstream out_;
    int64_t vocab_;
    std::string buffer_;
};

void copy_binary(const std::string& source, StreamWriter& out)
{
    const MappedFile file = MappedFile::open(source);
    const auto bytes = file.bytes();
    if (bytes.size() % 4 != 0)
        fail("{}: {} bytes is not a whole number of uint32 token ids (truncated?)", source, bytes.size());
    for (size_t i = 0; i < bytes.size(); i += 4) {
        uint32_t v = 0;
        for (int b = 0; b < 4; ++b) v |= uint32_t(bytes[i + size_t(b)]) << (8 * b);
        out.add(int64_t(v), source, int64_t(i));
    }
}

const Tokenizer& tokenizer_for(const DataSpec& spec, const std::string& source)
{
    if (!spec.tokenizer) fail("{}: text data needs a tokenizer (tokenizer.json in the model folder, or --tokenizer)", source);
    if (spec.eos < 0) fail("{}: text data needs eos_token_id in the model's config.json to separate documents", source);
    if (spec.eos >= spec.vocab_size)
        fail("{}: eos_token_id {} is not below the model's vocab_size {}", source, spec.eos, spec.vocab_size);
    return *spec.tokenizer;
}

void tokenize_jsonl(const DataSpec& spec, const std::string& source, StreamWriter& out)
{
    const Tokenizer& tokenizer = tokenizer_for(spec, source);
    std::ifstream in(source, std::ios::binary);
    if (!in) fail("cannot open {}", source);
    int64_t line_number = 0;
    for (std::string line; std::getline(in, line, '\n');) {
        ++line_number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = fmt::format("{} line {}", source, line_number);
        const Json doc = parse_json(line, where);
        if (!doc.is_object() || !doc.contains("text") || !doc["text"].is_string())
            fail("{}: expected a JSON object with a string field \"text\"", where);
        out.add(tokenizer.encode(doc["text"].get_ref<const std::string&>(), true), where);
        out.append(uint32_t(spec.eos));
    }
}

void tokenize_text(const DataSpec& spec, const std::string& source, StreamWriter& out)
{
    const Tokenizer& tokenizer = tokenizer_for(spec, source);
    std::ifstream in(source, std::ios::binary);
    if (!in) fail("cannot open {}", source);
    // Encoded in pieces of about a megabyte so memory stays bounded, each cut after a
    // newline that a non-space character follows: the pre-tokenizers never join a piece
    // across such a point, so the ids equal those of encoding the file whole. The first
    // piece carries the document's special tokens (e.g. BOS).
    constexpr size_t kPiece = size_t(1) << 20;
    std::string piece;
    bool first = true;
    auto encode_piece = [&] {
        out.add(tokenizer.encode(piece, first), source);
        piece.clear();
        first = false;
    };
    for (std::string line; std::getline(in, line, '\n');) {
        const bool cut_here = !line.empty() && !std::isspace(static_cast<unsigned char>(line[0]));
        if (piece.size() >= kPiece && cut_here) encode_piece();
        piece += line;
        if (!in.eof()) piece += '\n';
    }
    if (!piece.empty() || first) encode_piece();
    out.append(uint32_t(spec.eos));
}

// splitmix64: the shuffle's random numbers, the same on every platform.
uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

void write_token_stream(const DataSpec& spec, const std::string& path)
{
    if (spec.sources.empty()) fail("no training data given (--data FILE...)");
    const std::string partial = path + ".partial";
    {
        StreamWriter out(partial, spec.vocab_size);
        for (const std::string& source : spec.sources) {
            if (!std::filesystem::is_regular_file(source)) fail("{}: no such data file", source);
            if (source.ends_with(".bin")) copy_binary(source, out);
            else if (source.ends_with(".jsonl")) tokenize_jsonl(spec, source, out);
            else tokenize_text(spec, source, out);
        }
        out.flush();
    }
    std::error_code error;
    std::filesystem::rename(partial, path, error);
    if (error) fail("cannot rename {} to {}: {}", partial, path, error.message());
}

TokenWindows::TokenWindows(const std::string& stream_path, int64_t length, double val_fraction, uint64_t seed)
    : file_(MappedFile::open(stream_path)), length_(length), seed_(seed)
{
    const auto bytes = file_.bytes();
    ids_ = {reinterpret_cast<const uint32_t*>(bytes.data()), bytes.size() / 4};
    const int64_t n = tokens();
    // Held out: the tail, at least one window when a fraction is asked for.
    int64_t held_out = val_fraction > 0 ? std::max<int64_t>(int64_t(double(n) * val_fraction), length + 1) : 0;
    val_begin_ = n - held_out;
    train_windows_ = val_begin_ > length ? (val_begin_ - 1) / length : 0;
    val_windows_ = held_out > length ? (held_out - 1) / length : 0;
    if (train_windows_ == 0)
        fail("the data has {} tokens: too few for one training window of --seq-len {} + 1{}", n, length,
             held_out ? fmt::format(" after holding out {} for validation", held_out) : "");
}

void TokenWindows::copy_window(int64_t start, int32_t* out) const
{
    for (int64_t i = 0; i <= length_; ++i) out[i] = int32_t(ids_[size_t(start + i)]);
}

void TokenWindows::train_batch(int64_t index, int64_t count, int32_t* out)
{
    for (int64_t k = 0; k < count; ++k, out += length_ + 1) {
        const int64_t g = index + k, epoch = g / train_windows_;
        if (epoch != epoch_) {  // Fisher-Yates with the epoch's own seed
            order_.resize(size_t(train_windows_));
            for (int64_t i = 0; i < train_windows_; ++i) order_[size_t(i)] = i;
            uint64_t state = mix(seed_ ^ mix(uint64_t(epoch)));
            for (int64_t i = train_windows_ - 1; i > 0; --i) {
                state = mix(state);
                std::swap(order_[size_t(i)], order_[state % uint64_t(i + 1)]);
            }
            epoch_ = epoch;
        }
        copy_window(order_[size_t(g % train_windows_)] * length_, out);
    }
}

void TokenWindows::val_window(int64_t i, int32_t* out) const { copy_window(val_begin_ + i * length_, out); }

}  // namespace mariana::train
