#include "formats/jinja/interpreter.h"

#include "core/error.h"
#include "formats/jinja/lexer.h"
#include "formats/jinja/text.h"

#include <fmt/format.h>

#include <pthread.h>

#include <algorithm>
#include <cstdint>

namespace mariana::jinja {

namespace {

// An Error that already names where in the template it happened; inner evaluations add
// the location, outer ones pass it through.
class LocatedError : public Error {
public:
    using Error::Error;
};

[[noreturn]] void rethrow_located(const Error& e, const ast::Location& loc)
{
    throw LocatedError(fmt::format("{} at {}", e.what(), describe_position(loc.line, loc.column)));
}

}  // namespace

struct Interpreter::Scope {
    explicit Scope(Scope* p) : parent(p) {}
    Scope* parent;
    std::vector<std::pair<std::string, Value>> vars;

    const Value* find(std::string_view name) const
    {
        for (const auto& [k, v] : vars)
            if (k == name) return &v;
        return nullptr;
    }
    void set(const std::string& name, Value value)
    {
        for (auto& [k, v] : vars)
            if (k == name) {
                v = std::move(value);
                return;
            }
        vars.emplace_back(name, std::move(value));
    }
};

Interpreter::Interpreter(const RenderLimits& limits) : limits_(limits), root_(std::make_unique<Scope>(nullptr))
{
    // The lowest stack address evaluation may reach: the bottom of this thread's stack plus
    // headroom for the work done between two depth checks (a filter, a sort, fmt).
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void* low = nullptr;
        size_t size = 0;
        if (pthread_attr_getstack(&attr, &low, &size) == 0 && low && size > 0)
            stack_floor_ = reinterpret_cast<uintptr_t>(low) + std::min(std::max<size_t>(size / 8, 256 << 10), size / 2);
        pthread_attr_destroy(&attr);
    }
}
Interpreter::~Interpreter() = default;

std::string Interpreter::render(const ast::Body& body, const std::vector<std::pair<std::string, Value>>& variables)
{
    for (const auto& [name, value] : variables) root_->set(name, value);
    std::string out;
    out_ = &out;
    exec_body(body, *root_);
    out_ = nullptr;
    return out;
}

// ---- budgets ----------------------------------------------------------------------------

void Interpreter::charge_steps(uint64_t n)
{
    steps_ += n;
    if (steps_ > limits_.max_steps)
        fail("the template did too much work (more than {} loop iterations, statements and filtered items)",
             limits_.max_steps);
}

void Interpreter::charge_bytes(uint64_t n)
{
    if (n > limits_.max_output_bytes) fail("text longer than the limit of {} bytes", limits_.max_output_bytes);
    bytes_ += n;
    if (bytes_ > limits_.max_bytes_built)
        fail("the template built more than {} bytes of text in total", limits_.max_bytes_built);
}

Value Interpreter::make_string(std::string s)
{
    charge_bytes(s.size());
    return Value::string(std::move(s));
}

Namespace* Interpreter::new_namespace()
{
    if (namespaces_.size() >= limits_.max_namespaces)
        fail("the template created more than {} namespace() objects", limits_.max_namespaces);
    namespaces_.push_back(std::make_unique<Namespace>());
    return namespaces_.back().get();
}

std::string Interpreter::to_text(const Value& v)
{
    if (v.is_string()) return v.as_string();
    std::string s = to_str(v, limits_.max_output_bytes);
    charge_bytes(s.size());
    return s;
}

void Interpreter::write(std::string_view text)
{
    if (out_->size() + text.size() > limits_.max_output_bytes)
        fail("the rendered text is longer than the limit of {} bytes", limits_.max_output_bytes);
    charge_bytes(text.size());
    out_->append(text);
}

// Counts nesting of statement and expression evaluation (macro recursion included) and
// checks the native stack itself, so no template can overflow it, whatever the build
// (sanitizers make frames several times larger) or the thread's stack size.
struct Interpreter::DepthGuard {
    explicit DepthGuard(Interpreter& interpreter) : in(interpreter)
    {
        const bool too_deep = in.depth_ >= in.limits_.max_eval_depth;
        if (too_deep || reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) < in.stack_floor_)
            fail("the template nests or recurses too deeply ({})",
                 too_deep ? fmt::format("more than {} levels", in.limits_.max_eval_depth) : "out of stack");
        ++in.depth_;
    }
    ~DepthGuard() { --in.depth_; }
    Interpreter& in;
};

