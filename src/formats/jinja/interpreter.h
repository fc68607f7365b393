// Runs a parsed template: scopes, statements, expressions with Python semantics, and the
// budgets of RenderLimits. One Interpreter renders one template once; builtins (filters,
// tests, methods, globals) receive it to build values under the same budgets.
//
// Scoping follows Jinja2: each for-loop iteration, macro call, {% with %}, block set and
// filter block gets a fresh scope whose assignments vanish when it ends (hence
// namespace()); {% if %} opens none. Macros see their arguments, then the template's
// top-level variables as they are when called.
#pragma once

#include "formats/jinja/ast.h"
#include "formats/jinja/builtins.h"
#include "formats/jinja/template.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mariana::jinja {

class Interpreter {
public:
    explicit Interpreter(const RenderLimits& limits);
    ~Interpreter();
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    std::string render(const ast::Body& body, const std::vector<std::pair<std::string, Value>>& variables);

    // ---- for builtins ----
    const RenderLimits& limits() const { return limits_; }
    // Work and memory budgets: both throw Error when exhausted.
    void charge_steps(uint64_t n);
    void charge_bytes(uint64_t n);  // also rejects any single string over max_output_bytes
    Value make_string(std::string s);  // charges its size
    Namespace* new_namespace();
    // Python iteration order as a list: list items, dict keys, string characters;
    // Undefined iterates as nothing; anything else is an error.
    ListPtr iterate(const Value& v);
    Value get_attribute(const Value& object, const std::string& name);  // object.name
    Value get_item(const Value& object, const Value& key);              // object[key]
    Value call(const Value& callee, const CallArgs& args);
    std::string to_text(const Value& v);  // str(v), bounded by max_output_bytes

private:
    struct Scope;
    struct DepthGuard;
    enum class Flow { Normal, Break, Continue };

    Flow exec_body(const ast::Body& body, Scope& scope);
    Flow exec(const ast::Stmt& stmt, Scope& scope);
    Flow exec_node(const ast::Stmt& stmt, Scope& scope);
    Flow exec_for(const ast::For& node, Scope& scope);
    void exec_set(const ast::Set& node, Scope& scope);
    std::string capture(const ast::Body& body, Scope& parent);
    void assign(const ast::Target& target, const Value& value, Scope& scope);
    void write(std::string_view text);

    Value eval(const ast::Expr& expr, Scope& scope);
    Value eval_node(const ast::Expr& expr, Scope& scope);
    Value eval_binary(const ast::Binary& node, Scope& scope);
    bool eval_compare(const ast::Compare& node, Scope& scope);
    Value eval_slice(const Value& object, const ast::Slice& slice, Scope& scope);
    Value apply_filter(const ast::Filter& filter, const Value* input, Scope& scope);
    CallArgs eval_args(const ast::Arguments& args, Scope& scope);
    Value lookup(const std::string& name, Scope& scope) const;
    Value call_macro(const Callable& macro, const CallArgs& args);

    RenderLimits limits_;
    std::unique_ptr<Scope> root_;
    std::string* out_ = nullptr;  // where output goes now (captures redirect it)
    std::vector<std::unique_ptr<Namespace>> namespaces_;
    uint64_t steps_ = 0;
    uint64_t bytes_ = 0;
    int depth_ = 0;
    int macro_depth_ = 0;
    uintptr_t stack_floor_ = 0;  // DepthGuard refuses to go deeper than this address
};

// Python's arithmetic on values (+ - * / // % **), bounded by the interpreter's budgets.
Value arithmetic(Interpreter& in, ast::BinaryOp op, const Value& a, const Value& b);
// Python's `item in container`.
bool contains(Interpreter& in, const Value& container, const Value& item);
// printf-style formatting of Python's `format % args` (%s %r %d %i %f %x %%); other
// conversions are an error.
std::string percent_format(Interpreter& in, const std::string& format, const Value& args);

}  // namespace mariana::jinja
