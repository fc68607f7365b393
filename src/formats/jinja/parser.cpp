#include "formats/jinja/parser.h"

#include "core/error.h"
#include "formats/jinja/token_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>

namespace mariana::jinja {

namespace {

using namespace ast;

// Tags Jinja2 has that this interpreter does not: an error naming them beats a wrong prompt.
constexpr std::string_view kUnsupportedTags[] = {"include", "import", "from", "extends", "block", "call",
                                                 "autoescape", "do", "trans", "pluralize", "debug", "endblock"};

// 'a', 'b' or 'c'
std::string quoted_list(const std::vector<std::string_view>& names)
{
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i) out += i + 1 == names.size() ? " or " : ", ";
        out += fmt::format("'{}'", names[i]);
    }
    return out;
}

class Parser : private TokenStream {
public:
    explicit Parser(const std::vector<Token>& tokens) : TokenStream(tokens) {}

    Body parse()
    {
        Body body = subparse({});
        return body;
    }

private:
    // Guards recursion in the parser (brackets, unary operators, nested tags).
    struct DepthGuard {
        DepthGuard(Parser& p, const Token& at) : parser(p)
        {
            if (parser.depth_ >= kMaxNesting)
                parser.fail_at(at, fmt::format("template nested too deeply (more than {} levels)", kMaxNesting));
            ++parser.depth_;
        }
        ~DepthGuard() { --parser.depth_; }
        Parser& parser;
    };

    // Sets a node's height from its children and enforces the limit.
    template <class Node>
    std::unique_ptr<Node> finish(std::unique_ptr<Node> node, std::initializer_list<const Expr*> children)
    {
        int h = 0;
        for (const Expr* c : children)
            if (c) h = std::max(h, c->height);
        return finish_height(std::move(node), h);
    }
    template <class Node>
    std::unique_ptr<Node> finish_height(std::unique_ptr<Node> node, int child_height)
    {
        node->height = child_height + 1;
        if (node->height > kMaxExpressionHeight)
            fail_at(node->loc, fmt::format("expression nested too deeply (more than {} levels)", kMaxExpressionHeight));
        return node;
    }
    static int max_height(const Arguments& args)
    {
        int h = 0;
        for (const auto& a : args.positional) h = std::max(h, a->height);
        for (const auto& [k, a] : args.keyword) h = std::max(h, a->height);
        return h;
    }

    // ---- statements --------------------------------------------------------------------

    // Parses template content until a {% name %} with name in end_tags (left unconsumed,
    // positioned at the name) or the end of the template (an error when end_tags is set).
    Body subparse(const std::vector<std::string_view>& end_tags)
    {
        Body body;
        while (true) {
            const Token& t = current();
            switch (t.type) {
            case TokenType::Data:
                body.push_back(std::make_unique<Text>(loc(t), t.text));
                advance();
                break;
            case TokenType::VariableBegin: {
                advance();
                ExprPtr e = parse_tuple(true, false, {});
                if (current().type != TokenType::VariableEnd)
                    fail_at(current(), fmt::format("expected the end of the print statement '}}}}', got {}", describe(current())));
                advance();
                body.push_back(std::make_unique<Output>(loc(t), std::move(e)));
                break;
            }
            case TokenType::BlockBegin: {
                advance();
                if (current().type == TokenType::Name &&
                    std::find(end_tags.begin(), end_tags.end(), current().text) != end_tags.end())
                    return body;
                body.push_back(parse_statement());
                break;
            }
            case TokenType::End:
                if (!open_blocks_.empty()) {
                    const OpenBlock& b = open_blocks_.back();
                    fail_at(b.at, fmt::format("unclosed '{}' block: the template ends before its {}", b.name,
                                              quoted_list(b.end_tags)));
                }
                return body;
            default: fail_at(t, fmt::format("unexpected {}", describe(t)));
            }
        }
    }

    struct OpenBlock {
        std::string_view name;
        Location at;
        std::vector<std::string_view> end_tags;
    };