// ---- values -----------------------------------------------------------------------------

ListPtr Interpreter::iterate(const Value& v)
{
    switch (v.kind()) {
    case Kind::List: return v.list_ptr();
    case Kind::Undefined: return make_list({});
    case Kind::Dict: {
        charge_steps(v.as_dict().entries.size());
        std::vector<Value> keys;
        keys.reserve(v.as_dict().entries.size());
        for (const auto& [k, val] : v.as_dict().entries) keys.push_back(k);
        return make_list(std::move(keys));
    }
    case Kind::String: {
        const std::string& s = v.as_string();
        charge_steps(s.size());
        std::vector<Value> chars;
        size_t pos = 0;
        while (pos < s.size()) {
            const size_t start = pos;
            next_code_point(s, pos);
            chars.push_back(Value::string(s.substr(start, pos - start)));
        }
        return make_list(std::move(chars));
    }
    default: fail("'{}' object is not iterable", type_name(v));
    }
}

namespace {

std::string describe_object(const Value& v)
{
    if (v.is_none()) return "'None'";
    return fmt::format("'{} object'", type_name(v));
}

Value missing(const Value& object, const Value& key)
{
    return Value::undefined(fmt::format("{} has no attribute {}", describe_object(object), to_repr(key)));
}

Value method(const Value& self, const std::string& name)
{
    auto c = std::make_shared<Callable>();
    c->type = Callable::Type::Method;
    c->name = name;
    c->self = self;
    return Value::callable(std::move(c));
}

Value loop_attribute(const Value& loop, const std::string& name)
{
    const LoopState& l = loop.as_loop();
    const auto& items = l.items->items;
    const int64_t n = int64_t(items.size()), i = int64_t(l.index);
    if (name == "index") return Value::integer(i + 1);
    if (name == "index0") return Value::integer(i);
    if (name == "revindex") return Value::integer(n - i);
    if (name == "revindex0") return Value::integer(n - i - 1);
    if (name == "first") return Value::boolean(i == 0);
    if (name == "last") return Value::boolean(i == n - 1);
    if (name == "length") return Value::integer(n);
    if (name == "depth") return Value::integer(1);
    if (name == "depth0") return Value::integer(0);
    if (name == "previtem") return i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item");
    if (name == "nextitem") return i + 1 < n ? items[size_t(i + 1)] : Value::undefined("there is no next item");
    if (name == "cycle") {
        auto c = std::make_shared<Callable>();
        c->type = Callable::Type::LoopCycle;
        c->name = "cycle";
        c->self = loop;
        return Value::callable(std::move(c));
    }
    if (name == "changed") fail("loop.changed() is not supported");
    return missing(loop, Value::string(name));
}

}  // namespace

Value Interpreter::get_attribute(const Value& object, const std::string& name)
{
    switch (object.kind()) {
    case Kind::Undefined: fail("{}", object.undefined_hint());
    case Kind::Dict: {
        if (has_method(object, name)) return method(object, name);
        const Value* v = object.as_dict().find(std::string_view(name));
        return v ? *v : missing(object, Value::string(name));
    }
    case Kind::Namespace: {
        const Value* v = object.as_namespace().find(name);
        return v ? *v : missing(object, Value::string(name));
    }
    case Kind::Loop: return loop_attribute(object, name);
    default:
        if (has_method(object, name)) return method(object, name);
        return missing(object, Value::string(name));
    }
}

