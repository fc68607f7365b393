// Training text read from files, streamed into a WordCounter a batch at a time so a corpus
// never has to fit in memory: only the word-count table grows with it.
//
// A file named *.jsonl or *.json is JSON Lines: each non-blank line an object whose string
// "text" is one document. Any other file is plain UTF-8 text, cut into documents of about a
// megabyte right after a newline that is followed by a non-whitespace character; the
// DeepSeek-V3 pre-tokenizer never joins text across such a point, so the pieces are the same
// as for the whole file (a single line over 16 MiB is the exception: it is cut anywhere).
// Invalid UTF-8 is repaired as the tokenizer does, each maximal invalid subsequence
// becoming U+FFFD, and counted.
#pragma once

#include "core/thread_pool.h"
#include "formats/tokenizer/bpe_trainer.h"

#include <cstdint>
#include <string>

namespace mariana {

struct CorpusFileStats {
    int64_t bytes = 0;               // read from the file
    int64_t documents = 0;           // JSON Lines records, or plain-text chunks
    int64_t repaired_sequences = 0;  // invalid UTF-8 sequences replaced by U+FFFD
};

// Throws Error naming the file (and line, for JSON Lines) when it cannot be read or a line
// is not a JSON object with a string "text".
CorpusFileStats count_corpus_file(const std::string& path, WordCounter& counter, ThreadPool& pool);

}  // namespace mariana
