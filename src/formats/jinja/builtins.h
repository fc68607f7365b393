// What templates can call without defining it: filters (x | trim), tests (x is defined),
// methods of built-in types ('a,b'.split(',')) and global functions (range, namespace,
// raise_exception, strftime_now). Each lives in its own file (filters.cpp, tests.cpp,
// methods.cpp, globals.cpp); the parser looks filters and tests up by name so an unknown
// one is a syntax error with its line and column, as in Jinja2.
#pragma once

#include "formats/jinja/value.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mariana::jinja {

class Interpreter;

// Evaluated arguments of a call: f(a, b, key=c).
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

using FilterFn = Value (*)(Interpreter&, const Value& input, const CallArgs& args);
using TestFn = bool (*)(Interpreter&, const Value& input, const CallArgs& args);

FilterFn find_filter(std::string_view name);  // nullptr when unknown
TestFn find_test(std::string_view name);      // nullptr when unknown

// Attribute access on strings, lists and dicts finds their methods first, like Python's
// getattr: d.items is the method even when d has a key "items".
bool has_method(const Value& self, std::string_view name);
Value call_method(Interpreter& in, const Value& self, const std::string& name, const CallArgs& args);

bool is_global_function(std::string_view name);
Value call_global(Interpreter& in, const std::string& name, const CallArgs& args);

// Binds call arguments to a builtin's parameters as Python does (positionals in order,
// then keywords by name) and rejects extra, unknown or repeated ones, naming the builtin.
class BoundArgs {
public:
    BoundArgs(const CallArgs& args, std::string_view function, std::initializer_list<std::string_view> params,
              size_t required = 0);
    bool has(size_t i) const { return slots_[i] != nullptr; }
    const Value& operator[](size_t i) const;  // only when has(i)
    const Value& get(size_t i, const Value& fallback) const { return has(i) ? *slots_[i] : fallback; }

private:
    std::vector<const Value*> slots_;
};

// Arguments a builtin requires to have a certain type, with Python's error wording.
int64_t require_int(const Value& v, std::string_view what);
const std::string& require_string(const Value& v, std::string_view what);

}  // namespace mariana::jinja
