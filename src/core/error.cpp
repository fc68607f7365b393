#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace mariana {

void check_failed(const char* condition, const char* file, int line, const std::string& hint)
{
    std::fprintf(stderr, "mariana: internal error: CHECK(%s) failed at %s:%d%s%s\n", condition, file, line,
                 hint.empty() ? "" : ": ", hint.c_str());
    std::abort();
}

}  // namespace mariana