    // Parses a body that ends at one of end_tags, remembering the open block for errors.
    Body body_until(std::string_view block, Location at, std::vector<std::string_view> end_tags)
    {
        open_blocks_.push_back({block, at, end_tags});
        Body body = subparse(end_tags);
        open_blocks_.pop_back();
        return body;
    }

    StmtPtr parse_statement()
    {
        const Token& t = current();
        if (t.type != TokenType::Name) fail_at(t, fmt::format("expected a tag name, got {}", describe(t)));
        DepthGuard guard(*this, t);
        const std::string& name = t.text;
        if (name == "if") return parse_if();
        if (name == "for") return parse_for();
        if (name == "set") return parse_set();
        if (name == "macro") return parse_macro();
        if (name == "with") return parse_with();
        if (name == "generation") return parse_generation();
        if (name == "filter") return parse_filter_block();
        if (name == "break" || name == "continue") {
            advance();
            if (loop_depth_ == 0) fail_at(t, fmt::format("'{}' outside of a for loop", name));
            expect_block_end();
            if (name == "break") return std::make_unique<Break>(loc(t));
            return std::make_unique<Continue>(loc(t));
        }
        if (std::find(std::begin(kUnsupportedTags), std::end(kUnsupportedTags), name) != std::end(kUnsupportedTags))
            fail_at(t, fmt::format("unsupported tag '{}'", name));
        if (name.rfind("end", 0) == 0 || name == "elif" || name == "else") {
            if (open_blocks_.empty()) fail_at(t, fmt::format("unexpected '{}' with no open block it could close", name));
            const OpenBlock& inner = open_blocks_.back();
            fail_at(t, fmt::format("unexpected '{}': the innermost open block is '{}' (line {}, column {}), which ends with {}",
                                   name, inner.name, inner.at.line, inner.at.column, quoted_list(inner.end_tags)));
        }
        fail_at(t, fmt::format("unknown tag '{}'", name));
    }

    StmtPtr parse_if()
    {
        const Token& start = advance();
        auto node = std::make_unique<If>(loc(start));
        std::vector<std::string_view> ends = {"elif", "else", "endif"};
        ExprPtr condition = parse_tuple(false, false, {});
        expect_block_end();
        Body body = body_until("if", loc(start), ends);
        node->branches.emplace_back(std::move(condition), std::move(body));
        while (true) {
            const Token& tag = advance();
            if (tag.text == "elif") {
                ExprPtr c = parse_tuple(false, false, {});
                expect_block_end();
                Body b = body_until("if", loc(start), ends);
                node->branches.emplace_back(std::move(c), std::move(b));
            } else if (tag.text == "else") {
                expect_block_end();
                node->otherwise = body_until("if", loc(start), {"endif"});
                advance();
                expect_block_end();
                break;
            } else {
                expect_block_end();
                break;
            }
        }
        return node;
    }

    // for/set targets: name, "a, b", "(a, b)"; with_namespace also allows "ns.attr".
    Target parse_target(bool with_namespace, std::string_view end_name)
    {
        Target target;
        if (with_namespace && current().type == TokenType::Name && peek().type == TokenType::Operator && peek().text == ".") {
            target.names.push_back(advance().text);
            advance();
            target.attribute = expect_name().text;
            return target;
        }
        const bool parenthesized = skip_op("(");
        while (true) {
            const Token& t = current();
            if (t.type == TokenType::Operator && t.text == "(")
                fail_at(t, "nested tuple unpacking is not supported");
            target.names.push_back(expect_name().text);
            if (!skip_op(",")) break;
            target.unpack = true;
            if ((parenthesized && is_op(")")) || (!parenthesized && (is_name(end_name) || is_op("="))) ||
                current().type == TokenType::BlockEnd)
                break;
        }
        if (parenthesized) {
            expect_op(")");
            target.unpack = true;
        }
        for (const auto& n : target.names)
            if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None")
                fail_at(current(), fmt::format("cannot assign to '{}'", n));
        return target;
    }