Value Interpreter::get_item(const Value& object, const Value& key)
{
    switch (object.kind()) {
    case Kind::Undefined: fail("{}", object.undefined_hint());
    case Kind::Dict:
        // An unhashable key (a list or dict) raises TypeError in Python, which Jinja2 turns
        // into Undefined like a missing key.
        if ((key.is_list() && !key.as_list().is_tuple) || key.is_dict()) return missing(object, key);
        if (const Value* v = object.as_dict().find(key)) return *v;
        break;
    case Kind::List:
    case Kind::String:
        if (key.is_int() || key.is_bool()) {
            int64_t i = key.as_integer();
            if (object.is_list()) {
                const auto& items = object.as_list().items;
                const int64_t n = int64_t(items.size());
                if (i < 0) i += n;
                if (i >= 0 && i < n) return items[size_t(i)];
            } else {
                const std::string& s = object.as_string();
                charge_steps(1 + s.size() / 64);
                const auto offsets = code_point_offsets(s);
                const int64_t n = int64_t(offsets.size()) - 1;
                if (i < 0) i += n;
                if (i >= 0 && i < n)
                    return Value::string(s.substr(offsets[size_t(i)], offsets[size_t(i) + 1] - offsets[size_t(i)]));
            }
            return missing(object, key);
        }
        break;
    case Kind::Namespace:
        if (key.is_string()) {
            const Value* v = object.as_namespace().find(key.as_string());
            return v ? *v : missing(object, key);
        }
        break;
    case Kind::Loop:
        if (key.is_string()) return loop_attribute(object, key.as_string());
        break;
    default: break;
    }
    // Jinja2 falls back to the attribute of that name (d['items'] is the method).
    if (key.is_string() && !object.is(Kind::Namespace) && has_method(object, key.as_string()))
        return method(object, key.as_string());
    return missing(object, key);
}

Value Interpreter::call(const Value& callee, const CallArgs& args)
{
    if (callee.is_undefined()) fail("{}", callee.undefined_hint());
    if (!callee.is(Kind::Callable)) fail("'{}' object is not callable", type_name(callee));
    const Callable& c = callee.as_callable();
    switch (c.type) {
    case Callable::Type::Global: return call_global(*this, c.name, args);
    case Callable::Type::Method: return call_method(*this, c.self, c.name, args);
    case Callable::Type::Macro: return call_macro(c, args);
    case Callable::Type::LoopCycle: {
        if (args.positional.empty()) fail("no items for cycling given");
        if (!args.keyword.empty()) fail("loop.cycle() takes no keyword arguments");
        return args.positional[c.self.as_loop().index % args.positional.size()];
    }
    }
    fail("'{}' object is not callable", type_name(callee));
}

