// Splits template source into tokens the way Jinja2's lexer does under transformers'
// settings: trim_blocks (the first newline after a block or comment tag is dropped),
// lstrip_blocks (spaces and tabs before a block or comment tag that starts its line are
// dropped), keep_trailing_newline=False (one final newline of the source is dropped),
// "-"/"+" whitespace control on {% %}, {{ }} and {# #}, {% raw %} blocks, and newlines
// normalised to "\n". Comments produce no tokens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mariana::jinja {

enum class TokenType {
    Data,           // literal template text (text)
    VariableBegin,  // {{
    VariableEnd,    // }}
    BlockBegin,     // {%
    BlockEnd,       // %}
    Name,           // identifier or keyword (text)
    String,         // string literal, escapes decoded (text)
    Integer,        // integer literal (integer)
    Float,          // float literal (number)
    Operator,       // + - ** == ( [ ... (text)
    End,            // end of the template
};

struct Token {
    TokenType type = TokenType::End;
    std::string text;
    int64_t integer = 0;
    double number = 0;
    int line = 1;
    int column = 1;
};

// Throws mariana::Error naming the line and column of what cannot be tokenized (an
// unclosed tag or string, an unexpected character, unbalanced brackets, invalid UTF-8).
std::vector<Token> tokenize(std::string_view source);

// "line L, column C" of a position in normalised source; used by the lexer's errors.
std::string describe_position(int line, int column);

}  // namespace mariana::jinja
