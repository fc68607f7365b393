// The chat-template engine (src/formats/jinja, src/formats/chat_template): every golden
// conversation of shared/golden/tokenizer/*, the DeepSeek-R1 template, and the interpreter
// feature by feature. Expected strings were produced by Python Jinja2 3.1.6 set up as
// transformers sets it up (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loopcontrols, tojson = json.dumps(ensure_ascii=False)); where we deliberately differ
// (an error instead of Python's big integers, say) the test says so.
//
// To add a case: render the template with that Python setup, paste its output here.
#include "core/error.h"
#include "formats/chat_template.h"
#include "formats/jinja/template.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using mariana::ChatTemplate;
using mariana::jinja::RenderLimits;
using mariana::jinja::Template;
using OrderedJson = nlohmann::ordered_json;

std::string render(std::string_view source, const OrderedJson& variables = OrderedJson::object(),
                   const RenderLimits& limits = {})
{
    return Template::parse(source).render(variables, limits);
}

// The message of the mariana::Error that parsing or rendering throws ("" and a failure if none).
std::string error_of(std::string_view source, const OrderedJson& variables = OrderedJson::object(),
                     const RenderLimits& limits = {})
{
    try {
        const std::string out = render(source, variables, limits);
        ADD_FAILURE() << "no error for template " << source << "; it rendered " << out.substr(0, 200);
    } catch (const mariana::Error& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_ERROR(message, needle) EXPECT_NE((message).find(needle), std::string::npos) << "message: " << (message)

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot open " << path;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// ---------------------------------------------------------------------------------------
// Golden conversations: the templates shipped in the three tokenizer_config.json files.

void expect_golden_chats(const std::string& folder, size_t expected_count)
{
    const std::string dir = std::string(MARIANA_SHARED_DIR) + "/golden/tokenizer/" + folder;
    const ChatTemplate chat_template = ChatTemplate::load(dir + "/tokenizer_config.json");
    const std::string text = read_file(dir + "/chat.jsonl");
    size_t count = 0, start = 0;
    while (start < text.size()) {  // split on '\n' only: the data holds raw U+2028 and U+0085
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        if (line.empty()) continue;
        const OrderedJson chat = OrderedJson::parse(line);
        SCOPED_TRACE(folder + "/" + chat["name"].get<std::string>());
        const OrderedJson tools = chat.contains("tools") ? chat["tools"] : OrderedJson();
        const OrderedJson kwargs = chat.contains("template_kwargs") ? chat["template_kwargs"] : OrderedJson::object();
        EXPECT_EQ(chat_template.render(chat["messages"], chat["add_generation_prompt"].get<bool>(), tools, kwargs),
                  chat["text"].get<std::string>());
        ++count;
    }
    EXPECT_EQ(count, expected_count);
}

TEST(ChatTemplateGolden, DeepSeekV3) { expect_golden_chats("deepseek-v3", 13); }
TEST(ChatTemplateGolden, Qwen3) { expect_golden_chats("qwen3", 16); }
TEST(ChatTemplateGolden, Llama3) { expect_golden_chats("llama3", 11); }

// ---------------------------------------------------------------------------------------
// DeepSeek-R1: the chat_template of the current public DeepSeek-R1 tokenizer_config.json
// (as published copies of it read; not in the golden folder). NOTES.md section 6.

constexpr std::string_view kDeepSeekR1Template =
    R"({% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{%- if message['content'] is none %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- else %}{{'<｜Assistant｜>' + message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}{%- set ns.is_first = true -%}{%- else %}{{'\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\n'}}{% endif %})";

ChatTemplate deepseek_r1()
{
    const OrderedJson config = {{"bos_token", {{"__type", "AddedToken"}, {"content", "<｜begin▁of▁sentence｜>"}}},
                                {"eos_token", {{"__type", "AddedToken"}, {"content", "<｜end▁of▁sentence｜>"}}},
                                {"pad_token", {{"__type", "AddedToken"}, {"content", "<｜end▁of▁sentence｜>"}}},
                                {"unk_token", nullptr}};
    return ChatTemplate::from_source(std::string(kDeepSeekR1Template), config, "DeepSeek-R1");
}

TEST(ChatTemplateDeepSeekR1, DropsReasoningOfEarlierTurnsAndOpensThink)
{
    // The example of NOTES.md section 6, verbatim.
    const OrderedJson messages = OrderedJson::parse(R"([
        {"role": "user", "content": "What is 3*7?"},
        {"role": "assistant", "content": "<think>\n3 times 7 is 21.\n</think>\n\n3*7 = 21."},
        {"role": "user", "content": "And 4*8?"}])");
    EXPECT_EQ(deepseek_r1().render(messages, true, nullptr, OrderedJson::object()),
              "<｜begin▁of▁sentence｜><｜User｜>What is 3*7?<｜Assistant｜>\n\n3*7 = 21.<｜end▁of▁sentence｜>"
              "<｜User｜>And 4*8?<｜Assistant｜><think>\n");
    EXPECT_EQ(deepseek_r1().render(messages, false, nullptr, OrderedJson::object()),
              "<｜begin▁of▁sentence｜><｜User｜>What is 3*7?<｜Assistant｜>\n\n3*7 = 21.<｜end▁of▁sentence｜>"
              "<｜User｜>And 4*8?");
}

TEST(ChatTemplateDeepSeekR1, ToolCallsAndOutputs)
{
    // Two calls closed after the loop, outputs not separated by "\n", and the answer after
    // tool outputs printed without splitting off its reasoning (the template's own quirk).
    const OrderedJson messages = OrderedJson::parse(R"([
        {"role": "system", "content": "You are helpful."},
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}]},
        {"role": "tool", "content": "18C"},
        {"role": "tool", "content": "24C"},
        {"role": "assistant", "content": "<think>ok</think>Paris 18C, Rome 24C."},
        {"role": "user", "content": "Thanks"}])");
    EXPECT_EQ(deepseek_r1().render(messages, true, nullptr, OrderedJson::object()),
              "<｜begin▁of▁sentence｜>You are helpful.\n\nBe brief.<｜User｜>Weather in Paris and Rome?<｜Assistant｜>"
              "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```"
              "<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Rome\"}\n```"
              "<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>18C"
              "<｜tool▁output▁end｜><｜tool▁output▁begin｜>24C<｜tool▁output▁end｜><｜tool▁outputs▁end｜><think>ok</think>"
              "Paris 18C, Rome 24C.<｜end▁of▁sentence｜><｜User｜>Thanks<｜Assistant｜><think>\n");
    // Text before a call, and a conversation ending in a tool output (no generation prompt).
    const OrderedJson with_text = OrderedJson::parse(R"([
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [
            {"type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "content": "found"}])");
    EXPECT_EQ(deepseek_r1().render(with_text, true, nullptr, OrderedJson::object()),
              "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>"
              "function<｜tool▁sep｜>lookup\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
              "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>found<｜tool▁output▁end｜><｜tool▁outputs▁end｜>");
}

// ---------------------------------------------------------------------------------------
// Loading tokenizer_config.json

class ChatTemplateLoad : public ::testing::Test {
protected:
    void SetUp() override
    {
        dir_ = std::filesystem::temp_directory_path() /
               ("mariana-chat-template-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& text)
    {
        const std::string path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    std::filesystem::path dir_;
};

TEST_F(ChatTemplateLoad, NoTemplateIsAnErrorNamingTheFile)
{
    const std::string path = write("tokenizer_config.json", R"({"bos_token": "<s>"})");
    try {
        ChatTemplate::load(path);
        FAIL() << "no error";
    } catch (const mariana::Error& e) {
        EXPECT_ERROR(std::string(e.what()), path);
        EXPECT_ERROR(std::string(e.what()), "no chat_template");
    }
}

TEST_F(ChatTemplateLoad, NamedTemplatesSpecialTokensAndSiblingFile)
{
    const std::string path = write("tokenizer_config.json", R"({
        "chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "{{ bos_token }}|{{ eos_token }}|{{ pad_token is defined }}|{{ unk_token }}|{{ additional_special_tokens }}|{{ tools }}|{{ extra }}"}],
        "bos_token": {"__type": "AddedToken", "content": "<B>", "lstrip": false},
        "eos_token": "<E>", "pad_token": null,
        "additional_special_tokens": ["<x>", {"__type": "AddedToken", "content": "<y>"}]})");
    const ChatTemplate t = ChatTemplate::load(path);
    EXPECT_EQ(t.render(OrderedJson::array(), false, nullptr, {{"extra", 1}}), "<B>|<E>|False||['<x>', '<y>']|None|1");

    write("tokenizer_config.json", R"({"eos_token": "</s>"})");
    write("chat_template.jinja", "{{ messages[0].content }}{{ eos_token }}\n");
    EXPECT_EQ(ChatTemplate::load(path).render(OrderedJson::parse(R"([{"role": "user", "content": "hi"}])"), false,
                                              nullptr, OrderedJson::object()),
              "hi</s>");
}

TEST_F(ChatTemplateLoad, ErrorsNameTheFileAndPosition)
{
    const std::string path = write("tokenizer_config.json", R"({"chat_template": "{% for m in messages %}\n{{ m | shout }}{% endfor %}"})");
    try {
        ChatTemplate::load(path);
        FAIL() << "no error";
    } catch (const mariana::Error& e) {
        EXPECT_EQ(std::string(e.what()), path + ": chat_template: unsupported filter 'shout' at line 2, column 8");
    }
    write("tokenizer_config.json", R"({"chat_template": "{{ raise_exception('Only user and assistant roles are supported!') }}"})");
    try {
        ChatTemplate::load(path).render(OrderedJson::array(), true, nullptr, OrderedJson::object());
        FAIL() << "no error";
    } catch (const mariana::Error& e) {
        EXPECT_ERROR(std::string(e.what()), "Only user and assistant roles are supported!");
        EXPECT_ERROR(std::string(e.what()), "line 1, column 19");
    }
}

// ---------------------------------------------------------------------------------------
// The interpreter, feature by feature (expected outputs from Python Jinja2).

TEST(Jinja, StringMethods)
{
    EXPECT_EQ(render("{% set s = '  Hello World  ' %}{{ s.split() }}|{{ s.split(None, 1) }}|{{ s.rsplit(None, 1) }}|"
                     "{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ ''.split() }}|"
                     "{{ ''.split(',') }}|{{ 'aaa'.rsplit('aa', 1) }}"),
              "['Hello', 'World']|['Hello', 'World  ']|['  Hello', 'World']|['a', 'b', '', 'c']|['a', 'b,c']|"
              "['a,b', 'c']|[]|['']|['a', '']");
    // No-argument strip uses Python's str.isspace set: U+3000, U+001C and U+0085 go, U+FEFF stays.
    EXPECT_EQ(render("{{ '\\u3000x\\x1c\\u0085'.strip() }}|{{ '\\ufeffx '.strip() }}|{{ '\\n\\nx\\n'.strip('\\n') }}|"
                     "{{ 'xxaxx'.lstrip('x') }}|{{ 'xxaxx'.rstrip('x') }}|{{ '  x  '|trim }}|{{ '--x--'|trim('-') }}"),
              "x|\ufeffx|x|axx|xxa|x|x");
    EXPECT_EQ(render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('bc') }}{{ 'abc'.startswith(('x', 'a')) }}"
                     "{{ 'a-b-c'.replace('-', '+') }}{{ 'a-b-c'.replace('-', '', 1) }}{{ 'Hello'.upper() }}"
                     "{{ 'Hello'.lower() }}{{ 'hello world'.title() }}{{ '{} + {} = {x}'.format(1, 2, x=3) }}"
                     "{{ ', '.join(['a', 'b']) }}"),
              "TrueTrueTruea+b+cab-cHELLOhelloHello World1 + 2 = 3a, b");
    EXPECT_EQ(render("{{ 'Ünïcödé Straße'|upper }}|{{ 'ÀÉÎ ΣΑΣ Привет'|lower }}"), "ÜNÏCÖDÉ STRASSE|àéî σας привет");
    EXPECT_EQ(render("{{ 'ab' in 'cabd' }}{{ 'x' not in 'abc' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}"
                     "{{ 'v' in {'k': 'v'} }}{{ 'x' in missing }}"),
              "TrueTrueTrueTrueFalseFalse");
}

