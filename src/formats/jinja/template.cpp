#include "formats/jinja/template.h"

#include "core/error.h"
#include "formats/jinja/interpreter.h"
#include "formats/jinja/lexer.h"
#include "formats/jinja/parser.h"

namespace mariana::jinja {

Template Template::parse(std::string_view source)
{
    Template t;
    t.body_ = std::make_shared<const ast::Body>(parse_template(tokenize(source)));
    return t;
}

std::string Template::render(const std::vector<std::pair<std::string, Value>>& variables, const RenderLimits& limits) const
{
    MARIANA_CHECK(body_, "render() on a Template that was not parsed");
    Interpreter interpreter(limits);
    return interpreter.render(*body_, variables);
}

std::string Template::render(const nlohmann::ordered_json& variables, const RenderLimits& limits) const
{
    if (!variables.is_object()) fail("template variables must be a JSON object, got {}", variables.type_name());
    std::vector<std::pair<std::string, Value>> values;
    for (const auto& [name, value] : variables.items()) values.emplace_back(name, from_json(value));
    return render(values, limits);
}

}  // namespace mariana::jinja
