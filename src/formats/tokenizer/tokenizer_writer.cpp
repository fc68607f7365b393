#include "formats/tokenizer/tokenizer_writer.h"

#include "core/error.h"
#include "core/staged_directory.h"
#include "core/text_file.h"
#include "formats/tokenizer/byte_level.h"

#include <unordered_set>

namespace mariana {

using OrderedJson = nlohmann::ordered_json;

namespace {

constexpr int32_t kFirstByteId = static_cast<int32_t>(kTrainedSpecialTokens.size());

std::string token_string(TrainedSpecialToken t) { return std::string(t.content); }

// DeepSeek-R1's template reduced to what these tokens support: BOS, then every system
// message joined by a blank line; "<｜User｜>" + content; "<｜Assistant｜>" + the content after
// the last "</think>" (earlier reasoning is not shown to the model again) +
// "<｜end▁of▁sentence｜>"; and the generation prompt "<｜Assistant｜><think>\n". No tool calls:
// a message with another role, or an assistant message without text, is an error. One line
// with explicit whitespace control, as DeepSeek writes it, so every Jinja port renders it the
// same (newlines inside string literals are raw characters, not escapes); "| last" instead
// of R1's "[-1]", which @lenml/tokenizers' parser rejects after a call.
const std::string kChatTemplate =
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(system_prompt='', is_first_sp=true) %}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'system' %}"
    "{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}"
    "{% set ns.is_first_sp = false %}"
    "{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
    "{%- elif message['role'] == 'assistant' %}"
    "{%- if message['content'] is none %}"
    "{{ raise_exception('an assistant message needs text content: this template has no tool calls') }}"
    "{%- endif %}"
    "{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>') | last %}{% endif %}"
    "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}"
    "{%- elif message['role'] != 'system' %}"
    "{{ raise_exception('message role ' + message['role'] + ' is not supported: system, user or assistant') }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\n' }}{% endif %}";

OrderedJson added_token_json(int32_t id, TrainedSpecialToken t)
{
    return {{"id", id},          {"content", token_string(t)}, {"single_word", false},       {"lstrip", false},
            {"rstrip", false},   {"normalized", t.normalized},  {"special", t.special}};
}

// What transformers' LlamaTokenizerFast builds from add_bos_token/add_eos_token (BOS before
// each sequence), written out so that every library adds it, not only transformers.
OrderedJson bos_template()
{
    const std::string bos = token_string(kTrainedSpecialTokens[kTrainedBosId]);
    auto special = [&](int type_id) { return OrderedJson{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}}; };
    auto sequence = [](const char* id, int type_id) { return OrderedJson{{"Sequence", {{"id", id}, {"type_id", type_id}}}}; };
    OrderedJson bos_entry = {{"id", bos}, {"ids", OrderedJson::array({kTrainedBosId})}, {"tokens", OrderedJson::array({bos})}};
    return {{"type", "TemplateProcessing"},
            {"single", {special(0), sequence("A", 0)}},
            {"pair", {special(0), sequence("A", 0), special(1), sequence("B", 1)}},
            {"special_tokens", {{bos, std::move(bos_entry)}}}};
}

void write_file(const std::string& path, const OrderedJson& json) { write_text_file(path, json.dump(2) + "\n"); }

}  // namespace

std::vector<std::string> trained_special_token_contents()
{
    std::vector<std::string> out;
    for (const TrainedSpecialToken& t : kTrainedSpecialTokens) out.push_back(token_string(t));
    return out;
}

const std::string& trained_chat_template() { return kChatTemplate; }

OrderedJson trained_tokenizer_json(const BpeModel& model)
{
    MARIANA_CHECK(model.tokens.size() >= 256, "a BPE model starts with the 256 single bytes");
    const ByteLevel alphabet;
    std::vector<std::string> spelled;  // index: BPE token id; byte-level alphabet
    spelled.reserve(model.tokens.size());
    for (const std::string& bytes : model.tokens) {
        std::string text;
        alphabet.encode(bytes, text);
        spelled.push_back(std::move(text));
    }

    // ordered_json finds keys by linear search, so entries are appended to its vector
    // directly, after a duplicate check in a hash set: O(n), not O(n^2), for large vocabularies.
    OrderedJson added = OrderedJson::array();
    OrderedJson vocab = OrderedJson::object();
    auto& entries = vocab.get_ref<OrderedJson::object_t&>();
    entries.reserve(kFirstByteId + spelled.size());
    std::unordered_set<std::string> seen;
    auto add_entry = [&](const std::string& text, int32_t id) {
        // A special token written entirely in alphabet characters ("<think>") cannot collide:
        // the trainer never sees the special tokens, so no learned token spells one.
        MARIANA_CHECK(seen.insert(text).second, "token '{}' is in the vocabulary twice", text);
        entries.emplace_back(text, id);
    };
    for (int32_t id = 0; id < kFirstByteId; ++id) {
        added.push_back(added_token_json(id, kTrainedSpecialTokens[id]));
        add_entry(token_string(kTrainedSpecialTokens[id]), id);
    }
    for (size_t i = 0; i < spelled.size(); ++i) add_entry(spelled[i], kFirstByteId + static_cast<int32_t>(i));
    OrderedJson merges = OrderedJson::array();
    for (const auto& [left, right] : model.merges) merges.push_back(spelled[left] + " " + spelled[right]);

    return {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", std::move(added)},
        {"normalizer", {{"type", "Sequence"}, {"normalizers", OrderedJson::array()}}},
        {"pre_tokenizer", deepseek_v3_pre_tokenizer()},
        {"post_processor",
         {{"type", "Sequence"},
          {"processors",
           {{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}},
            bos_template()}}}},
        {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", false},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}}},
    };
}

OrderedJson trained_tokenizer_config(int64_t model_max_length)
{
    OrderedJson decoder = OrderedJson::object();
    for (int32_t id = 0; id < kFirstByteId; ++id) {
        const TrainedSpecialToken t = kTrainedSpecialTokens[id];
        decoder[std::to_string(id)] = {{"content", token_string(t)}, {"lstrip", false}, {"normalized", t.normalized},
                                       {"rstrip", false},           {"single_word", false}, {"special", t.special}};
    }
    return {
        {"add_bos_token", true},
        {"add_eos_token", false},
        {"added_tokens_decoder", std::move(decoder)},
        {"bos_token", token_string(kTrainedSpecialTokens[kTrainedBosId])},
        {"chat_template", kChatTemplate},
        {"clean_up_tokenization_spaces", false},
        {"eos_token", token_string(kTrainedSpecialTokens[kTrainedEosId])},
        {"legacy", true},  // transformers.js swaps in a Metaspace pre-tokenizer when false
        {"model_max_length", model_max_length},
        {"pad_token", token_string(kTrainedSpecialTokens[kTrainedPadId])},
        {"tokenizer_class", "LlamaTokenizerFast"},
        {"unk_token", nullptr},
    };
}

void write_trained_tokenizer(const BpeModel& model, const std::string& dir, const TokenizerWriteOptions& options)
{
    StagedDirectory out(dir);
    const std::string& staging = out.path();
    write_file(staging + "/tokenizer.json", trained_tokenizer_json(model));
    write_file(staging + "/tokenizer_config.json", trained_tokenizer_config(options.model_max_length));
    out.commit();
}

}  // namespace mariana
