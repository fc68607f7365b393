// The syntax tree of a parsed template. Every node carries the line and column it starts
// at, for error messages. Expressions also carry their height, which the parser bounds so
// that evaluating (and destroying) a tree can never recurse deeper than a fixed limit.
#pragma once

#include "formats/jinja/builtins.h"
#include "formats/jinja/value.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mariana::jinja::ast {

struct Location {
    int line = 0;
    int column = 0;
};

// ---------------------------------------------------------------------------------------
// Expressions

enum class ExprKind {
    Literal, Name, List, Dict, Unary, Binary, Compare, Conditional, Attribute, Subscript, Slice, Call, Filter, Test
};

struct Expr {
    Expr(ExprKind k, Location l) : kind(k), loc(l) {}
    virtual ~Expr() = default;
    ExprKind kind;
    Location loc;
    int height = 1;
};
using ExprPtr = std::unique_ptr<Expr>;

// Arguments as written at a call, filter or test: f(a, b, key=c).
struct Arguments {
    std::vector<ExprPtr> positional;
    std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Literal : Expr {
    Literal(Location l, Value v) : Expr(ExprKind::Literal, l), value(std::move(v)) {}
    Value value;
};

struct Name : Expr {
    Name(Location l, std::string n) : Expr(ExprKind::Name, l), name(std::move(n)) {}
    std::string name;
};

struct ListExpr : Expr {  // [a, b] or the tuple (a, b)
    ListExpr(Location l, bool tuple) : Expr(ExprKind::List, l), is_tuple(tuple) {}
    std::vector<ExprPtr> items;
    bool is_tuple;
};

struct DictExpr : Expr {
    explicit DictExpr(Location l) : Expr(ExprKind::Dict, l) {}
    std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

enum class UnaryOp { Negate, Plus, Not };
struct Unary : Expr {
    Unary(Location l, UnaryOp o, ExprPtr e) : Expr(ExprKind::Unary, l), op(o), operand(std::move(e)) {}
    UnaryOp op;
    ExprPtr operand;
};

// And/Or short-circuit and return an operand, as in Python; Concat is Jinja's ~.
enum class BinaryOp { Add, Subtract, Multiply, Divide, FloorDivide, Modulo, Power, Concat, And, Or };
struct Binary : Expr {
    Binary(Location l, BinaryOp o, ExprPtr a, ExprPtr b) : Expr(ExprKind::Binary, l), op(o), left(std::move(a)), right(std::move(b)) {}
    BinaryOp op;
    ExprPtr left, right;
};

// a < b <= c chains like Python: each comparison with the next operand, all must hold.
enum class CompareOp { Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual, In, NotIn };
struct Compare : Expr {
    Compare(Location l, ExprPtr f) : Expr(ExprKind::Compare, l), first(std::move(f)) {}
    ExprPtr first;
    std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

struct Conditional : Expr {  // then if condition else otherwise (otherwise may be absent)
    explicit Conditional(Location l) : Expr(ExprKind::Conditional, l) {}
    ExprPtr condition, then, otherwise;
};

struct Attribute : Expr {  // object.name
    Attribute(Location l, ExprPtr o, std::string n) : Expr(ExprKind::Attribute, l), object(std::move(o)), name(std::move(n)) {}
    ExprPtr object;
    std::string name;
};

struct Subscript : Expr {  // object[index], index possibly a Slice
    Subscript(Location l, ExprPtr o, ExprPtr i) : Expr(ExprKind::Subscript, l), object(std::move(o)), index(std::move(i)) {}
    ExprPtr object, index;
};

struct Slice : Expr {  // start:stop:step inside [], each part optional
    explicit Slice(Location l) : Expr(ExprKind::Slice, l) {}
    ExprPtr start, stop, step;
};

struct Call : Expr {
    Call(Location l, ExprPtr c) : Expr(ExprKind::Call, l), callee(std::move(c)) {}
    ExprPtr callee;
    Arguments args;
};

struct Filter : Expr {  // operand | name(args); no operand in {% filter %} and {% set x | f %}
    Filter(Location l, std::string n, FilterFn f) : Expr(ExprKind::Filter, l), name(std::move(n)), fn(f) {}
    ExprPtr operand;
    std::string name;
    FilterFn fn;
    Arguments args;
};

struct Test : Expr {  // operand is [not] name(args)
    Test(Location l, std::string n, TestFn f) : Expr(ExprKind::Test, l), name(std::move(n)), fn(f) {}
    ExprPtr operand;
    std::string name;
    TestFn fn;
    Arguments args;
    bool negated = false;
};

// ---------------------------------------------------------------------------------------
// Statements

enum class StmtKind { Text, Output, If, For, Set, Macro, Scope, FilterBlock, Break, Continue };

struct Stmt {
    Stmt(StmtKind k, Location l) : kind(k), loc(l) {}
    virtual ~Stmt() = default;
    StmtKind kind;
    Location loc;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Text : Stmt {
    Text(Location l, std::string t) : Stmt(StmtKind::Text, l), text(std::move(t)) {}
    std::string text;
};

struct Output : Stmt {  // {{ expr }}
    Output(Location l, ExprPtr e) : Stmt(StmtKind::Output, l), expr(std::move(e)) {}
    ExprPtr expr;
};

struct If : Stmt {
    explicit If(Location l) : Stmt(StmtKind::If, l) {}
    std::vector<std::pair<ExprPtr, Body>> branches;  // if, then each elif
    Body otherwise;
};

// An assignment target: a name, several names to unpack into, or namespace.attribute.
struct Target {
    std::vector<std::string> names;
    bool unpack = false;     // "a, b" or "(a, b)": the value is unpacked
    std::string attribute;  // set: "ns.attr" has names = {"ns"}, attribute = "attr"
};

struct For : Stmt {
    explicit For(Location l) : Stmt(StmtKind::For, l) {}
    Target target;
    ExprPtr iterable;
    ExprPtr filter;  // for x in y if filter
    Body body, otherwise;
};

struct Set : Stmt {  // {% set t = value %} or {% set t [| filter] %}body{% endset %}
    explicit Set(Location l) : Stmt(StmtKind::Set, l) {}
    Target target;
    ExprPtr value;
    std::unique_ptr<Filter> block_filter;
    Body body;
};

struct Macro : Stmt {
    explicit Macro(Location l) : Stmt(StmtKind::Macro, l) {}
    std::string name;
    std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
    Body body;
    // Whether the body mentions varargs / kwargs: only then may a call pass extra
    // positional / keyword arguments (Jinja2's rule).
    bool catch_varargs = false;
    bool catch_kwargs = false;
};

// A body run in its own scope, after optional assignments: {% with %} and the transparent
// {% generation %} block of transformers' AssistantTracker extension.
struct ScopeBlock : Stmt {
    explicit ScopeBlock(Location l) : Stmt(StmtKind::Scope, l) {}
    std::vector<std::pair<std::string, ExprPtr>> assignments;
    Body body;
};

struct FilterBlock : Stmt {  // {% filter f(args) %}body{% endfilter %}
    explicit FilterBlock(Location l) : Stmt(StmtKind::FilterBlock, l) {}
    std::unique_ptr<Filter> filter;
    Body body;
};

struct Break : Stmt {
    explicit Break(Location l) : Stmt(StmtKind::Break, l) {}
};
struct Continue : Stmt {
    explicit Continue(Location l) : Stmt(StmtKind::Continue, l) {}
};

}  // namespace mariana::jinja::ast
