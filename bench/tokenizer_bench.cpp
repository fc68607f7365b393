// Tokenizer speed: load time of tokenizer.json and single-thread encode throughput over a
// corpus of JSON Lines {"text": ...}. Prints one JSON object so bench/tokenizer_bench.sh
// can put it beside the reference implementation's figures.
//   tokenizer_bench TOKENIZER_DIR CORPUS.jsonl [REPEATS]
#include "core/error.h"
#include "core/json.h"
#include "formats/tokenizer/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s TOKENIZER_DIR CORPUS.jsonl [REPEATS]\n", argv[0]);
        return 2;
    }
    try {
        std::vector<std::string> texts;
        size_t bytes = 0;
        std::ifstream in(argv[2], std::ios::binary);
        if (!in) mariana::fail("cannot open {}", argv[2]);
        for (std::string line; std::getline(in, line, '\n');) {
            if (line.empty()) continue;
            texts.push_back(mariana::parse_json(line, argv[2])["text"].get<std::string>());
            bytes += texts.back().size();
        }
        const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;

        auto start = std::chrono::steady_clock::now();
        const mariana::Tokenizer tokenizer = mariana::Tokenizer::load(argv[1]);
        const double load_seconds = seconds_since(start);

        double best = 1e30;
        size_t tokens = 0;
        for (int r = 0; r < repeats; ++r) {
            tokens = 0;
            start = std::chrono::steady_clock::now();
            for (const std::string& text : texts) tokens += tokenizer.encode(text, false).size();
            best = std::min(best, seconds_since(start));
        }
        std::printf("{\"load_s\": %.3f, \"bytes\": %zu, \"tokens\": %zu, \"encode_s\": %.3f, \"mb_per_s\": %.2f}\n",
                    load_seconds, bytes, tokens, best, bytes / best / 1e6);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tokenizer_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