    // The body of a block whose output is captured (block set, filter block): its own
    // scope, and break/continue inside it cannot reach an enclosing loop.
    Body captured_body(std::string_view block, Location at, std::string_view end_tag)
    {
        const int loops = loop_depth_;
        loop_depth_ = 0;
        ++scope_depth_;
        Body body = body_until(block, at, {end_tag});
        --scope_depth_;
        loop_depth_ = loops;
        return body;
    }

    StmtPtr parse_for()
    {
        const Token& start = advance();
        auto node = std::make_unique<For>(loc(start));
        node->target = parse_target(false, "in");
        if (!skip_name("in")) fail_at(current(), fmt::format("expected 'in', got {}", describe(current())));
        node->iterable = parse_tuple(false, false, {"recursive"});
        if (skip_name("if")) node->filter = parse_expression(true);
        if (is_name("recursive")) fail_at(current(), "recursive for loops are not supported");
        expect_block_end();
        ++loop_depth_;
        ++scope_depth_;
        node->body = body_until("for", loc(start), {"else", "endfor"});
        --loop_depth_;
        if (advance().text == "else") {
            expect_block_end();
            node->otherwise = body_until("for", loc(start), {"endfor"});
            advance();
        }
        --scope_depth_;
        expect_block_end();
        return node;
    }

    StmtPtr parse_set()
    {
        const Token& start = advance();
        auto node = std::make_unique<Set>(loc(start));
        node->target = parse_target(true, "");
        if (skip_op("=")) {
            node->value = parse_tuple(true, false, {});
            expect_block_end();
            return node;
        }
        if (is_op("|")) node->block_filter = parse_filter_chain(nullptr, false);
        expect_block_end();
        node->body = captured_body("set", loc(start), "endset");
        advance();
        expect_block_end();
        return node;
    }

    StmtPtr parse_macro()
    {
        const Token& start = advance();
        if (scope_depth_ > 0)
            fail_at(start, "macros can only be defined at the top level of the template (not inside for, macro, "
                           "with, set or filter blocks)");
        auto node = std::make_unique<Macro>(loc(start));
        node->name = expect_name().text;
        expect_op("(");
        bool seen_default = false;
        while (!is_op(")")) {
            if (!node->params.empty()) {
                expect_op(",");
                if (is_op(")")) break;
            }
            const Token& param = expect_name();
            ExprPtr fallback;
            if (skip_op("=")) {
                fallback = parse_expression(true);
                seen_default = true;
            } else if (seen_default) {
                fail_at(param, "non-default argument follows default argument");
            }
            node->params.emplace_back(param.text, std::move(fallback));
        }
        expect_op(")");
        expect_block_end();
        Macro* outer = current_macro_;
        current_macro_ = node.get();
        const int loops = loop_depth_;
        loop_depth_ = 0;  // break/continue cannot reach a loop outside the macro
        ++scope_depth_;
        node->body = body_until("macro", loc(start), {"endmacro"});
        --scope_depth_;
        loop_depth_ = loops;
        current_macro_ = outer;
        advance();
        expect_block_end();
        return node;
    }

    StmtPtr parse_with()
    {
        const Token& start = advance();
        auto node = std::make_unique<ScopeBlock>(loc(start));
        while (current().type != TokenType::BlockEnd) {
            if (!node->assignments.empty()) expect_op(",");
            const std::string& name = expect_name().text;
            expect_op("=");
            node->assignments.emplace_back(name, parse_expression(true));
        }
        expect_block_end();
        ++scope_depth_;
        node->body = body_until("with", loc(start), {"endwith"});
        --scope_depth_;
        advance();
        expect_block_end();
        return node;
    }

    StmtPtr parse_generation()
    {
        const Token& start = advance();
        auto node = std::make_unique<ScopeBlock>(loc(start));
        expect_block_end();
        ++scope_depth_;
        node->body = body_until("generation", loc(start), {"endgeneration"});
        --scope_depth_;
        advance();
        expect_block_end();
        return node;
    }

