#include "formats/tokenizer/post_processor.h"

#include "core/error.h"

namespace mariana {

namespace {

const Json& member(const Json& object, const char* key)
{
    static const Json null;
    return object.is_object() && object.contains(key) ? object[key] : null;
}

bool config_flag(const Json& config, const char* key, bool fallback)
{
    return member(config, key).is_boolean() ? config[key].get<bool>() : fallback;
}

void add_template(const Json& spec, SpecialTokensAround& out, const std::string& what)
{
    const Json& single = member(spec, "single");
    if (!single.is_array()) fail("{}: TemplateProcessing needs a \"single\" list", what);
    bool after_sequence = false;
    for (const Json& item : single) {
        if (item.contains("Sequence")) {
            if (after_sequence) fail("{}: TemplateProcessing.single names the sequence twice", what);
            after_sequence = true;
            continue;
        }
        const Json& name = member(member(item, "SpecialToken"), "id");
        if (!name.is_string()) fail("{}: TemplateProcessing.single has an item that is neither Sequence nor SpecialToken", what);
        const Json& ids = member(member(member(spec, "special_tokens"), name.get<std::string>().c_str()), "ids");
        if (!ids.is_array()) fail("{}: TemplateProcessing.special_tokens has no ids for '{}'", what, name.get<std::string>());
        for (const Json& id : ids) {
            if (!id.is_number_integer()) fail("{}: TemplateProcessing ids of '{}' must be integers", what, name.get<std::string>());
            (after_sequence ? out.suffix : out.prefix).push_back(id.get<int32_t>());
        }
    }
    if (!after_sequence) fail("{}: TemplateProcessing.single never places the sequence ($A)", what);
}

void add_processor(const Json& spec, SpecialTokensAround& out, const std::string& what)
{
    if (spec.is_null()) return;
    const std::string type = member(spec, "type").is_string() ? spec["type"].get<std::string>() : "";
    auto pair_id = [&](const char* key) {
        const Json& pair = member(spec, key);
        if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_integer())
            fail("{}: {}.{} must be [token, id]", what, type, key);
        return pair[1].get<int32_t>();
    };
    if (type == "ByteLevel") return;  // adjusts offsets only
    if (type == "TemplateProcessing") {
        add_template(spec, out, what);
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
        out.prefix.push_back(pair_id("cls"));
        out.suffix.push_back(pair_id("sep"));
    } else if (type == "Sequence" && member(spec, "processors").is_array()) {
        for (const Json& inner : spec["processors"]) add_processor(inner, out, what);
    } else {
        fail("{}: post_processor '{}' is not supported (TemplateProcessing, ByteLevel, RobertaProcessing, "
             "BertProcessing, Sequence)",
             what, type.empty() ? "?" : type);
    }
}

}  // namespace

std::optional<std::string> config_token(const Json& config, const char* key)
{
    const Json& value = member(config, key);
    if (value.is_string()) return value.get<std::string>();
    if (member(value, "content").is_string()) return value["content"].get<std::string>();
    return std::nullopt;
}

SpecialTokensAround parse_post_processor(const Json& spec, const Json& config,
                                         const std::function<std::optional<int32_t>(std::string_view)>& lookup,
                                         const std::string& what)
{
    const std::string tokenizer_class = member(config, "tokenizer_class").is_string()
                                            ? config["tokenizer_class"].get<std::string>()
                                            : "";
    const bool llama_override = (tokenizer_class == "LlamaTokenizerFast" || tokenizer_class == "LlamaTokenizer") &&
                                (config.contains("add_bos_token") || config.contains("add_eos_token"));
    SpecialTokensAround out;
    if (!llama_override) {
        add_processor(spec, out, what);
        return out;
    }
    auto id_of = [&](const char* key) {
        const std::optional<std::string> content = config_token(config, key);
        if (!content) fail("{}: tokenizer_config.json sets add_{} but has no {}", what, key, key);
        const std::optional<int32_t> id = lookup(*content);
        if (!id) fail("{}: tokenizer_config.json's {} '{}' is not a token", what, key, *content);
        return *id;
    };
    if (config_flag(config, "add_bos_token", true)) out.prefix.push_back(id_of("bos_token"));
    if (config_flag(config, "add_eos_token", false)) out.suffix.push_back(id_of("eos_token"));
    return out;
}

}  // namespace mariana
