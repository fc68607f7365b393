#include "core/text_file.h"

#include "core/error.h"

#include <fstream>

namespace mariana {

void write_text_file(const std::string& path, std::string_view text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
    if (!out.flush()) fail("cannot write {}", path);
}

}  // namespace mariana