// Case mapping follows Python's full mappings where they matter (ß → SS, İ → i̇, final ς), not
// just the one-to-one ones; the |title filter is Jinja2's word[0].upper() + word[1:].lower().
TEST(Jinja, UnicodeCase)
{
    EXPECT_EQ(render("{{ 'straße'|upper }}|{{ 'όλα καλά, ς'|upper }}|{{ 'привет мир'|upper }}|{{ 'ıi'|upper }}|"
                     "{{ 'ǆ µ ÿ'|upper }}"),
              "STRASSE|ΌΛΑ ΚΑΛΆ, Σ|ПРИВЕТ МИР|II|Ǆ Μ Ÿ");
    EXPECT_EQ(render("{{ 'İstanbul'|lower }}|{{ 'ΟΔΟΣ ΣΟΦΙΑΣ Σ ΑΣ.Α'|lower }}|{{ 'ẞ ПРИВЕТ Ǆ Ⅻ'|lower }}"),
              "i\u0307stanbul|οδος σοφιας σ ασ.α|ß привет ǆ ⅻ");
    EXPECT_EQ(render("{{ 'ǆemal straße'.title() }}|{{ 'ΟΔΟΣ'.title() }}|{{ \"they're\".title() }}|{{ 'ßa'.title() }}"),
              "ǅemal Straße|Οδος|They'Re|Ssa");
    EXPECT_EQ(render("{{ 'ßtraße'|capitalize }}|{{ 'ΣΑΣ'|capitalize }}|{{ 'İSTANBUL'|capitalize }}|{{ 'ǆEMAL'.capitalize() }}"),
              "Sstraße|Σας|İstanbul|ǅemal");
    EXPECT_EQ(render("{{ 'ΟΔΟΣ ΣΟΦΙΑΣ'|title }}|{{ 'straße-öl'|title }}|{{ 'ßa'|title }}|{{ \"they're\"|title }}"),
              "Οδος Σοφιας|Straße-Öl|SSa|They're");
    EXPECT_EQ(render("{{ 'Straße'.swapcase() }}|{{ 'ΣΑΣ'.swapcase() }}|{{ 'ǅ'.swapcase() }}|{{ 'ß'.isupper() }}"
                     "{{ 'ß'.islower() }}{{ 'ǅ'.isupper() }}{{ 'ǅ'.islower() }}{{ 'ПРИВЕТ' is upper }}{{ 'ⅻ' is lower }}"),
              "sTRASSE|σας|ǅ|FalseTrueFalseFalseTrueTrue");
    // A variable set from C++ may hold bytes that are not UTF-8: each counts as one character.
    EXPECT_EQ(render("{{ s|length }} {{ s|upper|length }} {{ s|list|length }} {{ s.split()|length }}",
                     {{"s", std::string("a\xff\xc3")}}),
              "3 3 3 1");
}

