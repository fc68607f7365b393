// BPE training (formats/tokenizer/bpe_trainer.h) and the files it writes: merges worked
// out by hand, the incremental trainer against a naive twin that recounts every pair per
// merge, a tokenizer trained on a generated corpus loaded back with Tokenizer::load (round
// trips, exact vocabulary size, special tokens, determinism), and the corpus reader.
// tests/tokenizer_hf_compat_test.sh checks the same files against Hugging Face's JS port.
#include "core/error.h"
#include "formats/chat_template.h"
#include "formats/tokenizer/bpe_trainer.h"
#include "formats/tokenizer/tokenizer.h"
#include "formats/tokenizer/tokenizer_writer.h"
#include "formats/tokenizer/training_corpus.h"
#include "test_data.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace mariana {
namespace {

namespace fs = std::filesystem;

using testing::file_bytes;
using testing::TempDir;

void write_text(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

WordCounts counts_of(std::initializer_list<std::pair<const char*, int64_t>> words)
{
    WordCounts counts;
    for (const auto& [word, count] : words) counts.emplace(word, count);
    return counts;
}

// Merges as "left right" byte strings, for readable expectations.
std::vector<std::string> merge_names(const BpeModel& model)
{
    std::vector<std::string> out;
    for (const auto& [l, r] : model.merges) out.push_back(model.tokens[l] + " " + model.tokens[r]);
    return out;
}

// The naive twin: recounts every pair of every word before each merge.
BpeModel naive_train(const WordCounts& counts, int64_t vocab_size, int64_t min_frequency)
{
    BpeModel model;
    std::map<std::string, int32_t> ids;
    for (int b = 0; b < 256; ++b) ids[model.tokens.emplace_back(1, char(b))] = b;
    std::vector<std::pair<std::vector<int32_t>, int64_t>> words;
    for (const auto& [w, c] : counts) {
        std::vector<int32_t> s;
        for (const char ch : w) s.push_back(static_cast<unsigned char>(ch));
        words.emplace_back(s, c);
    }
    while (int64_t(model.tokens.size()) < vocab_size) {
        std::map<std::pair<int32_t, int32_t>, int64_t> pairs;
        for (const auto& [s, c] : words)
            for (size_t i = 0; i + 1 < s.size(); ++i) pairs[{s[i], s[i + 1]}] += c;
        const std::pair<int32_t, int32_t>* best = nullptr;
        int64_t best_count = 0;
        for (const auto& [p, c] : pairs) {
            auto key = [&](const std::pair<int32_t, int32_t>& q) { return std::tie(model.tokens[q.first], model.tokens[q.second]); };
            if (c > best_count || (c == best_count && key(p) < key(*best))) best = &p, best_count = c;
        }
        if (!best || best_count < min_frequency) break;
        const auto [l, r] = *best;
        const std::string bytes = model.tokens[l] + model.tokens[r];
        if (!ids.contains(bytes)) {
            ids[bytes] = int32_t(model.tokens.size());
            model.tokens.push_back(bytes);
        }
        model.merges.emplace_back(l, r);
        for (auto& [s, c] : words) {
            std::vector<int32_t> merged;
            for (size_t i = 0; i < s.size(); ++i) {
                if (i + 1 < s.size() && s[i] == l && s[i + 1] == r) merged.push_back(ids[bytes]), ++i;
                else merged.push_back(s[i]);
            }
            s = merged;
        }
    }
    return model;
}

// A mixed corpus: English prose, Python code, numbers, Chinese, Japanese, Korean, emoji.
std::string generated_corpus(uint32_t seed, int paragraphs)
{
    static const char* const kWords[] = {"the", "model", "token", "learns", "from", "data", "and", "a", "small",
                                         "engine", "runs", "it", "fast", "on", "every", "core", "with", "memory",
                                         "attention", "expert", "of", "to", "is", "DeepSeek", "Mariana", "training"};
    static const char* const kCode[] = {"def forward(self, x):\n    return self.proj(x) + x\n",
                                        "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
                                        "if __name__ == \"__main__\":\n    main()\n",
                                        "const auto it = map.find(key);  // O(1)\n"};
    static const char* const kCjk[] = {"深度学习模型的训练需要大量数据。", "日本語のテキストも少し含まれています。",
                                       "トークナイザーを学習する", "한국어 문장도 들어 있습니다.", "中文和English混合"};
    static const char* const kEmoji[] = {"👍", "👍🏽", "🚀", "👨‍👩‍👧", "🇫🇷", "😀😀", "❤️"};
    std::mt19937 rng(seed);
    auto pick = [&](const auto& list) { return list[rng() % std::size(list)]; };
    std::string text;
    for (int p = 0; p < paragraphs; ++p) {
        switch (rng() % 5) {
        case 0:
        case 1:
            for (int s = 0, n = 2 + int(rng() % 4); s < n; ++s) {
                for (int w = 0, m = 4 + int(rng() % 10); w < m; ++w) {
                    if (w) text += ' ';
                    text += pick(kWords);
                }
                text += rng() % 3 ? std::string(". ") : fmt::format(", with {} steps. ", rng() % 100000);
            }
            break;
        case 2: text += pick(kCode); break;
        case 3: text += fmt::format("{} {}", pick(kCjk), pick(kEmoji)); break;
        case 4: text += fmt::format("{} + {} = {} ({}%) {}", rng() % 1000, rng() % 100000, rng() % 1000000, rng() % 100, pick(kEmoji)); break;
        }
        text += rng() % 4 ? "\n" : "\n\n";
    }
    return text;
}

constexpr int64_t kSpecials = int64_t(kTrainedSpecialTokens.size());

// Trains on `files` and writes the tokenizer to `dir`.
BpeModel train_files(const std::vector<std::string>& files, int64_t vocab_size, const std::string& dir, int threads)
{
    ThreadPool pool(threads);
    WordCounter counter(trained_special_token_contents());
    for (const std::string& f : files) count_corpus_file(f, counter, pool);
    BpeModel model = train_bpe(counter.counts(), {.vocab_size = vocab_size - kSpecials, .min_frequency = 2});
    write_trained_tokenizer(model, dir, {});
    return model;
}

TEST(BpeTrainer, PreTokenizerIsDeepSeekV3s)
{
    // Same values and the same key order as the file. The 128k-entry model is skipped:
    // ordered_json's linear key lookup would take minutes on it in a sanitizer build.
    using OrderedJson = nlohmann::ordered_json;
    const auto golden = OrderedJson::parse(
        file_bytes(testing::golden_tokenizer_dir("deepseek-v3") + "/tokenizer.json"),
        [](int depth, OrderedJson::parse_event_t event, OrderedJson& parsed) {
            return !(depth == 1 && event == OrderedJson::parse_event_t::key && (parsed == "model" || parsed == "added_tokens"));
        });
    EXPECT_EQ(deepseek_v3_pre_tokenizer().dump(), golden["pre_tokenizer"].dump());
}

TEST(BpeTrainer, HandComputedMerges)
{
    // "aaab" x5, "ab" x2. Pairs: (a,a) 2x5=10, (a,b) 5+2=7 -> merge "a a" first; "aaab" becomes
    // [aa a b] (left to right), pairs (aa,a) 5, (a,b) 7 -> "a b"; then [aa ab] -> "aa ab".
    const BpeModel model = train_bpe(counts_of({{"aaab", 5}, {"ab", 2}}), {.vocab_size = 256 + 10, .min_frequency = 1});
    EXPECT_EQ(merge_names(model), (std::vector<std::string>{"a a", "a b", "aa ab"}));
    ASSERT_EQ(model.tokens.size(), 259u);
    EXPECT_EQ(model.tokens[256], "aa");
    EXPECT_EQ(model.tokens[258], "aaab");
    EXPECT_NE(model.stopped_because.find("single token"), std::string::npos) << model.stopped_because;

    // The same words through the pre-tokenizer: "aaab aaab aaab" is "aaab", " aaab", " aaab".
    ThreadPool pool(1);
    WordCounter counter({});
    const std::vector<std::string> docs = {"aaab aaab aaab"};
    counter.add(docs, pool);
    EXPECT_EQ(counter.counts().at("aaab"), 1);
    EXPECT_EQ(counter.counts().at(" aaab"), 2);
    EXPECT_EQ(merge_names(train_bpe(counter.counts(), {.vocab_size = 256 + 2, .min_frequency = 1})),
              (std::vector<std::string>{"a a", "a b"}));  // then (aa,a) 3 ties (a,b) 3: "a" < "aa"
}

TEST(BpeTrainer, TiesGoToTheSmallestPairAndMinFrequencyStops)
{
    EXPECT_EQ(merge_names(train_bpe(counts_of({{"cd", 3}, {"ab", 3}, {"xy", 2}}), {.vocab_size = 300, .min_frequency = 3})),
              (std::vector<std::string>{"a b", "c d"}));
    const BpeModel stopped = train_bpe(counts_of({{"ab", 1}}), {.vocab_size = 300, .min_frequency = 2});
    EXPECT_TRUE(stopped.merges.empty());
    EXPECT_NE(stopped.stopped_because.find("minimum frequency 2"), std::string::npos) << stopped.stopped_because;
    EXPECT_THROW(train_bpe({}, {.vocab_size = 255}), Error);
}

TEST(BpeTrainer, IncrementalCountsMatchANaiveRecount)
{
    // Three letters make many overlapping runs ("aaaa") and ties.
    for (uint32_t seed = 1; seed <= 40; ++seed) {
        std::mt19937 rng(seed);
        WordCounts counts;
        for (int w = 0; w < 60; ++w) {
            std::string word;
            for (int i = 0, n = 1 + int(rng() % 9); i < n; ++i) word += char('a' + rng() % 3);
            counts[word] += 1 + rng() % 6;
        }
        const int64_t vocab = 256 + 40;
        const BpeModel fast = train_bpe(counts, {.vocab_size = vocab, .min_frequency = 1});
        const BpeModel naive = naive_train(counts, vocab, 1);
        SCOPED_TRACE(fmt::format("seed {}", seed));
        EXPECT_EQ(merge_names(fast), merge_names(naive));
        EXPECT_EQ(fast.tokens, naive.tokens);
    }
}

class TrainedTokenizer : public ::testing::Test {
protected:
    static constexpr int64_t kVocab = 1000;
    static void SetUpTestSuite()
    {
        dir_ = new TempDir;
        write_text(*dir_ / "a.txt", generated_corpus(1, 3000));
        std::ofstream jsonl(*dir_ / "b.jsonl", std::ios::binary);
        for (int i = 0; i < 300; ++i) jsonl << Json{{"text", generated_corpus(100 + i, 3)}, {"id", i}}.dump() << "\n";
        jsonl.close();
        files_ = new std::vector<std::string>{*dir_ / "a.txt", *dir_ / "b.jsonl"};
        model_ = new BpeModel(train_files(*files_, kVocab, *dir_ / "tok", 2));
        tokenizer_ = new Tokenizer(Tokenizer::load(*dir_ / "tok"));
    }
    static void TearDownTestSuite()
    {
        delete tokenizer_;
        delete model_;
        delete files_;
        delete dir_;
    }
    static inline TempDir* dir_;
    static inline std::vector<std::string>* files_;
    static inline BpeModel* model_;
    static inline Tokenizer* tokenizer_;
};

TEST_F(TrainedTokenizer, HasExactlyTheVocabularyAskedFor)
{
    EXPECT_TRUE(model_->stopped_because.empty()) << model_->stopped_because;
    EXPECT_EQ(tokenizer_->vocab_size(), kVocab);
    const Json json = read_json_file(*dir_ / "tok/tokenizer.json");
    EXPECT_EQ(int64_t(json["model"]["vocab"].size()), kVocab);
    EXPECT_EQ(json["model"]["merges"].size(), model_->merges.size());
    EXPECT_FALSE(fs::exists(*dir_ / "tok.partial"));
}

TEST_F(TrainedTokenizer, RoundTripsAnyText)
{
    const std::string texts[] = {
        "",
        "the model learns from data",
        "Completely unseen words: xylophone quizzically 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "深度学习模型 日本語 한국어 中文English混合 鿐 㐀 𠀀",
        "emoji 👍🏽 👨‍👩‍👧 🇫🇷 ❤️ 🫠",
        "def f(x):\r\n\treturn x  # 1234567890 ½ ²\n\n\n   ",
        std::string("nul \0 byte", 10),
        "<｜User｜>hi<｜Assistant｜><think>\nplan</think>answer<｜end▁of▁sentence｜>",
        "<|User|> <｜end_of_sentence｜> look-alikes",
    };
    for (const std::string& text : texts) {
        SCOPED_TRACE(text);
        EXPECT_EQ(tokenizer_->decode(tokenizer_->encode(text, false)), text);
    }
    // Invalid UTF-8 is repaired before encoding, each maximal invalid subsequence one U+FFFD.
    EXPECT_EQ(tokenizer_->decode(tokenizer_->encode("a\xff\xfe b \xe4\xb8 c\xed\xa0\x80", false)),
              "a\uFFFD\uFFFD b \uFFFD c\uFFFD\uFFFD\uFFFD");
}

TEST_F(TrainedTokenizer, SpecialTokensHaveTheirDocumentedIds)
{
    for (int32_t id = 0; id < kSpecials; ++id) {
        const TrainedSpecialToken& t = kTrainedSpecialTokens[id];
        EXPECT_EQ(tokenizer_->token_id(t.content), id);
        EXPECT_EQ(tokenizer_->is_special(id), t.special);
    }
    EXPECT_EQ(tokenizer_->bos_id(), 0);
    EXPECT_EQ(tokenizer_->eos_id(), 1);
    EXPECT_EQ(tokenizer_->token_bytes(kSpecials + ' '), " ");  // byte b is id 7 + b
    const std::vector<int32_t> ids = tokenizer_->encode("<｜User｜>hi<｜Assistant｜><think>\n", true);
    ASSERT_GE(ids.size(), 5u);
    EXPECT_EQ(ids[0], 0);  // BOS from add_special_tokens
    EXPECT_EQ(ids[1], 3);
    EXPECT_EQ(ids[ids.size() - 3], 4);
    EXPECT_EQ(ids[ids.size() - 2], 5);
    EXPECT_EQ(ids.back(), kSpecials + '\n');
    EXPECT_EQ(tokenizer_->decode(std::vector<int32_t>{0, 3, 1}, {.skip_special_tokens = true, .clean_up_spaces = {}}), "<｜User｜>");
}

TEST_F(TrainedTokenizer, MergesTheMostFrequentPairFirst)
{
    ThreadPool pool(1);
    WordCounter counter(trained_special_token_contents());
    for (const std::string& f : *files_) count_corpus_file(f, counter, pool);
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [word, count] : counter.counts())
        for (size_t i = 0; i + 1 < word.size(); ++i) pairs[{word.substr(i, 1), word.substr(i + 1, 1)}] += count;
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it)
        if (it->second > best->second) best = it;
    ASSERT_FALSE(model_->merges.empty());
    const auto [l, r] = model_->merges[0];
    EXPECT_EQ(std::make_pair(model_->tokens[l], model_->tokens[r]), best->first);
    // The learned tokens are the common ones: a frequent word is one token.
    EXPECT_EQ(tokenizer_->encode(" model", false).size(), 1u);
}

