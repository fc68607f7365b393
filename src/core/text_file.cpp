#include "core/text_file.h"

#include "core/error.h"

#include <fstream>
#include <sstream>

namespace mariana {

std::string read_text_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot open {}", path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) fail("cannot read {}", path);
    return text.str();
}

void write_text_file(const std::string& path, std::string_view text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
    if (!out.flush()) fail("cannot write {}", path);
}

}  // namespace mariana