Value Interpreter::call_macro(const Callable& callee, const CallArgs& args)
{
    const auto& macro = *static_cast<const ast::Macro*>(callee.macro);
    if (macro_depth_ >= limits_.max_macro_depth)
        fail("macro '{}' recursed too deeply (more than {} nested macro calls)", macro.name, limits_.max_macro_depth);
    charge_steps(1);
    ++macro_depth_;
    struct Restore {
        int& depth;
        ~Restore() { --depth; }
    } restore{macro_depth_};

    Scope scope(root_.get());
    const size_t n = macro.params.size();
    if (args.positional.size() > n && !macro.catch_varargs)
        fail("macro '{}' takes not more than {} argument(s)", macro.name, n);
    std::vector<const Value*> bound(n, nullptr);
    for (size_t i = 0; i < n && i < args.positional.size(); ++i) bound[i] = &args.positional[i];
    auto extra_kwargs = std::make_shared<Dict>();
    for (const auto& [key, value] : args.keyword) {
        size_t i = 0;
        while (i < n && macro.params[i].first != key) ++i;
        if (i == n) {
            if (!macro.catch_kwargs) fail("macro '{}' takes no keyword argument '{}'", macro.name, key);
            extra_kwargs->set(Value::string(key), value);
        } else if (bound[i]) {
            fail("macro '{}' got multiple values for argument '{}'", macro.name, key);
        } else {
            bound[i] = &value;
        }
    }
    // Defaults are evaluated in the macro's scope, so they may use earlier parameters.
    for (size_t i = 0; i < n; ++i) {
        const auto& [name, fallback] = macro.params[i];
        if (bound[i]) scope.set(name, *bound[i]);
        else if (fallback) scope.set(name, eval(*fallback, scope));
        else scope.set(name, Value::undefined(fmt::format("parameter '{}' was not provided", name)));
    }
    if (macro.catch_varargs) {
        std::vector<Value> rest;
        for (size_t i = n; i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
        scope.set("varargs", Value::list(std::move(rest), true));
    }
    if (macro.catch_kwargs) scope.set("kwargs", Value::dict(std::move(extra_kwargs)));
    std::string out;
    std::string* saved = out_;
    out_ = &out;
    try {
        exec_body(macro.body, scope);
    } catch (...) {
        out_ = saved;
        throw;
    }
    out_ = saved;
    return Value::string(std::move(out));
}

Value Interpreter::lookup(const std::string& name, Scope& scope) const
{
    for (const Scope* s = &scope; s; s = s->parent)
        if (const Value* v = s->find(name)) return *v;
    if (is_global_function(name)) {
        auto c = std::make_shared<Callable>();
        c->type = Callable::Type::Global;
        c->name = name;
        return Value::callable(std::move(c));
    }
    return Value::undefined(fmt::format("'{}' is undefined", name));
}

// ---- statements -------------------------------------------------------------------------

Interpreter::Flow Interpreter::exec_body(const ast::Body& body, Scope& scope)
{
    for (const auto& stmt : body) {
        const Flow flow = exec(*stmt, scope);
        if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const ast::Stmt& stmt, Scope& scope)
{
    try {
        DepthGuard guard(*this);
        charge_steps(1);
        return exec_node(stmt, scope);
    } catch (const LocatedError&) {
        throw;
    } catch (const Error& e) {
        rethrow_located(e, stmt.loc);
    }
}

std::string Interpreter::capture(const ast::Body& body, Scope& parent)
{
    Scope scope(&parent);
    std::string out;
    std::string* saved = out_;
    out_ = &out;
    try {
        exec_body(body, scope);
    } catch (...) {
        out_ = saved;
        throw;
    }
    out_ = saved;
    return out;
}

Interpreter::Flow Interpreter::exec_node(const ast::Stmt& stmt, Scope& scope)
{
    using K = ast::StmtKind;
    switch (stmt.kind) {
    case K::Text: write(static_cast<const ast::Text&>(stmt).text); return Flow::Normal;
    case K::Output: {
        const Value v = eval(*static_cast<const ast::Output&>(stmt).expr, scope);
        if (v.is_string()) write(v.as_string());
        else write(to_text(v));
        return Flow::Normal;
    }
    case K::If: {
        const auto& node = static_cast<const ast::If&>(stmt);
        for (const auto& [condition, body] : node.branches)
            if (truthy(eval(*condition, scope))) return exec_body(body, scope);
        return exec_body(node.otherwise, scope);
    }
    case K::For: return exec_for(static_cast<const ast::For&>(stmt), scope);
    case K::Set: exec_set(static_cast<const ast::Set&>(stmt), scope); return Flow::Normal;
    case K::Macro: {
        const auto& node = static_cast<const ast::Macro&>(stmt);
        auto c = std::make_shared<Callable>();
        c->type = Callable::Type::Macro;
        c->name = node.name;
        c->macro = &node;
        scope.set(node.name, Value::callable(std::move(c)));
        return Flow::Normal;
    }
    case K::Scope: {
        const auto& node = static_cast<const ast::ScopeBlock&>(stmt);
        // {% with a = 1, b = a %}: every value is computed in the outer scope first.
        std::vector<Value> values;
        for (const auto& [name, expr] : node.assignments) values.push_back(eval(*expr, scope));
        Scope inner(&scope);
        for (size_t i = 0; i < values.size(); ++i) inner.set(node.assignments[i].first, std::move(values[i]));
        return exec_body(node.body, inner);  // break/continue reach the enclosing loop
    }
    case K::FilterBlock: {
        const auto& node = static_cast<const ast::FilterBlock&>(stmt);
        const Value text = make_string(capture(node.body, scope));
        const Value v = apply_filter(*node.filter, &text, scope);
        write(to_text(v));
        return Flow::Normal;
    }
    case K::Break: return Flow::Break;
    case K::Continue: return Flow::Continue;
    }
    return Flow::Normal;
}

void Interpreter::assign(const ast::Target& target, const Value& value, Scope& scope)
{
    if (!target.attribute.empty()) {
        const Value ns = lookup(target.names[0], scope);
        if (!ns.is(Kind::Namespace)) fail("cannot assign attribute on non-namespace object '{}'", target.names[0]);
        ns.as_namespace().set(target.attribute, value);
        return;
    }
    if (!target.unpack) {
        scope.set(target.names[0], value);
        return;
    }
    if (!value.is_list() && !value.is_dict() && !value.is_string() && !value.is_undefined())
        fail("cannot unpack non-iterable {} object", type_name(value));
    const ListPtr items = iterate(value);
    if (items->items.size() != target.names.size())
        fail("{} values to unpack (expected {}, got {})", items->items.size() < target.names.size() ? "not enough" : "too many",
             target.names.size(), items->items.size());
    for (size_t i = 0; i < target.names.size(); ++i) scope.set(target.names[i], items->items[i]);
}

Interpreter::Flow Interpreter::exec_for(const ast::For& node, Scope& scope)
{
    const Value iterable = eval(*node.iterable, scope);
    ListPtr items = iterate(iterable);
    if (node.filter) {  // the filter runs first, so loop.index and loop.length count kept items
        std::vector<Value> kept;
        for (const Value& item : items->items) {
            charge_steps(1);
            Scope probe(&scope);
            assign(node.target, item, probe);
            if (truthy(eval(*node.filter, probe))) kept.push_back(item);
        }
        items = make_list(std::move(kept));
    }
    if (items->items.empty()) {
        Scope inner(&scope);
        return exec_body(node.otherwise, inner);  // break/continue there reach an enclosing loop
    }
    for (size_t i = 0; i < items->items.size(); ++i) {
        charge_steps(1);
        Scope inner(&scope);  // a fresh scope per iteration, as in Jinja2
        assign(node.target, items->items[i], inner);
        auto state = std::make_shared<LoopState>();
        state->items = items;
        state->index = i;
        inner.set("loop", Value::loop(std::move(state)));
        if (exec_body(node.body, inner) == Flow::Break) break;
    }
    return Flow::Normal;
}

void Interpreter::exec_set(const ast::Set& node, Scope& scope)
{
    if (node.value) {
        assign(node.target, eval(*node.value, scope), scope);
        return;
    }
    Value v = make_string(capture(node.body, scope));
    if (node.block_filter) v = apply_filter(*node.block_filter, &v, scope);
    assign(node.target, v, scope);
}

// ---- expressions ------------------------------------------------------------------------

Value Interpreter::eval(const ast::Expr& expr, Scope& scope)
{
    try {
        DepthGuard guard(*this);
        return eval_node(expr, scope);
    } catch (const LocatedError&) {
        throw;
    } catch (const Error& e) {
        rethrow_located(e, expr.loc);
    }
}

CallArgs Interpreter::eval_args(const ast::Arguments& args, Scope& scope)
{
    CallArgs out;
    for (const auto& a : args.positional) out.positional.push_back(eval(*a, scope));
    for (const auto& [key, a] : args.keyword) out.keyword.emplace_back(key, eval(*a, scope));
    return out;
}

// Applies a filter chain. Block filters ({% filter %}, {% set x | f %}) pass the captured
// text as `input`, which the innermost filter (the one without an operand) receives.
Value Interpreter::apply_filter(const ast::Filter& filter, const Value* input, Scope& scope)
{
    Value operand;
    if (!filter.operand) operand = input ? *input : Value();
    else if (input && filter.operand->kind == ast::ExprKind::Filter)
        operand = apply_filter(static_cast<const ast::Filter&>(*filter.operand), input, scope);
    else operand = eval(*filter.operand, scope);
    const CallArgs args = eval_args(filter.args, scope);
    try {
        return filter.fn(*this, operand, args);
    } catch (const LocatedError&) {
        throw;
    } catch (const Error& e) {
        rethrow_located(Error(fmt::format("filter '{}': {}", filter.name, e.what())), filter.loc);
    }
}

Value Interpreter::eval_node(const ast::Expr& expr, Scope& scope)
{
    using K = ast::ExprKind;
    switch (expr.kind) {
    case K::Literal: return static_cast<const ast::Literal&>(expr).value;
    case K::Name: return lookup(static_cast<const ast::Name&>(expr).name, scope);
    case K::List: {
        const auto& node = static_cast<const ast::ListExpr&>(expr);
        charge_steps(node.items.size());
        std::vector<Value> items;
        items.reserve(node.items.size());
        for (const auto& item : node.items) items.push_back(eval(*item, scope));
        return Value::list(std::move(items), node.is_tuple);
    }
    case K::Dict: {
        const auto& node = static_cast<const ast::DictExpr&>(expr);
        charge_steps(node.items.size());
        auto d = std::make_shared<Dict>();
        for (const auto& [k, v] : node.items) {
            Value key = eval(*k, scope);
            if ((key.is_list() && !key.as_list().is_tuple) || key.is_dict() || key.is(Kind::Namespace) || key.is_undefined())
                fail("unhashable type: '{}'", type_name(key));
            d->set(std::move(key), eval(*v, scope));
        }
        return Value::dict(std::move(d));
    }
    case K::Unary: {
        const auto& node = static_cast<const ast::Unary&>(expr);
        const Value v = eval(*node.operand, scope);
        if (node.op == ast::UnaryOp::Not) return Value::boolean(!truthy(v));
        if (v.is_undefined()) fail("{}", v.undefined_hint());
        if (v.is_float()) return Value::number(node.op == ast::UnaryOp::Negate ? -v.as_float() : v.as_float());
        if (v.is_int() || v.is_bool()) {
            const int64_t i = v.as_integer();
            if (node.op == ast::UnaryOp::Plus) return Value::integer(i);
            if (i == INT64_MIN) fail("integer overflow (Python's big integers are not supported)");
            return Value::integer(-i);
        }
        fail("bad operand type for unary {}: '{}'", node.op == ast::UnaryOp::Negate ? '-' : '+', type_name(v));
    }
    case K::Binary: return eval_binary(static_cast<const ast::Binary&>(expr), scope);
    case K::Compare: return Value::boolean(eval_compare(static_cast<const ast::Compare&>(expr), scope));
    case K::Conditional: {
        const auto& node = static_cast<const ast::Conditional&>(expr);
        if (truthy(eval(*node.condition, scope))) return eval(*node.then, scope);
        if (node.otherwise) return eval(*node.otherwise, scope);
        return Value::undefined("the inline if-expression evaluated to false and has no else section");
    }
    case K::Attribute: {
        const auto& node = static_cast<const ast::Attribute&>(expr);
        return get_attribute(eval(*node.object, scope), node.name);
    }
    case K::Subscript: {
        const auto& node = static_cast<const ast::Subscript&>(expr);
        const Value object = eval(*node.object, scope);
        if (node.index->kind == K::Slice) return eval_slice(object, static_cast<const ast::Slice&>(*node.index), scope);
        return get_item(object, eval(*node.index, scope));
    }
    case K::Slice: fail("a slice can only be used inside []");
    case K::Call: {
        const auto& node = static_cast<const ast::Call&>(expr);
        const Value callee = eval(*node.callee, scope);
        return call(callee, eval_args(node.args, scope));
    }
    case K::Filter: return apply_filter(static_cast<const ast::Filter&>(expr), nullptr, scope);
    case K::Test: {
        const auto& node = static_cast<const ast::Test&>(expr);
        const Value operand = eval(*node.operand, scope);
        const CallArgs args = eval_args(node.args, scope);
        return Value::boolean(node.fn(*this, operand, args) != node.negated);
    }
    }
    fail("unknown expression");
}

Value Interpreter::eval_binary(const ast::Binary& node, Scope& scope)
{
    const Value left = eval(*node.left, scope);
    switch (node.op) {
    case ast::BinaryOp::And: return truthy(left) ? eval(*node.right, scope) : left;
    case ast::BinaryOp::Or: return truthy(left) ? left : eval(*node.right, scope);
    case ast::BinaryOp::Concat: {
        const Value right = eval(*node.right, scope);
        std::string s = to_text(left);
        const std::string r = to_text(right);
        charge_bytes(s.size() + r.size());
        s += r;
        return Value::string(std::move(s));
    }
    default: return arithmetic(*this, node.op, left, eval(*node.right, scope));
    }
}

bool Interpreter::eval_compare(const ast::Compare& node, Scope& scope)
{
    Value left = eval(*node.first, scope);
    for (const auto& [op, operand] : node.rest) {
        Value right = eval(*operand, scope);
        bool ok;
        switch (op) {
        case ast::CompareOp::Equal: ok = equals(left, right); break;
        case ast::CompareOp::NotEqual: ok = !equals(left, right); break;
        case ast::CompareOp::Less: ok = less_than(left, right, "<"); break;
        case ast::CompareOp::Greater: ok = less_than(right, left, ">", true); break;
        case ast::CompareOp::LessEqual: ok = less_than(left, right, "<=") || equals(left, right); break;
        case ast::CompareOp::GreaterEqual: ok = less_than(right, left, ">=", true) || equals(left, right); break;
        case ast::CompareOp::In: ok = contains(*this, right, left); break;
        case ast::CompareOp::NotIn: ok = !contains(*this, right, left); break;
        default: ok = false;
        }
        if (!ok) return false;
        left = std::move(right);
    }
    return true;
}

Value Interpreter::eval_slice(const Value& object, const ast::Slice& slice, Scope& scope)
{
    const auto part = [&](const ast::ExprPtr& e) { return e ? eval(*e, scope) : Value::none(); };
    const Value start = part(slice.start), stop = part(slice.stop), step_value = part(slice.step);
    // Jinja2 compiles x[a:b] to a plain Python subscript (not its forgiving getitem), so
    // slicing anything but a sequence is an error, as are non-integer indices.
    if (object.is_undefined()) fail("{}", object.undefined_hint());
    if (object.is_dict()) fail("unhashable type: 'slice'");
    if (!object.is_list() && !object.is_string()) fail("'{}' object is not subscriptable", type_name(object));
    for (const Value* v : {&start, &stop, &step_value}) {
        if (v->is_undefined()) fail("{}", v->undefined_hint());
        if (!v->is_none() && !v->is_int() && !v->is_bool())
            fail("slice indices must be integers or None or have an __index__ method");
    }
    int64_t step = step_value.is_none() ? 1 : step_value.as_integer();
    if (step == 0) fail("slice step cannot be zero");
    if (step < -INT64_MAX) step = -INT64_MAX;

    // Python's PySlice_AdjustIndices on code points (strings) or items (lists).
    std::vector<size_t> offsets;
    int64_t length;
    if (object.is_string()) {
        charge_steps(1 + object.as_string().size() / 64);
        offsets = code_point_offsets(object.as_string());
        length = int64_t(offsets.size()) - 1;
    } else {
        length = int64_t(object.as_list().items.size());
    }
    const int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? length - 1 : length;
    const auto clamp = [&](const Value& v, int64_t fallback) {
        if (v.is_none()) return fallback;
        int64_t i = v.as_integer();
        if (i < 0) {
            i = i < -length ? lower : i + length;
            if (i < lower) i = lower;
        } else if (i > upper) {
            i = upper;
        }
        return i;
    };
    const int64_t first = clamp(start, step < 0 ? upper : lower);
    const int64_t last = clamp(stop, step < 0 ? lower : upper);
    int64_t count = 0;
    if (step > 0 && last > first) count = (last - first - 1) / step + 1;
    if (step < 0 && first > last) count = (first - last - 1) / (-step) + 1;
    charge_steps(uint64_t(count));
    if (object.is_string()) {
        const std::string& s = object.as_string();
        std::string out;
        for (int64_t k = 0; k < count; ++k) {
            const size_t i = size_t(first + k * step);
            out.append(s, offsets[i], offsets[i + 1] - offsets[i]);
        }
        return make_string(std::move(out));
    }
    const List& l = object.as_list();
    std::vector<Value> items;
    items.reserve(size_t(count));
    for (int64_t k = 0; k < count; ++k) items.push_back(l.items[size_t(first + k * step)]);
    return Value::list(std::move(items), l.is_tuple);
}

}  // namespace mariana::jinja
