// The dynamic value of the chat-template interpreter, with Python's semantics for what
// templates can observe: printing (str/repr), truth, ==, <, and the int/float/bool split.
//
// Values are cheap to copy: strings, lists and dicts are shared immutable objects (the
// sandbox transformers uses forbids mutating them, so nothing is ever written through a
// shared pointer). The only mutable objects are namespaces; they are owned by the render
// (Interpreter) and referenced by raw pointer, so no value can keep another alive in a
// cycle, and none outlives the render that created it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace mariana::jinja {

class Value;
struct List;
struct Dict;
struct Namespace;
struct Callable;
struct LoopState;

using StringPtr = std::shared_ptr<const std::string>;
using ListPtr = std::shared_ptr<const List>;
using DictPtr = std::shared_ptr<const Dict>;
using CallablePtr = std::shared_ptr<const Callable>;
using LoopPtr = std::shared_ptr<const LoopState>;

// Jinja's default Undefined: prints as "", is false, iterates as empty, and fails with its
// hint ("'x' is undefined", "'dict object' has no attribute 'y'") when used any further.
struct UndefinedValue {
    StringPtr hint;
};
struct NoneValue {};

enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Callable, Loop };

class Value {
public:
    Value() : v_(UndefinedValue{}) {}
    static Value undefined(std::string hint) { return Value(UndefinedValue{std::make_shared<const std::string>(std::move(hint))}); }
    static Value none() { return Value(NoneValue{}); }
    static Value boolean(bool b) { return Value(b); }
    static Value integer(int64_t i) { return Value(i); }
    static Value number(double d) { return Value(d); }
    static Value string(std::string s) { return Value(std::make_shared<const std::string>(std::move(s))); }
    static Value string(StringPtr s) { return Value(std::move(s)); }
    static Value list(std::vector<Value> items, bool is_tuple = false);
    static Value list(ListPtr l) { return Value(std::move(l)); }
    static Value dict(DictPtr d) { return Value(std::move(d)); }
    static Value namespace_(Namespace* ns) { return Value(ns); }
    static Value callable(CallablePtr c) { return Value(std::move(c)); }
    static Value loop(LoopPtr l) { return Value(std::move(l)); }

