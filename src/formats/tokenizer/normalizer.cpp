#include "formats/tokenizer/normalizer.h"

#include "core/error.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace mariana {

namespace {

void collect(const Json& spec, const std::string& what, std::vector<int>& forms)
{
    if (spec.is_null()) return;
    if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string())
        fail("{}: normalizer must be an object with a \"type\"", what);
    const std::string type = spec["type"].get<std::string>();
    if (type == "Sequence") {
        if (!spec.contains("normalizers") || !spec["normalizers"].is_array())
            fail("{}: Sequence normalizer needs a \"normalizers\" list", what);
        for (const Json& inner : spec["normalizers"]) collect(inner, what, forms);
    } else if (type == "NFC") {
        forms.push_back(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    } else if (type == "NFD") {
        forms.push_back(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    } else if (type == "NFKC") {
        forms.push_back(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    } else if (type == "NFKD") {
        forms.push_back(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
    } else {
        fail("{}: normalizer '{}' is not supported (NFC, NFD, NFKC, NFKD, Sequence)", what, type);
    }
}

}  // namespace

Normalizer::Normalizer(const Json& spec, const std::string& what) { collect(spec, what, forms_); }

std::string Normalizer::apply(std::string_view text) const
{
    // ASCII is invariant under every normal form; most text takes this path.
    if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
        return std::string(text);
    std::string current(text);
    for (const int form : forms_) {
        utf8proc_uint8_t* mapped = nullptr;
        // An explicit length (no UTF8PROC_NULLTERM): NUL characters are ordinary text.
        const utf8proc_ssize_t length =
            utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(current.data()),
                         static_cast<utf8proc_ssize_t>(current.size()), &mapped, static_cast<utf8proc_option_t>(form));
        std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
        if (length < 0) fail("normalization failed: {}", utf8proc_errmsg(length));
        current.assign(reinterpret_cast<const char*>(mapped), static_cast<size_t>(length));
    }
    return current;
}

}  // namespace mariana