TEST(Jinja, IndexingAndSlices)
{
    EXPECT_EQ(render("{% set l = [1, 2, 3, 4] %}{{ l[1:] }}{{ l[:-1] }}{{ l[::-1] }}{{ l[::2] }}{{ l[-1] }}{{ l[10] }}|"
                     "{{ 'héllo'[1:4] }}{{ 'héllo'[::-1] }}{{ 'héllo'[1] }}{{ (1, 2, 3)[1:] }}"),
              "[2, 3, 4][1, 2, 3][4, 3, 2, 1][1, 3]4|éllolléhé(2, 3)");
    const OrderedJson vars = {{"messages", OrderedJson::parse(R"([{"role": "a"}, {"role": "b"}, {"role": "c"}])")}};
    EXPECT_EQ(render("{% for m in messages[::-1] %}{{ m.role }}{% endfor %}{{ messages[-1]['role'] }}{{ messages.0.role }}"
                     "{{ messages[5] is defined }}{{ messages[0].missing is defined }}",
                     vars),
              "cbacaFalseFalse");
}

TEST(Jinja, NamespaceAndScoping)
{
    EXPECT_EQ(render("{% set ns = namespace(total=0, names=[]) %}{% for x in [1, 2, 3] %}{% set ns.total = ns.total + x %}"
                     "{% set ns.names = ns.names + ['n' ~ x] %}{% endfor %}{{ ns.total }} {{ ns.names }} {{ ns }}"),
              "6 ['n1', 'n2', 'n3'] <Namespace {'total': 6, 'names': ['n1', 'n2', 'n3']}>");
    // A set inside a loop lasts for that iteration only; {% if %} opens no scope.
    EXPECT_EQ(render("{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 10 * i %}{{ x }} {% endfor %}{{ x }}"),
              "110 120 1");
    EXPECT_EQ(render("{% set y = 5 %}{% if true %}{% set y = 1 %}{% endif %}{{ y }}"), "1");
    EXPECT_EQ(render("{% set a = 1 %}{% with a = 2, b = a %}{{ a }}{{ b }}{% endwith %}{{ a }}"), "211");
}