TEST_F(TrainedTokenizer, SameInputGivesIdenticalFiles)
{
    TempDir other;
    train_files(*files_, kVocab, other / "tok", 1);  // one thread instead of two
    for (const char* name : {"tokenizer.json", "tokenizer_config.json"})
        EXPECT_EQ(file_bytes(other / "tok/" + name), file_bytes(*dir_ / "tok/" + name)) << name;
}

TEST_F(TrainedTokenizer, ConfigCarriesTheR1Layout)
{
    const Json config = read_json_file(*dir_ / "tok/tokenizer_config.json");
    EXPECT_EQ(config["bos_token"], "<｜begin▁of▁sentence｜>");
    EXPECT_EQ(config["eos_token"], "<｜end▁of▁sentence｜>");
    EXPECT_EQ(config["pad_token"], "<｜▁pad▁｜>");
    EXPECT_EQ(config["add_bos_token"], true);
    EXPECT_EQ(config["add_eos_token"], false);
    EXPECT_EQ(config["tokenizer_class"], "LlamaTokenizerFast");
    EXPECT_EQ(config["chat_template"], trained_chat_template());
    EXPECT_EQ(config["added_tokens_decoder"].size(), size_t(kSpecials));
}

TEST_F(TrainedTokenizer, ChatTemplateRendersR1sFormat)
{
    // shared/golden/tokenizer/NOTES.md, section 6: reasoning before the last </think> is
    // dropped from earlier turns, and the generation prompt opens <think>.
    using OrderedJson = nlohmann::ordered_json;
    const ChatTemplate chat = ChatTemplate::load(*dir_ / "tok/tokenizer_config.json");
    const auto messages = OrderedJson::parse(R"([
        {"role": "system", "content": "Be brief."}, {"role": "system", "content": "Use digits."},
        {"role": "user", "content": "What is 3*7?"},
        {"role": "assistant", "content": "<think>\n3 times 7 is 21.\n</think>\n\n3*7 = 21."},
        {"role": "user", "content": "And 4*8?"}])");
    const std::string text = chat.render(messages, true, nullptr, OrderedJson::object());
    EXPECT_EQ(text, "<｜begin▁of▁sentence｜>Be brief.\n\nUse digits.<｜User｜>What is 3*7?<｜Assistant｜>\n\n3*7 = 21."
                    "<｜end▁of▁sentence｜><｜User｜>And 4*8?<｜Assistant｜><think>\n");
    const std::vector<int32_t> ids = tokenizer_->encode(text, false);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), 0), 1);  // the template writes the only BOS
    EXPECT_EQ(ids.back(), kSpecials + '\n');
    EXPECT_ANY_THROW(chat.render(OrderedJson::parse(R"([{"role": "tool", "content": "42"}])"), false, nullptr,
                                 OrderedJson::object()));
}