    StmtPtr parse_filter_block()
    {
        const Token& start = advance();
        auto node = std::make_unique<FilterBlock>(loc(start));
        node->filter = parse_filter_chain(nullptr, true);
        expect_block_end();
        node->body = captured_body("filter", loc(start), "endfilter");
        advance();
        expect_block_end();
        return node;
    }

    // ---- expressions -------------------------------------------------------------------

    bool at_tuple_end(const std::vector<std::string_view>& extra_end_names) const
    {
        const Token& t = current();
        if (t.type == TokenType::VariableEnd || t.type == TokenType::BlockEnd || t.type == TokenType::End) return true;
        if (t.type == TokenType::Operator && t.text == ")") return true;
        return t.type == TokenType::Name &&
               std::find(extra_end_names.begin(), extra_end_names.end(), t.text) != extra_end_names.end();
    }

    // Comma-separated expressions: one expression, or a tuple when there is a comma.
    ExprPtr parse_tuple(bool with_condexpr, bool explicit_parentheses, const std::vector<std::string_view>& extra_end_names)
    {
        const Token& start = current();
        std::vector<ExprPtr> items;
        bool is_tuple = false;
        while (true) {
            if (!items.empty()) expect_op(",");
            if (at_tuple_end(extra_end_names)) break;
            items.push_back(parse_expression(with_condexpr));
            if (is_op(",")) is_tuple = true;
            else break;
        }
        if (!is_tuple) {
            if (!items.empty()) return std::move(items[0]);
            if (!explicit_parentheses) fail_at(current(), fmt::format("expected an expression, got {}", describe(current())));
        }
        auto node = std::make_unique<ListExpr>(loc(start), true);
        int h = 0;
        for (const auto& i : items) h = std::max(h, i->height);
        node->items = std::move(items);
        return finish_height(std::move(node), h);
    }

    ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

    ExprPtr parse_condexpr()
    {
        ExprPtr expr = parse_or();
        while (is_name("if")) {
            const Token& if_token = advance();
            auto node = std::make_unique<Conditional>(loc(if_token));
            node->then = std::move(expr);
            node->condition = parse_or();
            if (skip_name("else")) {
                DepthGuard guard(*this, if_token);  // a if b else c if d else ... recurses here
                node->otherwise = parse_condexpr();
            }
            const auto* c = node->condition.get();
            const auto* t = node->then.get();
            const auto* o = node->otherwise.get();
            expr = finish(std::move(node), {c, t, o});
        }
        return expr;
    }

    ExprPtr binary(const Token& op_token, BinaryOp op, ExprPtr left, ExprPtr right)
    {
        const Expr* l = left.get();
        const Expr* r = right.get();
        return finish(std::make_unique<Binary>(loc(op_token), op, std::move(left), std::move(right)), {l, r});
    }

    ExprPtr parse_or()
    {
        ExprPtr left = parse_and();
        while (is_name("or")) {
            const Token& t = advance();
            left = binary(t, BinaryOp::Or, std::move(left), parse_and());
        }
        return left;
    }

    ExprPtr parse_and()
    {
        ExprPtr left = parse_not();
        while (is_name("and")) {
            const Token& t = advance();
            left = binary(t, BinaryOp::And, std::move(left), parse_not());
        }
        return left;
    }

    ExprPtr parse_not()
    {
        if (is_name("not")) {
            const Token& t = advance();
            DepthGuard guard(*this, t);
            ExprPtr operand = parse_not();
            const Expr* o = operand.get();
            return finish(std::make_unique<Unary>(loc(t), UnaryOp::Not, std::move(operand)), {o});
        }
        return parse_compare();
    }

