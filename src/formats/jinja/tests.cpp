// Jinja2's tests (`x is defined`, `x is string`, `x is equalto 2`, ...), with the answers
// Python gives for each kind of value: booleans are numbers, dicts and strings are
// sequences, Undefined is iterable, a sequence and callable (its class defines those).
#include "core/error.h"
#include "formats/jinja/interpreter.h"

#include <algorithm>

namespace mariana::jinja {

namespace {

const Value& only_arg(const CallArgs& args, std::string_view test)
{
    if (args.positional.size() != 1 || !args.keyword.empty()) fail("test '{}' takes exactly one argument", test);
    return args.positional[0];
}

void no_args(const CallArgs& args, std::string_view test)
{
    if (!args.positional.empty() || !args.keyword.empty()) fail("test '{}' takes no arguments", test);
}

bool t_defined(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "defined"), !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "undefined"), v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "none"), v.is_none(); }
bool t_boolean(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "boolean"), v.is_bool(); }
bool t_true(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "true"), v.is_bool() && v.as_bool(); }
bool t_false(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "false"), v.is_bool() && !v.as_bool(); }
bool t_integer(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "integer"), v.is_int(); }
bool t_float(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "float"), v.is_float(); }
bool t_number(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "number"), v.is_number(); }
bool t_string(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "string"), v.is_string(); }
bool t_mapping(Interpreter&, const Value& v, const CallArgs& a) { return no_args(a, "mapping"), v.is_dict(); }
bool t_escaped(Interpreter&, const Value&, const CallArgs& a) { return no_args(a, "escaped"), false; }

bool t_sequence(Interpreter&, const Value& v, const CallArgs& a)
{
    no_args(a, "sequence");
    return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}

bool t_iterable(Interpreter&, const Value& v, const CallArgs& a)
{
    no_args(a, "iterable");
    return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}

bool t_callable(Interpreter&, const Value& v, const CallArgs& a)
{
    no_args(a, "callable");
    return v.is(Kind::Callable) || v.is(Kind::Loop) || v.is_undefined();
}

bool t_lower(Interpreter& in, const Value& v, const CallArgs& a)
{
    no_args(a, "lower");
    return truthy(call_method(in, Value::string(in.to_text(v)), "islower", {}));
}

bool t_upper(Interpreter& in, const Value& v, const CallArgs& a)
{
    no_args(a, "upper");
    return truthy(call_method(in, Value::string(in.to_text(v)), "isupper", {}));
}

bool is_divisible(Interpreter& in, const Value& v, const Value& n)
{
    return equals(arithmetic(in, ast::BinaryOp::Modulo, v, n), Value::integer(0));
}

bool t_odd(Interpreter& in, const Value& v, const CallArgs& a)
{
    no_args(a, "odd");
    return equals(arithmetic(in, ast::BinaryOp::Modulo, v, Value::integer(2)), Value::integer(1));
}

bool t_even(Interpreter& in, const Value& v, const CallArgs& a)
{
    no_args(a, "even");
    return is_divisible(in, v, Value::integer(2));
}

bool t_divisibleby(Interpreter& in, const Value& v, const CallArgs& a) { return is_divisible(in, v, only_arg(a, "divisibleby")); }

// Python's `is`: singletons and numbers by value, objects by identity.
bool t_sameas(Interpreter&, const Value& v, const CallArgs& a)
{
    const Value& other = only_arg(a, "sameas");
    if (v.kind() != other.kind()) return false;
    if (v.is_none() || v.is_undefined()) return v.is_none();  // every Undefined is a distinct object
    if (v.is_bool() || v.is_int() || v.is_float()) return equals(v, other);
    return v.identity() == other.identity();
}

bool t_eq(Interpreter&, const Value& v, const CallArgs& a) { return equals(v, only_arg(a, "eq")); }
bool t_ne(Interpreter&, const Value& v, const CallArgs& a) { return !equals(v, only_arg(a, "ne")); }
bool t_lt(Interpreter&, const Value& v, const CallArgs& a) { return less_than(v, only_arg(a, "lt")); }
bool t_gt(Interpreter&, const Value& v, const CallArgs& a) { return less_than(only_arg(a, "gt"), v, ">", true); }
bool t_le(Interpreter&, const Value& v, const CallArgs& a)
{
    const Value& other = only_arg(a, "le");
    return less_than(v, other, "<=") || equals(v, other);
}
bool t_ge(Interpreter&, const Value& v, const CallArgs& a)
{
    const Value& other = only_arg(a, "ge");
    return less_than(other, v, ">=", true) || equals(v, other);
}
bool t_in(Interpreter& in, const Value& v, const CallArgs& a) { return contains(in, only_arg(a, "in"), v); }

bool t_filter(Interpreter&, const Value& v, const CallArgs& a)
{
    no_args(a, "filter");
    return v.is_string() && find_filter(v.as_string()) != nullptr;
}

bool t_test(Interpreter&, const Value& v, const CallArgs& a)
{
    no_args(a, "test");
    return v.is_string() && find_test(v.as_string()) != nullptr;
}

struct NamedTest {
    std::string_view name;
    TestFn fn;
};

constexpr NamedTest kTests[] = {
    {"boolean", t_boolean},   {"callable", t_callable}, {"defined", t_defined},   {"divisibleby", t_divisibleby},
    {"eq", t_eq},             {"equalto", t_eq},        {"==", t_eq},             {"escaped", t_escaped},
    {"even", t_even},         {"false", t_false},       {"filter", t_filter},     {"float", t_float},
    {"ge", t_ge},             {">=", t_ge},             {"gt", t_gt},             {"greaterthan", t_gt},
    {">", t_gt},              {"in", t_in},             {"integer", t_integer},   {"iterable", t_iterable},
    {"le", t_le},             {"<=", t_le},             {"lower", t_lower},       {"lt", t_lt},
    {"lessthan", t_lt},       {"<", t_lt},              {"mapping", t_mapping},   {"ne", t_ne},
    {"!=", t_ne},             {"none", t_none},         {"number", t_number},     {"odd", t_odd},
    {"sameas", t_sameas},     {"sequence", t_sequence}, {"string", t_string},     {"test", t_test},
    {"true", t_true},         {"undefined", t_undefined}, {"upper", t_upper},
};

}  // namespace

TestFn find_test(std::string_view name)
{
    for (const auto& t : kTests)
        if (t.name == name) return t.fn;
    return nullptr;
}

}  // namespace mariana::jinja
