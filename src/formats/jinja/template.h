// A Jinja2 chat template, parsed once and rendered many times: the public face of the
// interpreter in this folder. Semantics follow Python Jinja2 3.1 as transformers sets it up
// for apply_chat_template (docs/chat_templates.md lists what is supported and why).
//
//   const auto t = jinja::Template::parse(source);          // throws Error: syntax, line, column
//   std::string text = t.render({{"messages", messages}, ...});  // throws Error: what, line, column
//
// Templates and variables are untrusted: every render is bounded in output size, total
// work, recursion depth and memory by RenderLimits, and breaking a limit is an Error.
// A Template is immutable after parse; render() may run concurrently from several threads.
#pragma once

#include "formats/jinja/value.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mariana::jinja {

namespace ast {
struct Stmt;
}

struct RenderLimits {
    size_t max_output_bytes = size_t(32) << 20;  // the rendered text, and any one string built on the way
    uint64_t max_bytes_built = uint64_t(1) << 30;  // all strings built during one render together
    uint64_t max_steps = 5'000'000;              // statements run, loop iterations, items filters visit
    int max_macro_depth = 100;                   // nested macro calls (recursion)
    int max_eval_depth = 3000;                   // nested evaluation of statements and expressions
                                                 // (also bounded by the thread's stack size)
    size_t max_namespaces = 10'000;              // namespace() objects created
};

class Template {
public:
    static Template parse(std::string_view source);

    // Variables by name; `variables` may hold any values (use from_json for JSON data).
    std::string render(const std::vector<std::pair<std::string, Value>>& variables, const RenderLimits& limits = {}) const;
    // Variables from a JSON object, keys in order; objects inside keep their key order.
    std::string render(const nlohmann::ordered_json& variables, const RenderLimits& limits = {}) const;

private:
    std::shared_ptr<const std::vector<std::unique_ptr<ast::Stmt>>> body_;
};

}  // namespace mariana::jinja