    ExprPtr parse_compare()
    {
        ExprPtr first = parse_math1();
        std::unique_ptr<Compare> node;
        int h = first->height;
        while (true) {
            const Token& t = current();
            CompareOp op;
            if (t.type == TokenType::Operator && t.text == "==") op = CompareOp::Equal;
            else if (t.type == TokenType::Operator && t.text == "!=") op = CompareOp::NotEqual;
            else if (t.type == TokenType::Operator && t.text == "<") op = CompareOp::Less;
            else if (t.type == TokenType::Operator && t.text == "<=") op = CompareOp::LessEqual;
            else if (t.type == TokenType::Operator && t.text == ">") op = CompareOp::Greater;
            else if (t.type == TokenType::Operator && t.text == ">=") op = CompareOp::GreaterEqual;
            else if (is_name("in")) op = CompareOp::In;
            else if (is_name("not") && peek().type == TokenType::Name && peek().text == "in") {
                op = CompareOp::NotIn;
                advance();
            } else break;
            advance();
            if (!node) node = std::make_unique<Compare>(loc(t), std::move(first));
            ExprPtr operand = parse_math1();
            h = std::max(h, operand->height);
            node->rest.emplace_back(op, std::move(operand));
        }
        if (!node) return first;
        return finish_height(std::move(node), h);
    }

    ExprPtr parse_math1()
    {
        ExprPtr left = parse_concat();
        while (is_op("+") || is_op("-")) {
            const Token& t = advance();
            left = binary(t, t.text == "+" ? BinaryOp::Add : BinaryOp::Subtract, std::move(left), parse_concat());
        }
        return left;
    }

    ExprPtr parse_concat()
    {
        ExprPtr left = parse_math2();
        while (is_op("~")) {
            const Token& t = advance();
            left = binary(t, BinaryOp::Concat, std::move(left), parse_math2());
        }
        return left;
    }

