// The parser's view of the token list: the current token, look-ahead, matching and
// "expected X, got Y" errors with the token's line and column.
#pragma once

#include "core/error.h"
#include "formats/jinja/ast.h"
#include "formats/jinja/lexer.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace mariana::jinja {

// How a token reads in an error message: "'%}'", "'endfor'", "a string".
inline std::string describe(const Token& t)
{
    switch (t.type) {
    case TokenType::Data: return "template text";
    case TokenType::VariableBegin: return "'{{'";
    case TokenType::VariableEnd: return "'}}'";
    case TokenType::BlockBegin: return "'{%'";
    case TokenType::BlockEnd: return "'%}'";
    case TokenType::Name:
    case TokenType::Operator: return fmt::format("'{}'", t.text);
    case TokenType::String: return "a string";
    case TokenType::Integer:
    case TokenType::Float: return "a number";
    case TokenType::End: return "the end of the template";
    }
    return "a token";
}

class TokenStream {
public:
    // tokens ends with an End token (tokenize() guarantees it).
    explicit TokenStream(const std::vector<Token>& tokens) : tokens_(tokens) {}

    const Token& current() const { return tokens_[pos_]; }
    const Token& peek(size_t n = 1) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
    const Token& advance()  // never moves past the End token
    {
        const Token& t = tokens_[pos_];
        if (pos_ + 1 < tokens_.size()) ++pos_;
        return t;
    }
    static ast::Location loc(const Token& t) { return {t.line, t.column}; }

    bool is_op(std::string_view op) const { return current().type == TokenType::Operator && current().text == op; }
    bool is_name(std::string_view name) const { return current().type == TokenType::Name && current().text == name; }
    bool skip_op(std::string_view op)
    {
        if (!is_op(op)) return false;
        advance();
        return true;
    }
    bool skip_name(std::string_view name)
    {
        if (!is_name(name)) return false;
        advance();
        return true;
    }

    [[noreturn]] static void fail_at(const Token& t, const std::string& message)
    {
        fail("{} at {}", message, describe_position(t.line, t.column));
    }
    [[noreturn]] static void fail_at(ast::Location l, const std::string& message)
    {
        fail("{} at {}", message, describe_position(l.line, l.column));
    }

    void expect_op(std::string_view op)
    {
        if (!skip_op(op)) fail_at(current(), fmt::format("expected '{}', got {}", op, describe(current())));
    }
    const Token& expect_name()
    {
        if (current().type != TokenType::Name) fail_at(current(), fmt::format("expected a name, got {}", describe(current())));
        return advance();
    }
    void expect_block_end()
    {
        if (current().type != TokenType::BlockEnd)
            fail_at(current(), fmt::format("expected the end of the tag '%}}', got {}", describe(current())));
        advance();
    }

private:
    const std::vector<Token>& tokens_;
    size_t pos_ = 0;
};

}  // namespace mariana::jinja