TEST(Jinja, Loops)
{
    EXPECT_EQ(render("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                     "{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.previtem }}{{ loop.nextitem }}"
                     "{{ loop.cycle('+', '-') }}|{% endfor %}"),
              "10TrueFalse332b+|21FalseFalse321ac-|32FalseTrue310b+|");
    EXPECT_EQ(render("{% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}={{ v }};{% endfor %}"
                     "{% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}:{{ x }}/{{ loop.length }} {% endfor %}"
                     "{% for x in [] %}no{% else %}empty{% endfor %}"),
              "b=1;a=2;1:2/2 2:4/2 empty");
    EXPECT_EQ(render("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}"
                     "{% endif %}{{ i }}{% endfor %}"),
              "0134");
    EXPECT_EQ(render("{% for c in 'ab' %}{{ c }}{% endfor %}{% for k in {'x': 1} %}{{ k }}{% endfor %}"
                     "{% for u in undefined_thing %}never{% endfor %}"),
              "abx");
}

TEST(Jinja, SetUnpackingBlockSetAndMacros)
{
    EXPECT_EQ(render("{% set a, b = 'xy' %}{{ b }}{{ a }}{% set t = 1, 'two' %}{{ t }}{% set block %}B{{ a }}{% endset %}"
                     "[{{ block }}]{% set up | upper %}shout{% endset %}{{ up }}"),
              "yx(1, 'two')[Bx]SHOUT");
    EXPECT_EQ(render("{% macro tag(name, body='', attrs=none) %}<{{ name }}{% if attrs %} {{ attrs }}{% endif %}>{{ body }}"
                     "</{{ name }}>{% endmacro %}{{ tag('b', 'bold') }}{{ tag('i') }}"
                     "{{ tag(name='a', attrs='href=x', body='link') }}"),
              "<b>bold</b><i></i><a href=x>link</a>");
    EXPECT_EQ(render("{% macro count(n) %}{% if n > 0 %}{{ n }}{{ count(n - 1) }}{% endif %}{% endmacro %}{{ count(5) }}"),
              "54321");
    EXPECT_EQ(render("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}"), "(1, 2){'k': 3}");
    // Macros see top-level variables as they are when called.
    EXPECT_EQ(render("{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}"), "2");
}