TEST(BpeTrainerFiles, RefusesAFolderThatIsNotEmpty)
{
    TempDir dir;
    fs::create_directories(dir / "out");
    write_text(dir / "out/keep.txt", "x");
    const BpeModel model = train_bpe(counts_of({{"ab", 3}}), {.vocab_size = 257});
    EXPECT_THROW(write_trained_tokenizer(model, dir / "out", {}), Error);
    EXPECT_EQ(file_bytes(dir / "out/keep.txt"), "x");
    fs::create_directories(dir / "empty");
    write_trained_tokenizer(model, dir / "empty", {});  // an empty folder is fine
    EXPECT_TRUE(fs::exists(dir / "empty/tokenizer.json"));
}

TEST(TrainingCorpus, PlainTextChunksCountLikeTheWholeText)
{
    // Over a megabyte, so the reader cuts it into documents; lines starting with spaces
    // and blank-line runs are where a careless cut would change the pieces.
    std::string text;
    for (int i = 0; text.size() < 3'500'000; ++i) text += generated_corpus(i, 20) + "  indented\n\n\n \n";
    TempDir dir;
    write_text(dir / "big.txt", text);
    ThreadPool pool(2);
    WordCounter streamed({}), whole({});
    const CorpusFileStats stats = count_corpus_file(dir / "big.txt", streamed, pool);
    EXPECT_GT(stats.documents, 2);
    EXPECT_EQ(stats.bytes, int64_t(text.size()));
    const std::vector<std::string> one = {text};
    whole.add(one, pool);
    EXPECT_EQ(streamed.total_pieces(), whole.total_pieces());
    EXPECT_TRUE(streamed.counts() == whole.counts());
}

