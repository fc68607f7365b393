#include "formats/tokenizer/tokenizer_json.h"

#include "core/error.h"
#include "core/mapped_file.h"

namespace mariana {

namespace {

// nlohmann's SAX interface: builds the DOM like its own parser, except inside model.vocab
// and model.merges, whose entries go straight into the flat lists.
class TokenizerJsonReader {
public:
    TokenizerJsonReader(TokenizerJson& out, const std::string& what) : out_(out), what_(what) {}

    bool null() { return value(Json()); }
    bool boolean(bool v) { return value(Json(v)); }
    bool number_integer(int64_t v)
    {
        if (mode_ == Mode::Vocab) {
            out_.vocab.emplace_back(std::move(vocab_key_), v);
            return true;
        }
        return value(Json(v));
    }
    bool number_unsigned(uint64_t v)
    {
        if (mode_ == Mode::Vocab) return number_integer(v > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(v));
        return value(Json(v));
    }
    bool number_float(double v, const std::string&) { return value(Json(v)); }
    bool string(std::string& v)
    {
        if (mode_ == Mode::Merges) {
            const size_t space = v.find(' ');
            if (space == std::string::npos || v.find(' ', space + 1) != std::string::npos)
                fail("{}: model.merges[{}] '{}' is not two tokens separated by one space", what_, out_.merges.size(), v);
            std::string left = v.substr(0, space);
            v.erase(0, space + 1);
            out_.merges.emplace_back(std::move(left), std::move(v));
            return true;
        }
        if (mode_ == Mode::MergePair) {
            if (pair_.size() == 2) bad_merge();
            pair_.push_back(std::move(v));
            return true;
        }
        return value(Json(std::move(v)));
    }
    bool binary(Json::binary_t&) { return value(Json()); }  // never produced by text JSON

    bool start_object(size_t)
    {
        if (mode_ != Mode::Dom) return value(Json());  // fails with the member's message
        const bool vocab = at_model_member("vocab");
        Json* object = place(Json::object());
        if (vocab) {
            out_.vocab.clear();  // a repeated key replaces, as in a DOM
            mode_ = Mode::Vocab;
        } else {
            stack_.push_back({object, {}});
        }
        return true;
    }
    bool key(std::string& k)
    {
        if (mode_ == Mode::Vocab) vocab_key_ = std::move(k);
        else stack_.back().key = std::move(k);
        return true;
    }
    bool end_object()
    {
        if (mode_ == Mode::Vocab) mode_ = Mode::Dom;
        else stack_.pop_back();
        return true;
    }
    bool start_array(size_t)
    {
        if (mode_ == Mode::Merges) {
            mode_ = Mode::MergePair;
            pair_.clear();
            return true;
        }
        if (mode_ != Mode::Dom) return value(Json());
        const bool merges = at_model_member("merges");
        Json* array = place(Json::array());
        if (merges) {
            out_.merges.clear();
            mode_ = Mode::Merges;
        } else {
            stack_.push_back({array, {}});
        }
        return true;
    }
    bool end_array()
    {
        if (mode_ == Mode::MergePair) {
            if (pair_.size() != 2) bad_merge();
            out_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
            mode_ = Mode::Merges;
        } else if (mode_ == Mode::Merges) {
            mode_ = Mode::Dom;
        } else {
            stack_.pop_back();
        }
        return true;
    }
    bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception&)
    {
        fail("{}: invalid JSON at byte {}", what_, position);
    }

private:
    enum class Mode { Dom, Vocab, Merges, MergePair };
    struct Frame {
        Json* container;
        std::string key;  // the pending key when the container is an object
    };

    // True when the value about to start is model.<name> of the root object.
    bool at_model_member(std::string_view name) const
    {
        return stack_.size() == 2 && stack_[0].container->is_object() && stack_[0].key == "model" &&
               stack_[1].container->is_object() && stack_[1].key == name;
    }

    [[noreturn]] void bad_merge() const
    {
        fail("{}: model.merges[{}] must be \"a b\" or [\"a\", \"b\"]", what_, out_.merges.size());
    }

    // Puts a value where the parser is; returns where it now lives.
    Json* place(Json v)
    {
        if (stack_.empty()) {
            out_.document = std::move(v);
            return &out_.document;
        }
        Frame& top = stack_.back();
        if (top.container->is_array()) {
            top.container->push_back(std::move(v));
            return &top.container->back();
        }
        Json& slot = (*top.container)[top.key];
        slot = std::move(v);
        return &slot;
    }

    bool value(Json v)
    {
        switch (mode_) {
        case Mode::Dom: place(std::move(v)); return true;
        case Mode::Vocab: fail("{}: model.vocab['{}'] must be an integer id", what_, vocab_key_);
        case Mode::Merges:
        case Mode::MergePair: bad_merge();
        }
        return false;
    }

    TokenizerJson& out_;
    const std::string& what_;
    std::vector<Frame> stack_;
    Mode mode_ = Mode::Dom;
    std::string vocab_key_;
    std::vector<std::string> pair_;
};

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& what)
{
    TokenizerJson out;
    TokenizerJsonReader reader(out, what);
    try {
        Json::sax_parse(text.begin(), text.end(), &reader);
    } catch (const Json::exception& e) {
        fail("{}: invalid JSON: {}", what, e.what());  // e.g. out_of_range for 1e999
    }
    return out;
}

TokenizerJson read_tokenizer_json(const std::string& path)
{
    const MappedFile file = MappedFile::open(path);
    const auto bytes = file.bytes();
    return parse_tokenizer_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

}  // namespace mariana