TEST(Jinja, ExpressionsAndOperators)
{
    EXPECT_EQ(render("{{ 'yes' if 1 > 0 else 'no' }}|{{ 'yes' if 0 else 'no' }}|{{ 'only' if false }}|"
                     "{{ ('only' if false) is defined }}|{{ 1 ~ 'a' ~ none ~ true ~ 2.0 }}|{{ 7 // 2 }} {{ -7 // 2 }} "
                     "{{ 7 % -3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}|{{ 1 < 2 < 3 }}"
                     "{{ 1 < 3 < 2 }}|{{ true and 'x' }}{{ 0 or 'y' }}{{ not 0 }}"),
              "yes|no||False|1aNoneTrue2.0|3 -4 -2 3.5 1024 64 4|TrueFalse|xyTrue");
    EXPECT_EQ(render("{{ 1 == 1.0 }}{{ true == 1 }}{{ [1, 2] == (1, 2) }}{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }}"
                     "{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ -7.5 // 2 }}{{ -7.5 % 2 }}{{ 0x1F + 0o17 + 0b11 + 1_000 }}"),
              "TrueTrueFalseTrueTrueTrue-4.00.51049");
}

TEST(Jinja, PythonPrinting)
{
    EXPECT_EQ(render("{{ 1 }} {{ 1.0 }} {{ 1.5 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 0.1 + 0.2 }} {{ -0.0 }} "
                     "{{ 10 / 4 }} {{ 3 * 1.0 }} {{ true }} {{ false }} {{ none }} {{ [1, 'a', none, true, 2.5] }} "
                     "{{ {'k': \"it's\", 'n': [1]} }} {{ (1,) }} {{ () }} {{ 'x' }}"),
              "1 1.0 1.5 1e+16 1000000000000000.0 0.0001 1e-05 0.30000000000000004 -0.0 2.5 3.0 True False None "
              "[1, 'a', None, True, 2.5] {'k': \"it's\", 'n': [1]} (1,) () x");
    EXPECT_EQ(render("{{ ['tab\\there', 'nl\\n', 'quote\\'s', 'both\\'\"', '\\x00\\x7f\\xa0é\\u200b\\U0001F600'] }}"),
              "['tab\\there', 'nl\\n', \"quote's\", 'both\\'\"', '\\x00\\x7f\\xa0é\\u200b😀']");
    // Integers and floats from JSON stay distinct.
    EXPECT_EQ(render("{{ a }} {{ b }} {{ a / 2 }} {{ c }}", {{"a", 3}, {"b", 3.0}, {"c", nullptr}}), "3 3.0 1.5 None");
}

TEST(Jinja, Tojson)
{
    EXPECT_EQ(render("{{ {'b': 1, 'a': [1, 2.5, none, true], 'c': {'é': 'ü \"q\"'}}|tojson }}"),
              "{\"b\": 1, \"a\": [1, 2.5, null, true], \"c\": {\"é\": \"ü \\\"q\\\"\"}}");
    EXPECT_EQ(render("{{ {'b': 1, 'a': [1, {}], 'c': []}|tojson(indent=2) }}"),
              "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {}\n  ],\n  \"c\": []\n}");
    EXPECT_EQ(render("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ 'é😀'|tojson(ensure_ascii=true) }}|"
                     "{{ [1, 2]|tojson(separators=(',', ':')) }}|{{ '\\x01\\b\\f\\n\\r\\t\\u2028\"\\\\'|tojson }}|"
                     "{{ [1.0, 1e20, 0.5, -0.0]|tojson }}|{{ {1: 'int key', true: 'bool', none: 'null'}|tojson }}"),
              "{\"a\": 2, \"b\": 1}|\"\\u00e9\\ud83d\\ude00\"|[1,2]|\"\\u0001\\b\\f\\n\\r\\t\u2028\\\"\\\\\"|"
              "[1.0, 1e+20, 0.5, -0.0]|{\"1\": \"bool\", \"null\": \"null\"}");
    // Keys of JSON input keep their order (ordered_json), as json.dumps keeps a dict's.
    const OrderedJson tool = OrderedJson::parse(R"({"type": "function", "function": {"name": "f", "parameters": {"z": 1, "a": "ü"}}})");
    EXPECT_EQ(render("{{ tool|tojson }}", {{"tool", tool}}),
              "{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"z\": 1, \"a\": \"ü\"}}}");
    EXPECT_ERROR(error_of("{{ x|tojson }}"), "Object of type Undefined is not JSON serializable");
}