    Kind kind() const { return static_cast<Kind>(v_.index()); }
    bool is(Kind k) const { return kind() == k; }
    bool is_undefined() const { return kind() == Kind::Undefined; }
    bool is_none() const { return kind() == Kind::None; }
    bool is_string() const { return kind() == Kind::String; }
    bool is_list() const { return kind() == Kind::List; }  // lists and tuples
    bool is_dict() const { return kind() == Kind::Dict; }
    bool is_int() const { return kind() == Kind::Int; }
    bool is_float() const { return kind() == Kind::Float; }
    bool is_bool() const { return kind() == Kind::Bool; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python's numbers include bool

    bool as_bool() const { return std::get<bool>(v_); }
    int64_t as_int() const { return std::get<int64_t>(v_); }
    double as_float() const { return std::get<double>(v_); }
    // An int or bool as an integer (Python treats True as 1).
    int64_t as_integer() const { return is_bool() ? int64_t(as_bool()) : as_int(); }
    // Any number as a double.
    double as_double() const { return is_float() ? as_float() : double(as_integer()); }
    const std::string& as_string() const { return *std::get<StringPtr>(v_); }
    const StringPtr& string_ptr() const { return std::get<StringPtr>(v_); }
    const List& as_list() const { return *std::get<ListPtr>(v_); }
    const ListPtr& list_ptr() const { return std::get<ListPtr>(v_); }
    const Dict& as_dict() const { return *std::get<DictPtr>(v_); }
    Namespace& as_namespace() const { return *std::get<Namespace*>(v_); }
    const Callable& as_callable() const { return *std::get<CallablePtr>(v_); }
    const LoopState& as_loop() const { return *std::get<LoopPtr>(v_); }
    const std::string& undefined_hint() const;

    // Identity, for Python's `is` on mutable objects (namespaces, callables).
    const void* identity() const;

private:
    using Storage = std::variant<UndefinedValue, NoneValue, bool, int64_t, double, StringPtr, ListPtr, DictPtr, Namespace*,
                                 CallablePtr, LoopPtr>;
    template <class T>
    explicit Value(T v) : v_(std::move(v)) {}
    Storage v_;
};

struct List {
    std::vector<Value> items;
    bool is_tuple = false;  // prints as (a, b) and never equals a list, as in Python
    int depth = 1;          // nesting of lists/dicts inside, this one included (see make_list)
};

// The one way lists are made: records their nesting depth and refuses more than
// kMaxValueDepth, so no value is ever nested deeply enough for destroying, printing or
// comparing it to exhaust the stack.
ListPtr make_list(std::vector<Value> items, bool is_tuple = false);
int nesting_depth(const Value& v);  // 0 for scalars (and namespaces, held by pointer)

// A Python dict: insertion-ordered, keys compared with Python ==. String keys (all keys
// that come from JSON) are also indexed by hash so lookups stay O(1) in big objects.
struct Dict {
    std::vector<std::pair<Value, Value>> entries;

    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    // For building: a repeated key keeps its first position and takes the new value.
    void set(Value key, Value value);
    int depth() const { return depth_; }

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, size_t, Hash, std::equal_to<>> string_index_;
    int depth_ = 1;
};

// Jinja's namespace(): the one mutable object templates have ({% set ns.x = ... %}).
struct Namespace {
    std::vector<std::pair<std::string, Value>> attributes;
    const Value* find(std::string_view name) const;
    void set(const std::string& name, Value value);
};

// Something a template can call: a global function (range, namespace, ...), a method bound
// to its object ('a,b'.split), a macro, or loop.cycle.
struct Callable {
    enum class Type { Global, Method, Macro, LoopCycle };
    Type type = Type::Global;
    std::string name;
    Value self;                  // the bound object of a method or of loop.cycle
    const void* macro = nullptr;  // the ast::MacroStmt of a macro (owned by the Template)
};

// The `loop` variable of one iteration of a for loop.
struct LoopState {
    ListPtr items;
    size_t index = 0;  // index0
};

// Python type names, for error messages ("'<' not supported between 'int' and 'str'").
std::string_view type_name(const Value& v);

// Python truth: empty strings/lists/dicts, 0, 0.0, None and Undefined are false.
bool truthy(const Value& v);

// Python == (1 == 1.0 == True; [1] != (1,); dicts compare without order; Undefined equals
// Undefined). Throws for nesting beyond the depth limit.
bool equals(const Value& a, const Value& b, int depth = 0);
// Python < for numbers, strings (code point order) and same-kind sequences; throws
// mariana::Error ("'<' not supported between instances of 'int' and 'str'") otherwise.
// `op` and `swapped` only shape that message (a > b is evaluated as b < a).
bool less_than(const Value& a, const Value& b, std::string_view op = "<", bool swapped = false, int depth = 0);

// Python's str(): strings unchanged, None → "None", True → "True", 1.0 → "1.0", lists and
// dicts as their repr; Undefined → "". Throws when the text would exceed max_bytes.
std::string to_str(const Value& v, size_t max_bytes = SIZE_MAX);
// Python's repr(): strings quoted and escaped as Python does.
std::string to_repr(const Value& v, size_t max_bytes = SIZE_MAX);
std::string repr_string(std::string_view s);
// Python's repr of a float: shortest round-trip digits, "1.0", "1e+16", "inf", "nan".
std::string float_repr(double x);

// Limit on the nesting of values that printing, comparing and JSON conversion walk, so a
// namespace that contains itself or deeply nested input cannot exhaust the stack.
inline constexpr int kMaxValueDepth = 200;

// JSON data (messages, tools, extra variables) as values: objects keep their key order;
// integers outside int64 are an error (Python would keep them exact; we cannot).
Value from_json(const nlohmann::ordered_json& json);

}  // namespace mariana::jinja
