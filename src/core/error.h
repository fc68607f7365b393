// Errors: a typed exception for bad input at the edges (files, configs, arguments), and an
// always-on CHECK for broken internal invariants. Kernels never throw.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace mariana {

// Bad input from outside the program. The message names the file, field or value.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args)
{
    throw Error(fmt::format(format, std::forward<Args>(args)...));
}

[[noreturn]] void check_failed(const char* condition, const char* file, int line, const std::string& hint);

}  // namespace mariana

// An internal invariant, checked in every build. A failure is a bug in Mariana, not bad input.
#define MARIANA_CHECK(condition, ...)                                                        \
    do {                                                                                    \
        if (!(condition)) [[unlikely]]                                                      \
            ::mariana::check_failed(#condition, __FILE__, __LINE__, fmt::format("" __VA_ARGS__)); \
    } while (0)