TEST(Jinja, Tests)
{
    EXPECT_EQ(render("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}"
                     "{{ true is number }}{{ 1.5 is number }}{{ 1 is integer }}{{ true is integer }}{{ 1.0 is integer }}"
                     "{{ 1.0 is float }}{{ {} is mapping }}{{ [] is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}"
                     "{{ 1 is iterable }}{{ 'a' is sequence }}{{ {} is sequence }}{{ true is boolean }}{{ 1 is boolean }}"
                     "{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 3 is eq 3 }}{{ 3 is equalto 3 }}{{ 3 is odd }}"
                     "{{ 6 is divisibleby 3 }}{{ 'ab' is lower }}{{ 1 is in [1] }}{{ x is not defined }}"),
              "FalseTrueTrueTrueTrueTrueTrueTrueFalseFalseTrueTrueFalseTrueTrueFalseTrueTrueTrueFalseTrueFalseTrueTrue"
              "TrueTrueTrueTrueTrueTrue");
}

TEST(Jinja, Filters)
{
    EXPECT_EQ(render("{{ [3, 1, 2]|length }}{{ 'héllo'|length }}{{ {'a': 1}|count }}{{ x|length }}|{{ [3, 1, 2]|first }}"
                     "{{ [3, 1, 2]|last }}{{ [3, 1, 2]|sort }}{{ [3, 1, 2]|sort(reverse=true) }}{{ ['b', 'A', 'c']|sort }}"
                     "{{ [3, 1, 2]|reverse|list }}{{ 'abc'|reverse }}{{ [1, 2, 1, 'A', 'a']|unique|list }}{{ 'ab'|list }}"
                     "{{ [1, 2]|join('-') }}{{ [3, 1, 2]|min }}{{ [3, 1, 2]|max }}{{ [3, 1, 2]|sum }}"),
              "3510|32[1, 2, 3][3, 2, 1]['A', 'b', 'c'][2, 1, 3]cba[1, 2, 'A']['a', 'b']1-2136");
    EXPECT_EQ(render("{{ x|default('fallback') }}|{{ ''|default('fallback') }}|{{ ''|default('fallback', true) }}|"
                     "{{ none|d('x') }}|{{ '42'|int + 1 }}|{{ '4.7'|int }}|{{ 'abc'|int }}|{{ 'abc'|int(-1) }}|{{ 3.9|int }}|"
                     "{{ '2.5'|float }}|{{ 3|float }}|{{ 7|string ~ '!' }}|{{ none|string }}|{{ 'HeLLo'|lower }}"
                     "{{ 'hi'|upper }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}|{{ 'a.b'|replace('.', '/') }}|"
                     "{{ {'b': 1, 'a': 2}|items|list }}|{{ {'b': 1, 'a': 2}|dictsort }}"),
              "fallback||fallback|None|43|4|0|-1|3|2.5|3.0|7!|None|helloHI|Hello World|Hello|a/b|[('b', 1), ('a', 2)]|"
              "[('a', 2), ('b', 1)]");
    EXPECT_EQ(render("{% set users = [{'name': 'ann', 'role': 'user'}, {'name': 'bob', 'role': 'assistant'}, "
                     "{'name': 'cy', 'role': 'user', 'x': 1}] %}"
                     "{{ users|selectattr('role', 'equalto', 'user')|map(attribute='name')|join(',') }}|"
                     "{{ users|rejectattr('role', 'eq', 'user')|map(attribute='name')|list }}|"
                     "{{ users|selectattr('x')|list|length }}|{{ users|selectattr('x', 'defined')|map(attribute='name')|first }}|"
                     "{{ users|map(attribute='x', default=0)|list }}|{{ users|map(attribute='name')|map('upper')|list }}|"
                     "{{ [1, 2, 3, 4]|select('odd')|list }}{{ [0, 1, '', 'a']|reject|list }}|"
                     "{{ users|sort(attribute='name', reverse=true)|map(attribute='name')|join }}"),
              "ann,cy|['bob']|1|cy|[0, 0, 1]|['ANN', 'BOB', 'CY']|[1, 3][0, '']|cybobann");
    EXPECT_EQ(render("{{ 'a\\nb'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent('> ', blank=true) }}|"
                     "{{ '%s has %d items (%.1f%%)' % ('list', 3, 42.55) }}|{{ '%s-%s'|format('a', 'b') }}|{{ '<b>&'|e }}|"
                     "{{ 2.5|round }}{{ 3.5|round }}{{ 2.675|round(2) }}{{ -3|abs }}"),
              "a\n  b|  a\n  b|a\n> \n> b|list has 3 items (42.5%)|a-b|&lt;b&gt;&amp;|2.04.02.673");
    EXPECT_EQ(render("{{ range(3)|list }}{{ range(1, 7, 2)|list }}{{ range(3, 0, -1)|list }}|{{ dict(a=1, b='x') }}|"
                     "{{ namespace(a=1).a }}|{{ dict([['a', 1], ('b', 2)]) }}{{ namespace([['c', 3]]).c }}"),
              "[0, 1, 2][1, 3, 5][3, 2, 1]|{'a': 1, 'b': 'x'}|1|{'a': 1, 'b': 2}3");
}

