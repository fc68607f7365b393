#include "formats/tokenizer/tokenizer.h"

#include "core/error.h"
#include "core/utf8.h"
#include "formats/tokenizer/byte_level.h"
#include "formats/tokenizer/post_processor.h"

#include <algorithm>
#include <filesystem>

namespace mariana {

namespace {

const Json& member(const Json& object, const char* key)
{
    static const Json null;
    return object.is_object() && object.contains(key) ? object[key] : null;
}

std::string type_of(const Json& spec) { return member(spec, "type").is_string() ? spec["type"].get<std::string>() : ""; }

// Turns the merges from the byte-level alphabet into the bytes they stand for, in place.
void decode_merges(std::vector<std::pair<std::string, std::string>>& merges, const ByteLevel& alphabet,
                   const std::string& what)
{
    for (size_t i = 0; i < merges.size(); ++i) {
        auto& [left, right] = merges[i];
        auto l = alphabet.decode(left), r = alphabet.decode(right);
        if (!l || !r) fail("{}: model.merges[{}] has a character outside the byte-level alphabet", what, i);
        left = std::move(*l);
        right = std::move(*r);
    }
}

const ByteLevel& byte_level_alphabet()
{
    static const ByteLevel alphabet;
    return alphabet;
}

void check_model(const Json& model, const std::string& what)
{
    if (type_of(model) != "BPE")
        fail("{}: model type '{}' is not supported (BPE)", what, type_of(model).empty() ? "?" : type_of(model));
    if (!member(model, "vocab").is_object()) fail("{}: model.vocab must be an object", what);
    if (!member(model, "merges").is_array()) fail("{}: model.merges must be a list", what);
    if (member(model, "byte_fallback").is_boolean() && model["byte_fallback"].get<bool>())
        fail("{}: model.byte_fallback is not supported (byte-level BPE needs none)", what);
    if (!member(model, "dropout").is_null() && !(model["dropout"].is_number() && model["dropout"].get<double>() == 0))
        fail("{}: model.dropout is not supported", what);
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        const Json& v = member(model, key);
        if (!v.is_null() && !(v.is_string() && v.get<std::string>().empty()))
            fail("{}: model.{} is not supported", what, key);
    }
}

void check_decoder(const Json& decoder, const std::string& what)
{
    const std::string type = type_of(decoder);
    if (type == "ByteLevel") return;
    if (type == "Sequence" && member(decoder, "decoders").is_array()) {
        for (const Json& inner : decoder["decoders"]) check_decoder(inner, what);
        return;
    }
    fail("{}: decoder '{}' is not supported (ByteLevel)", what, type.empty() ? "null" : type);
}

// Transformers' clean_up_tokenization, applied in its order.
std::string clean_up_spaces(std::string text)
{
    static const std::pair<std::string_view, std::string_view> kRules[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) {
        std::string out;
        size_t pos = 0;
        for (size_t hit; (hit = text.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
            out.append(text, pos, hit - pos);
            out.append(to);
        }
        out.append(text, pos);
        text = std::move(out);
    }
    return text;
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& dir)
{
    const std::string path = dir + "/tokenizer.json";
    if (!std::filesystem::exists(path)) fail("{}: no tokenizer.json in this folder", dir);
    const std::string config_path = dir + "/tokenizer_config.json";
    const Json config = std::filesystem::exists(config_path) ? read_json_file(config_path) : Json();
    return from_json(read_tokenizer_json(path), config, path);
}

Tokenizer Tokenizer::from_json(TokenizerJson source, const Json& config, const std::string& what)
{
    const Json& json = source.document;
    if (!json.is_object()) fail("{}: must be a JSON object", what);
    Tokenizer t;
    const ByteLevel& alphabet = byte_level_alphabet();
    const Json& model = member(json, "model");
    check_model(model, what);
    check_decoder(member(json, "decoder"), what);
    t.normalizer_ = std::make_unique<Normalizer>(member(json, "normalizer"), what);
    t.pre_tokenizer_ = std::make_unique<PreTokenizer>(member(json, "pre_tokenizer"), what);

    const Json& added_json = member(json, "added_tokens");
    if (!added_json.is_null() && !added_json.is_array()) fail("{}: added_tokens must be a list", what);
    constexpr int64_t kMaxId = 1 << 24;
    auto check_id = [&](int64_t id) {
        if (id < 0 || id > kMaxId) fail("{}: token id {} is out of range", what, id);
        return static_cast<int32_t>(id);
    };
    int32_t size = 0;
    for (const auto& [text, id] : source.vocab) size = std::max(size, check_id(id) + 1);
    for (const Json& a : added_json)
        if (member(a, "id").is_number_integer()) size = std::max(size, check_id(a["id"].get<int64_t>()) + 1);
    t.id_bytes_.resize(size);
    t.id_text_.resize(size);
    t.has_token_.resize(size);
    t.special_.resize(size);

    // `bytes`: what the token stands for; nothing when `text` is outside the alphabet (e.g.
    // "<｜User｜>"), which then stands for its own UTF-8.
    auto define = [&](int32_t id, std::string text, std::optional<std::string> bytes, bool special) {
        if (!bytes) {
            t.id_bytes_[id] = text;
            t.other_text_to_id_[text] = id;
        } else {
            t.id_bytes_[id] = std::move(*bytes);
        }
        t.id_text_[id] = std::move(text);
        t.has_token_[id] = true;
        t.special_[id] = special;
    };

    TokenMap vocab;
    vocab.reserve(source.vocab.size());
    for (auto& [text, id] : source.vocab) {
        std::optional<std::string> bytes = alphabet.decode(text);
        // Entries outside the alphabet cannot come out of merges; only decode needs them.
        if (bytes) vocab.emplace(*bytes, int32_t(id));
        define(int32_t(id), std::move(text), std::move(bytes), false);
    }
    const bool ignore_merges = member(model, "ignore_merges").is_boolean() && model["ignore_merges"].get<bool>();
    decode_merges(source.merges, alphabet, what);
    t.bpe_ = std::make_unique<Bpe>(std::move(vocab), source.merges, ignore_merges, what);

    std::vector<AddedToken> added;
    for (const Json& a : added_json) {
        if (!member(a, "id").is_number_integer() || !member(a, "content").is_string())
            fail("{}: every added token needs an integer \"id\" and a string \"content\"", what);
        auto flag = [&](const char* key) { return member(a, key).is_boolean() && a[key].get<bool>(); };
        AddedToken token{a["content"].get<std::string>(), a["id"].get<int32_t>(), flag("special"), flag("normalized"),
                         flag("lstrip"), flag("rstrip")};
        if (flag("single_word")) fail("{}: added token '{}' uses single_word, which is not supported", what, token.content);
        define(token.id, token.content, alphabet.decode(token.content), token.special);
        t.other_text_to_id_[token.content] = token.id;  // found directly, even where the vocabulary has it too
        added.push_back(std::move(token));
    }
    t.added_ = AddedVocabulary(added, [&](const std::string& s) { return t.normalizer_->apply(s); }, what);

    auto lookup = [&](std::string_view content) { return t.token_id(content); };
    const SpecialTokensAround around = parse_post_processor(member(json, "post_processor"), config, lookup, what);
    t.prefix_ = around.prefix;
    t.suffix_ = around.suffix;
    for (const int32_t id : t.prefix_) t.token_bytes(id);  // throws for an id with no token
    for (const int32_t id : t.suffix_) t.token_bytes(id);

    auto config_id = [&](const char* key) {
        const std::optional<std::string> content = config_token(config, key);
        return content ? t.token_id(*content).value_or(-1) : -1;
    };
    t.bos_id_ = config_id("bos_token");
    t.eos_id_ = config_id("eos_token");
    t.clean_up_spaces_ = member(config, "clean_up_tokenization_spaces").is_boolean() &&
                         config["clean_up_tokenization_spaces"].get<bool>();
    return t;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view content) const
{
    if (const auto it = other_text_to_id_.find(std::string(content)); it != other_text_to_id_.end()) return it->second;
    const std::optional<std::string> bytes = byte_level_alphabet().decode(content);
    if (!bytes) return std::nullopt;
    const std::optional<int32_t> id = bpe_->token_id(*bytes);
    if (id && id_text_[*id] == content) return id;
    return std::nullopt;
}

const std::string& Tokenizer::token_bytes(int32_t id) const
{
    if (id < 0 || id >= vocab_size() || !has_token_[id]) fail("token id {} is not in the vocabulary", id);
    return id_bytes_[id];
}

const std::string& Tokenizer::token_text(int32_t id) const
{
    token_bytes(id);
    return id_text_[id];
}

void Tokenizer::encode_plain(std::string_view text, std::vector<int32_t>& ids) const
{
    std::vector<std::string_view> pieces;
    std::deque<std::string> arena;
    pre_tokenizer_->split(text, pieces, arena);
    for (const std::string_view piece : pieces) bpe_->encode(piece, ids);
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, bool add_special_tokens) const
{
    std::string repaired;
    std::string_view text = input;
    if (!utf8_is_valid(input)) text = repaired = utf8_repair(input);

    std::vector<int32_t> ids;
    if (add_special_tokens) ids = prefix_;
    std::vector<AddedVocabulary::Segment> raw, normalized_segments;
    added_.split(text, false, raw);
    for (const auto& segment : raw) {
        if (segment.id >= 0) {
            ids.push_back(segment.id);
            continue;
        }
        std::string_view stretch = text.substr(segment.begin, segment.end - segment.begin);
        std::string normalized;
        if (!normalizer_->empty()) stretch = normalized = normalizer_->apply(stretch);
        normalized_segments.clear();
        added_.split(stretch, true, normalized_segments);
        for (const auto& inner : normalized_segments) {
            if (inner.id >= 0) ids.push_back(inner.id);
            else encode_plain(stretch.substr(inner.begin, inner.end - inner.begin), ids);
        }
    }
    if (add_special_tokens) ids.insert(ids.end(), suffix_.begin(), suffix_.end());
    return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, DecodeOptions options) const
{
    std::string bytes;
    for (const int32_t id : ids) {
        const std::string& b = token_bytes(id);
        if (!(options.skip_special_tokens && special_[id])) bytes += b;
    }
    std::string text = utf8_repair(bytes);
    return options.clean_up_spaces.value_or(clean_up_spaces_) ? clean_up_spaces(std::move(text)) : text;
}

}  // namespace mariana
