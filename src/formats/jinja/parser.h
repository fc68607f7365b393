// Builds the syntax tree from tokens with Jinja2's grammar and operator precedence
// (jinja2/parser.py): ternary < or < and < not < comparisons (chained, in, not in) < + - <
// ~ < * / // % < ** (left-associative, as in Jinja2) < unary - + < postfix (.attr, [i],
// [a:b:c], call) < filters and tests. Tags: if/elif/else, for (with "if" filter and else),
// set (plain, namespace attribute, tuple unpacking, block), macro, with, filter, break,
// continue, raw, and transformers' generation block.
//
// Unknown filters and tests, unsupported tags ({% include %}, {% call %}, recursive loops)
// and unsupported syntax (*args) are errors naming the line and column, never skipped.
// Nesting is limited (kMaxNesting, kMaxExpressionHeight) so hostile templates cannot
// exhaust the stack.
#pragma once

#include "formats/jinja/ast.h"
#include "formats/jinja/lexer.h"

#include <vector>

namespace mariana::jinja {

inline constexpr int kMaxNesting = 100;             // brackets, unary operators, tags inside tags
inline constexpr int kMaxExpressionHeight = 256;    // e.g. a + b + c + ... chains

ast::Body parse_template(const std::vector<Token>& tokens);

}  // namespace mariana::jinja