TEST(Jinja, StrftimeNow)
{
    const std::string year = render("{{ strftime_now('%Y') }}");
    ASSERT_EQ(year.size(), 4u);
    EXPECT_GE(std::stoi(year), 2024);
}

TEST(Jinja, WhitespaceControl)
{
    // trim_blocks and lstrip_blocks: block tags on their own lines leave no blank lines.
    EXPECT_EQ(render("line one\n  {% if true %}\n  indented\n  {% endif %}\n{% for i in [1, 2] %}\n  item {{ i }}\n"
                     "{% endfor %}\nend"),
              "line one\n  indented\n  item 1\n  item 2\nend");
    EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c|{{- ' d ' -}}|  {{ 'e' }}  |{# comment #}|\n"
                     "  {#- trimmed -#}  \nx"),
              "abc| d |  e  ||x");
    EXPECT_EQ(render("{% raw %}{{ not }}{% if %}{% endraw %}|{%+ if true %}keep{% endif +%}\nnext"),
              "{{ not }}{% if %}|keep\nnext");
    // keep_trailing_newline=False drops exactly one final newline; \r\n becomes \n.
    EXPECT_EQ(render("ends with newline\n\n"), "ends with newline\n");
    EXPECT_EQ(render("a\r\nb\r\n"), "a\nb");
    // {{ }} is not a block: no lstrip before it and no trim after it.
    EXPECT_EQ(render("  {{ 'v' }}\n  {% if true %}x{% endif %}\n"), "  v\nx");
}

// ---------------------------------------------------------------------------------------
// Errors: bad templates and hostile inputs give a mariana::Error naming what and where.

TEST(JinjaErrors, SyntaxErrorsNameLineAndColumn)
{
    EXPECT_EQ(error_of("{% if x %}\n  {{ x | nosuch }}\n{% endif %}"), "unsupported filter 'nosuch' at line 2, column 10");
    EXPECT_EQ(error_of("{{ x is frobbed }}"), "unsupported test 'frobbed' at line 1, column 9");
    EXPECT_EQ(error_of("{% for m in messages %}\n{{ m }}"),
              "unclosed 'for' block: the template ends before its 'else' or 'endfor' at line 1, column 4");
    EXPECT_EQ(error_of("{% for x in y %}{% endif %}"),
              "unexpected 'endif': the innermost open block is 'for' (line 1, column 4), which ends with 'else' or "
              "'endfor' at line 1, column 20");
    EXPECT_EQ(error_of("{{ 1 + }}"), "unexpected '}}' at line 1, column 8");
    EXPECT_EQ(error_of("{{ (1 }}"), "unexpected '}', expected ')' at line 1, column 7");
    EXPECT_EQ(error_of("ok\n{{ 'unclosed }}"), "unclosed string literal at line 2, column 4");
    EXPECT_EQ(error_of("{{ x"), "unclosed '{{' tag (the template ends before its '}}') at line 1, column 1");
    EXPECT_EQ(error_of("{# never closed"), "unclosed comment (no '#}') at line 1, column 1");
    EXPECT_EQ(error_of("{{ a ! b }}"), "unexpected character '!' at line 1, column 6");
    EXPECT_EQ(error_of("{% include 'other.jinja' %}"), "unsupported tag 'include' at line 1, column 4");
    EXPECT_EQ(error_of("{% frobnicate %}"), "unknown tag 'frobnicate' at line 1, column 4");
    EXPECT_EQ(error_of("{% break %}"), "'break' outside of a for loop at line 1, column 4");
    EXPECT_EQ(error_of("{% for x in y recursive %}{% endfor %}"), "recursive for loops are not supported at line 1, column 15");
    EXPECT_EQ(error_of("{{ f(*args) }}"), "*args and **kwargs in calls are not supported at line 1, column 6");
    EXPECT_ERROR(error_of("{{ 'ok' }}\xff"), "not valid UTF-8");
}