TEST(TrainingCorpus, ErrorsNameTheFileAndLine)
{
    TempDir dir;
    ThreadPool pool(1);
    WordCounter counter({});
    write_text(dir / "bad.jsonl", "{\"text\": \"ok\"}\n\n{\"text\": 3}\n");
    try {
        count_corpus_file(dir / "bad.jsonl", counter, pool);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("bad.jsonl:3"), std::string::npos) << e.what();
    }
    write_text(dir / "broken.json", "{\"text\": \"ok\"}\n{\"text\": \n");
    EXPECT_THROW(count_corpus_file(dir / "broken.json", counter, pool), Error);
    EXPECT_THROW(count_corpus_file(dir / "missing.txt", counter, pool), Error);

    write_text(dir / "latin1.jsonl", "{\"text\": \"caf\xe9\"}\n");
    write_text(dir / "latin1.txt", "caf\xe9 \xff\n");
    EXPECT_EQ(count_corpus_file(dir / "latin1.jsonl", counter, pool).repaired_sequences, 1);
    EXPECT_EQ(count_corpus_file(dir / "latin1.txt", counter, pool).repaired_sequences, 2);
    EXPECT_EQ(counter.counts().at("caf"), 2);  // U+FFFD is a symbol: a piece of its own
    EXPECT_EQ(counter.counts().at("\uFFFD"), 2);
}

}  // namespace
}  // namespace mariana
