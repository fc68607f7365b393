// The tokenizers against Hugging Face's own output (shared/golden/tokenizer/*/cases.jsonl):
// ids with and without special tokens, decoded text with and without special tokens, and
// the streamed decode. See golden/tokenizer/NOTES.md for what each field means.
#include "core/error.h"
#include "core/utf8.h"
#include "formats/tokenizer/regex.h"
#include "formats/tokenizer/stream_decoder.h"
#include "formats/tokenizer/tokenizer.h"
#include "test_data.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

namespace mariana {
namespace {

using testing::golden_tokenizer_dir;

// Loading a 128k-vocabulary tokenizer.json takes a while; each test reuses one instance.
const Tokenizer& golden_tokenizer(const std::string& name)
{
    static std::map<std::string, Tokenizer> cache;
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(name, Tokenizer::load(golden_tokenizer_dir(name))).first;
    return it->second;
}

std::vector<int32_t> ids_of(const Json& list) { return list.get<std::vector<int32_t>>(); }

class GoldenTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTokenizer, EncodesAndDecodesEveryCase)
{
    const Tokenizer& tokenizer = golden_tokenizer(GetParam());
    int checked = 0;
    for (const std::string& line : testing::read_lines(golden_tokenizer_dir(GetParam()) + "/cases.jsonl")) {
        const Json c = Json::parse(line);
        const std::string text = c["text"];
        SCOPED_TRACE(fmt::format("case {} ({})", c["id"].get<int>(), c["category"].get<std::string>()));
        EXPECT_EQ(tokenizer.encode(text, false), ids_of(c["ids"]));
        EXPECT_EQ(tokenizer.encode(text, true), ids_of(c["ids_with_special"]));
        const std::vector<int32_t> ids = ids_of(c["ids"]);
        EXPECT_EQ(tokenizer.decode(ids, {.clean_up_spaces = false}), c["decoded"].get<std::string>());
        EXPECT_EQ(tokenizer.decode(ids, {.skip_special_tokens = true, .clean_up_spaces = false}),
                  c["decoded_skip_special"].get<std::string>());
        if (c.contains("decoded_clean_up")) {
            EXPECT_EQ(tokenizer.decode(ids), c["decoded_clean_up"].get<std::string>());
        }
        ++checked;
    }
    EXPECT_GE(checked, 200);
}

// Streaming id by id gives exactly the one-shot decode, with and without special tokens,
// and never a piece that ends inside a character.
TEST_P(GoldenTokenizer, StreamedDecodeEqualsOneShotDecode)
{
    const Tokenizer& tokenizer = golden_tokenizer(GetParam());
    for (const std::string& line : testing::read_lines(golden_tokenizer_dir(GetParam()) + "/cases.jsonl")) {
        const Json c = Json::parse(line);
        SCOPED_TRACE(fmt::format("case {}", c["id"].get<int>()));
        for (const bool skip : {false, true}) {
            StreamDecoder stream(tokenizer, skip);
            std::string streamed;
            for (const int32_t id : ids_of(c["ids"])) {
                const std::string piece = stream.push(id);
                EXPECT_TRUE(utf8_is_valid(piece));
                streamed += piece;
            }
            streamed += stream.finish();
            EXPECT_EQ(streamed, tokenizer.decode(ids_of(c["ids"]), {.skip_special_tokens = skip, .clean_up_spaces = false}));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(All, GoldenTokenizer, ::testing::Values("deepseek-v3", "qwen3", "llama3"),
                         [](const auto& info) { return info.param == "deepseek-v3" ? std::string("deepseek_v3") : info.param; });

// DeepSeek spells "안녕하세요 👍🏽" over tokens that end mid-character (NOTES.md, section 5):
// the stream holds those bytes back instead of printing U+FFFD.
TEST(StreamDecoder, HoldsBackPartialCharacters)
{
    const Tokenizer& tokenizer = golden_tokenizer("deepseek-v3");
    const std::vector<int32_t> ids = {31404, 11939, 246, 4567, 73527, 102527, 40965, 124};
    StreamDecoder stream(tokenizer, false);
    std::vector<std::string> pieces;
    for (const int32_t id : ids) pieces.push_back(stream.push(id));
    EXPECT_EQ(pieces, (std::vector<std::string>{"안", "", "녕", "하", "세요", " 👍", "", "🏽"}));
    EXPECT_EQ(stream.finish(), "");
}

// A sequence that can never become valid is replaced as soon as that is certain, and a
// character cut off at the end is replaced when the stream finishes.
TEST(StreamDecoder, ReplacesInvalidBytesLikeTheOneShotDecode)
{
    const Tokenizer& tokenizer = golden_tokenizer("deepseek-v3");
    // Byte-level tokens for single bytes: 0xF0 ("ð") and 0x9F ("Ł"), then "a".
    const int32_t f0 = tokenizer.token_id("ð").value(), x9f = tokenizer.token_id("Ł").value(),
                  a = tokenizer.token_id("a").value();
    StreamDecoder stream(tokenizer, false);
    EXPECT_EQ(stream.push(f0), "");
    EXPECT_EQ(stream.push(x9f), "");
    EXPECT_EQ(stream.push(a), "\uFFFD" "a");  // F0 9F is a maximal subpart: one U+FFFD
    EXPECT_EQ(stream.push(f0), "");
    EXPECT_EQ(stream.finish(), "\uFFFD");
    EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{f0, x9f, a, f0}), "\uFFFD" "a\uFFFD");
}

TEST(Utf8, RepairReplacesEachMaximalInvalidSubsequence)
{
    // Examples from Unicode's "U+FFFD substitution of maximal subparts".
    EXPECT_EQ(utf8_repair("a\x80" "b"), "a\uFFFD" "b");
    EXPECT_EQ(utf8_repair("\xF0\x9F\x91"), "\uFFFD");            // truncated 4-byte character
    EXPECT_EQ(utf8_repair("\xE0\x80\x80"), "\uFFFD\uFFFD\uFFFD");  // overlong: each byte
    EXPECT_EQ(utf8_repair("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // surrogate
    EXPECT_EQ(utf8_repair("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // past U+10FFFF
    EXPECT_EQ(utf8_repair(std::string("x\0" "y", 3)), std::string("x\0" "y", 3));
    EXPECT_TRUE(utf8_is_valid("안녕 👍"));
    EXPECT_FALSE(utf8_is_valid("\xC0\xAF"));
}

bool matches_whole(const Regex& regex, std::string_view text)
{
    const Regex::Match m = regex.search(text, 0);
    return m.found && m.begin == 0 && m.end == text.size();
}

// Debian's Oniguruma has Unicode 14 tables; the reference classifies by Unicode 16 (golden
// DeepSeek cases 320 and 322). Kawi U+11F04, Todhri U+105C0, Garay U+10D4A and CJK
// Extension I U+2EBF0 are letters; Garay digit U+10D40 is a number.
TEST(Regex, ClassifiesByUnicode16)
{
    const std::string new_letters = "\U00011F04\U000105C0\U00010D4A\U0002EBF0";
    EXPECT_TRUE(matches_whole(Regex("\\p{L}+", "t"), new_letters + "é"));
    EXPECT_TRUE(matches_whole(Regex("\\p{Letter}+", "t"), new_letters));
    EXPECT_TRUE(matches_whole(Regex("[^\\s\\p{L}\\p{N}]+", "t"), "!?"));
    EXPECT_FALSE(Regex("[^\\s\\p{L}\\p{N}]", "t").search(new_letters + "\U00010D40", 0).found);
    EXPECT_FALSE(Regex("\\P{L}", "t").search(new_letters, 0).found);
    EXPECT_FALSE(Regex("\\p{^L}", "t").search(new_letters, 0).found);
    EXPECT_TRUE(matches_whole(Regex("\\p{N}", "t"), "\U00010D40"));
    EXPECT_TRUE(matches_whole(Regex("\\\\p{L}", "t"), "\\p{L}"));  // an escaped backslash stays literal
    EXPECT_TRUE(matches_whole(Regex("\\p{Lu}\\p{Ll}", "t"), "Ab"));  // other properties as Oniguruma has them
}

// The reference only accepts valid strings; Mariana encodes invalid input as its repaired
// form, so the ids are those of the text with U+FFFD in place.
TEST(Tokenizer, EncodesInvalidUtf8AsItsRepairedText)
{
    const Tokenizer& tokenizer = golden_tokenizer("qwen3");
    EXPECT_EQ(tokenizer.encode("caf\xC3" " ok\xFF", false), tokenizer.encode("caf\uFFFD ok\uFFFD", false));
    EXPECT_EQ(tokenizer.encode("", true), std::vector<int32_t>{});
    EXPECT_EQ(golden_tokenizer("deepseek-v3").encode("", true), std::vector<int32_t>{0});
    EXPECT_EQ(tokenizer.decode(std::vector<int32_t>{}), "");
    EXPECT_THROW(tokenizer.decode(std::vector<int32_t>{tokenizer.vocab_size()}), Error);
    EXPECT_THROW(tokenizer.decode(std::vector<int32_t>{-1}), Error);
}

// Megabyte pieces stress the pre-tokenizer's backtracking and BPE on one huge word (a
// priority queue keeps it O(n log n)); each must come back exactly.
TEST(Tokenizer, MegabyteInputsRoundTrip)
{
    const Tokenizer& tokenizer = golden_tokenizer("deepseek-v3");
    const std::string mixed = "Hello, world! 12345 naïve café 数学 🙂\n\t  ";
    std::string long_mixed;
    while (long_mixed.size() < (1 << 20)) long_mixed += mixed;
    for (const std::string& text : {long_mixed, std::string(1 << 20, 'a'), std::string(1 << 20, ' '),
                                    std::string(1 << 20, '7'), std::string(1 << 20, '\n')}) {
        SCOPED_TRACE(text.substr(0, 8));
        const std::vector<int32_t> ids = tokenizer.encode(text, false);
        EXPECT_LT(ids.size(), text.size());
        EXPECT_EQ(tokenizer.decode(ids, {.clean_up_spaces = false}), text);
    }
}

TEST(Tokenizer, TextMadeOnlyOfSpecialTokens)
{
    const Tokenizer& tokenizer = golden_tokenizer("deepseek-v3");
    const std::string bos = "<｜begin▁of▁sentence｜>", eos = "<｜end▁of▁sentence｜>";
    std::string text;
    for (int i = 0; i < 1000; ++i) text += i % 2 ? eos : bos;
    const std::vector<int32_t> ids = tokenizer.encode(text, false);
    ASSERT_EQ(ids.size(), 1000u);
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i % 2 ? tokenizer.eos_id() : tokenizer.bos_id());
    EXPECT_EQ(tokenizer.decode(ids, {.clean_up_spaces = false}), text);
    EXPECT_EQ(tokenizer.decode(ids, {.skip_special_tokens = true, .clean_up_spaces = false}), "");
}

}  // namespace
}  // namespace mariana