    ExprPtr parse_math2()
    {
        ExprPtr left = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token& t = advance();
            const BinaryOp op = t.text == "*"    ? BinaryOp::Multiply
                                : t.text == "/"  ? BinaryOp::Divide
                                : t.text == "//" ? BinaryOp::FloorDivide
                                                 : BinaryOp::Modulo;
            left = binary(t, op, std::move(left), parse_pow());
        }
        return left;
    }

    ExprPtr parse_pow()
    {
        ExprPtr left = parse_unary(true);
        while (is_op("**")) {
            const Token& t = advance();
            left = binary(t, BinaryOp::Power, std::move(left), parse_unary(true));
        }
        return left;
    }

    ExprPtr parse_unary(bool with_filter)
    {
        DepthGuard guard(*this, current());
        ExprPtr node;
        if (is_op("-") || is_op("+")) {
            const Token& t = advance();
            ExprPtr operand = parse_unary(false);
            const Expr* o = operand.get();
            node = finish(std::make_unique<Unary>(loc(t), t.text == "-" ? UnaryOp::Negate : UnaryOp::Plus, std::move(operand)), {o});
        } else {
            node = parse_primary();
        }
        node = parse_postfix(std::move(node));
        if (with_filter) node = parse_filter_expr(std::move(node));
        return node;
    }

    ExprPtr parse_primary()
    {
        const Token& t = current();
        switch (t.type) {
        case TokenType::Name: {
            advance();
            if (t.text == "true" || t.text == "True") return std::make_unique<Literal>(loc(t), Value::boolean(true));
            if (t.text == "false" || t.text == "False") return std::make_unique<Literal>(loc(t), Value::boolean(false));
            if (t.text == "none" || t.text == "None") return std::make_unique<Literal>(loc(t), Value::none());
            if (current_macro_ && t.text == "varargs") current_macro_->catch_varargs = true;
            if (current_macro_ && t.text == "kwargs") current_macro_->catch_kwargs = true;
            return std::make_unique<Name>(loc(t), t.text);
        }
        case TokenType::String: {
            std::string value;
            while (current().type == TokenType::String) value += advance().text;  // 'a' 'b' is 'ab'
            return std::make_unique<Literal>(loc(t), Value::string(std::move(value)));
        }
        case TokenType::Integer: advance(); return std::make_unique<Literal>(loc(t), Value::integer(t.integer));
        case TokenType::Float: advance(); return std::make_unique<Literal>(loc(t), Value::number(t.number));
        case TokenType::Operator:
            if (t.text == "(") {
                advance();
                ExprPtr e = parse_tuple(true, true, {});
                expect_op(")");
                return e;
            }
            if (t.text == "[") return parse_list();
            if (t.text == "{") return parse_dict();
            break;
        default: break;
        }
        fail_at(t, fmt::format("unexpected {}", describe(t)));
    }

    ExprPtr parse_list()
    {
        const Token& start = advance();
        auto node = std::make_unique<ListExpr>(loc(start), false);
        int h = 0;
        while (!is_op("]")) {
            if (!node->items.empty()) {
                expect_op(",");
                if (is_op("]")) break;
            }
            node->items.push_back(parse_expression(true));
            h = std::max(h, node->items.back()->height);
        }
        expect_op("]");
        return finish_height(std::move(node), h);
    }

    ExprPtr parse_dict()
    {
        const Token& start = advance();
        auto node = std::make_unique<DictExpr>(loc(start));
        int h = 0;
        while (!is_op("}")) {
            if (!node->items.empty()) {
                expect_op(",");
                if (is_op("}")) break;
            }
            ExprPtr key = parse_expression(true);
            expect_op(":");
            ExprPtr value = parse_expression(true);
            h = std::max({h, key->height, value->height});
            node->items.emplace_back(std::move(key), std::move(value));
        }
        expect_op("}");
        return finish_height(std::move(node), h);
    }

    ExprPtr parse_postfix(ExprPtr node)
    {
        while (true) {
            if (is_op(".")) {
                const Token& dot = advance();
                const Token& t = current();
                if (t.type == TokenType::Name) {
                    advance();
                    const Expr* o = node.get();
                    node = finish(std::make_unique<Attribute>(loc(dot), std::move(node), t.text), {o});
                } else if (t.type == TokenType::Integer) {
                    advance();
                    const Expr* o = node.get();
                    node = finish(std::make_unique<Subscript>(loc(dot), std::move(node),
                                                              std::make_unique<Literal>(loc(t), Value::integer(t.integer))),
                                  {o});
                } else {
                    fail_at(t, fmt::format("expected an attribute name after '.', got {}", describe(t)));
                }
            } else if (is_op("[")) {
                const Token& bracket = advance();
                ExprPtr index = parse_subscribed();
                if (is_op(",")) fail_at(current(), "tuple subscripts (x[a, b]) are not supported");
                expect_op("]");
                const Expr* o = node.get();
                const Expr* i = index.get();
                node = finish(std::make_unique<Subscript>(loc(bracket), std::move(node), std::move(index)), {o, i});
            } else if (is_op("(")) {
                node = parse_call(std::move(node));
            } else {
                return node;
            }
        }
    }

    // An index or a slice a:b:c (any part may be missing).
    ExprPtr parse_subscribed()
    {
        const Token& start = current();
        ExprPtr first;
        if (!is_op(":")) {
            first = parse_expression(true);
            if (!is_op(":")) return first;
        }
        advance();  // the first ':'
        auto slice = std::make_unique<Slice>(loc(start));
        slice->start = std::move(first);
        if (!is_op("]") && !is_op(",") && !is_op(":")) slice->stop = parse_expression(true);
        if (skip_op(":") && !is_op("]") && !is_op(",")) slice->step = parse_expression(true);
        const Expr* a = slice->start.get();
        const Expr* b = slice->stop.get();
        const Expr* c = slice->step.get();
        return finish(std::move(slice), {a, b, c});
    }

    Arguments parse_call_args()
    {
        Arguments args;
        expect_op("(");
        bool need_comma = false;
        while (!is_op(")")) {
            if (need_comma) {
                expect_op(",");
                if (is_op(")")) break;
            }
            if (is_op("*") || is_op("**")) fail_at(current(), "*args and **kwargs in calls are not supported");
            if (current().type == TokenType::Name && peek().type == TokenType::Operator && peek().text == "=") {
                const std::string& key = advance().text;
                advance();
                for (const auto& [k, v] : args.keyword)
                    if (k == key) fail_at(current(), fmt::format("keyword argument '{}' repeated", key));
                args.keyword.emplace_back(key, parse_expression(true));
            } else {
                if (!args.keyword.empty()) fail_at(current(), "positional argument follows keyword argument");
                args.positional.push_back(parse_expression(true));
            }
            need_comma = true;
        }
        expect_op(")");
        return args;
    }

    ExprPtr parse_call(ExprPtr callee)
    {
        const Token& paren = current();
        auto node = std::make_unique<Call>(loc(paren), std::move(callee));
        node->args = parse_call_args();
        const int h = std::max(node->callee->height, max_height(node->args));
        return finish_height(std::move(node), h);
    }

    ExprPtr parse_filter_expr(ExprPtr node)
    {
        while (true) {
            if (is_op("|")) node = parse_filter_chain(std::move(node), false);
            else if (is_name("is")) node = parse_test(std::move(node));
            else if (is_op("(")) node = parse_call(std::move(node));
            else return node;
        }
    }

    std::string parse_dotted_name()
    {
        std::string name = expect_name().text;
        while (is_op(".") && peek().type == TokenType::Name) {
            advance();
            name += "." + advance().text;
        }
        return name;
    }

    // "| f(args) | g" applied to operand (null for {% filter %} and {% set x | f %}); with
    // start_inline the first filter has no leading "|".
    std::unique_ptr<Filter> parse_filter_chain(ExprPtr operand, bool start_inline)
    {
        std::unique_ptr<Filter> node;
        while (start_inline || is_op("|")) {
            if (!start_inline) advance();
            start_inline = false;
            const Token& name_token = current();
            const std::string name = parse_dotted_name();
            const FilterFn fn = find_filter(name);
            if (!fn) fail_at(name_token, fmt::format("unsupported filter '{}'", name));
            auto filter = std::make_unique<Filter>(loc(name_token), name, fn);
            if (node) filter->operand = std::move(node);
            else filter->operand = std::move(operand);
            if (is_op("(")) filter->args = parse_call_args();
            const int h = std::max(filter->operand ? filter->operand->height : 0, max_height(filter->args));
            node = finish_height(std::move(filter), h);
        }
        return node;
    }

    ExprPtr parse_test(ExprPtr operand)
    {
        advance();  // 'is'
        const bool negated = skip_name("not");
        const Token& name_token = current();
        const std::string name = parse_dotted_name();
        const TestFn fn = find_test(name);
        if (!fn) fail_at(name_token, fmt::format("unsupported test '{}'", name));
        auto node = std::make_unique<Test>(loc(name_token), name, fn);
        node->operand = std::move(operand);
        node->negated = negated;
        const Token& t = current();
        const bool starts_argument = t.type == TokenType::Name || t.type == TokenType::String ||
                                     t.type == TokenType::Integer || t.type == TokenType::Float ||
                                     (t.type == TokenType::Operator && (t.text == "[" || t.text == "{"));
        if (is_op("(")) {
            node->args = parse_call_args();
        } else if (starts_argument && !is_name("else") && !is_name("or") && !is_name("and")) {
            if (is_name("is")) fail_at(t, "tests cannot be chained with 'is'");
            // One argument without parentheses: x is divisibleby 3, x is sameas none.
            ExprPtr arg = parse_postfix(parse_primary());
            node->args.positional.push_back(std::move(arg));
        }
        const int h = std::max(node->operand->height, max_height(node->args));
        return finish_height(std::move(node), h);
    }

    int depth_ = 0;
    int loop_depth_ = 0;   // enclosing for loops within the current macro (for break/continue)
    int scope_depth_ = 0;  // enclosing blocks that open a scope (macros must be defined outside them)
    Macro* current_macro_ = nullptr;
    std::vector<OpenBlock> open_blocks_;
};

}  // namespace

ast::Body parse_template(const std::vector<Token>& tokens) { return Parser(tokens).parse(); }

}  // namespace mariana::jinja
