#include "cli/json_lines.h"

#include "core/error.h"

#include <cstdio>

namespace mariana {

void for_each_json_line(std::istream& in, const std::string& source,
                        const std::function<void(const JsonFields&)>& handle)
{
    std::string line;
    for (int64_t number = 1; std::getline(in, line, '\n'); ++number) {
        if (line.empty()) continue;
        const std::string where = fmt::format("{} line {}", source, number);
        const Json input = parse_json(line, where);
        if (!input.is_object()) fail("{}: expected a JSON object", where);
        handle(JsonFields(input, where));
    }
    if (in.bad()) fail("{}: read error", source);
}

void print_json_line(const Json& output)
{
    // Strings the commands print are valid UTF-8 (decoding repairs), but replace keeps
    // dump() from throwing if one is not.
    const std::string text = output.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace mariana