TEST(JinjaErrors, RuntimeErrorsNameTheExpression)
{
    // The location is that of the operation that failed: here the ".content" of an undefined name.
    EXPECT_EQ(error_of("{{ message.content }}"), "'message' is undefined at line 1, column 11");
    EXPECT_EQ(error_of("{{ d.a.b }}", {{"d", OrderedJson::object()}}), "'dict object' has no attribute 'a' at line 1, column 7");
    EXPECT_EQ(error_of("\n  {{ 'a' + 1 }}"), "can only concatenate str (not \"int\") to str at line 2, column 10");
    EXPECT_EQ(error_of("{{ 1 < 'a' }}"), "'<' not supported between instances of 'int' and 'str' at line 1, column 6");
    EXPECT_EQ(error_of("{{ 1 / 0 }}"), "division by zero at line 1, column 6");
    EXPECT_EQ(error_of("{{ none|length }}"), "filter 'length': object of type 'NoneType' has no len() at line 1, column 9");
    EXPECT_EQ(error_of("{% for x in none %}{% endfor %}"), "'NoneType' object is not iterable at line 1, column 4");
    EXPECT_EQ(error_of("{{ raise_exception('Roles must alternate') }}"),
              "Roles must alternate (raised by the template) at line 1, column 19");
    EXPECT_ERROR(error_of("{{ [1].append(2) }}"), "list.append() is not allowed");
    EXPECT_ERROR(error_of("{{ 'a'.encode() }}"), "str.encode() is not supported");
    EXPECT_ERROR(error_of("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"), "macro 'm' takes not more than 1 argument(s)");
    // Python integers are unbounded; ours are int64, so overflow is an error, never a wrap.
    EXPECT_ERROR(error_of("{{ 2 ** 63 }}"), "integer overflow");
}

TEST(JinjaErrors, NestingIsBounded)
{
    const std::string parens = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
    EXPECT_ERROR(error_of(parens), "nested too deeply");
    std::string blocks;
    for (int i = 0; i < 5000; ++i) blocks += "{% if true %}";
    EXPECT_ERROR(error_of(blocks), "nested too deeply");
    std::string chain = "{{ 1";
    for (int i = 0; i < 100000; ++i) chain += " + 1";
    EXPECT_ERROR(error_of(chain + " }}"), "expression nested too deeply");
    EXPECT_ERROR(error_of("{{ " + std::string(10000, '-') + "1 }}"), "nested too deeply");
    EXPECT_ERROR(error_of("{{ " + std::string(10000, '[') + std::string(10000, ']') + " }}"), "nested too deeply");
    // Macro recursion whose every level nests deeply reaches the evaluation depth (or stack)
    // limit before the macro depth limit: an error, never a stack overflow.
    std::string deep = "{{ f(n - 1) }}";
    for (int i = 0; i < 60; ++i) deep = "{% if n > 0 %}" + deep + "{% endif %}";
    EXPECT_ERROR(error_of("{% macro f(n) %}" + deep + "{% endmacro %}{{ f(99) }}"), "nests or recurses too deeply");
    // Nesting within the limits renders.
    EXPECT_EQ(render("{{ " + std::string(90, '(') + "7" + std::string(90, ')') + " }}"), "7");
    EXPECT_EQ(render("{{ " + std::string(90, '-') + "7 }}"), "7");
}

TEST(JinjaErrors, WorkAndMemoryAreBounded)
{
    EXPECT_ERROR(error_of("{% for i in range(10**12) %}{% endfor %}"), "range too big");
    EXPECT_ERROR(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), "recursed too deeply");
    EXPECT_ERROR(error_of("{{ 'x' * 10**12 }}"), "longer than the limit");
    // Exponential fan-out without deep recursion, nested loops, a list doubling in a loop:
    // the step budget stops each (a smaller budget than the default 5M keeps this test fast).
    RenderLimits small;
    small.max_steps = 100'000;
    EXPECT_ERROR(error_of("{% macro f(n) %}{% if n < 40 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}",
                          OrderedJson::object(), small),
                 "too much work (more than 100000");
    EXPECT_ERROR(error_of("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                          OrderedJson::object(), small),
                 "too much work");
    EXPECT_ERROR(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
                          OrderedJson::object(), small),
                 "too much work");
    small.max_output_bytes = 1000;
    EXPECT_ERROR(error_of("{% for i in range(100) %}{{ 'xxxxxxxxxxxxxxxxxxxx' }}{% endfor %}", OrderedJson::object(), small),
                 "longer than the limit of 1000 bytes");
    // A namespace that contains itself cannot be printed forever.
    EXPECT_ERROR(error_of("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"), "nested more than");
}

TEST(JinjaErrors, DeepButLegalRecursionRenders)
{
    // Close to the macro depth limit, each level with nested statements and expressions:
    // must render (and not overflow the native stack, also under ASan).
    std::string body = "{{ n }}";
    for (int i = 0; i < 8; ++i) body = "{% if true %}{% for _ in [1] %}" + body + "{% endfor %}{% endif %}";
    const std::string source = "{% macro f(n) %}" + body + "{% if n > 0 %}{{ f(((((n - 1))))) }}{% endif %}{% endmacro %}{{ f(60) }}";
    std::string expected;
    for (int n = 60; n >= 0; --n) expected += std::to_string(n);
    EXPECT_EQ(render(source), expected);
}

}  // namespace
