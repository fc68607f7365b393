// tokenizer.json's "normalizer": Unicode normal forms (NFC, NFD, NFKC, NFKD, via utf8proc)
// and Sequence. Other normalizers are rejected when the file is loaded.
#pragma once

#include "core/json.h"

#include <string>
#include <string_view>
#include <vector>

namespace mariana {

class Normalizer {
public:
    // `spec` is the "normalizer" value (null: none). Throws Error naming `what` and the
    // type for an unsupported normalizer.
    Normalizer(const Json& spec, const std::string& what);

    bool empty() const { return forms_.empty(); }
    std::string apply(std::string_view text) const;  // text must be valid UTF-8

private:
    std::vector<int> forms_;  // utf8proc option sets, applied in order
};

}  // namespace mariana
