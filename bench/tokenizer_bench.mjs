// The reference side of bench/tokenizer_bench.sh: @lenml/tokenizers (a JavaScript port of
// Hugging Face tokenizers) timed on the same corpus, one thread, same output as
// tokenizer_bench.cpp.   node tokenizer_bench.mjs TOKENIZER_DIR CORPUS.jsonl [REPEATS]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../tests/js/package.json"));
const { TokenizerLoader } = require("@lenml/tokenizers");

const [dir, corpus, repeatsArg] = process.argv.slice(2);
const texts = readFileSync(corpus, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l).text);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, "utf8"), 0);
const repeats = Math.max(1, Number(repeatsArg ?? 3));

let start = performance.now();
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
  tokenizerConfig: JSON.parse(readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
});
const loadSeconds = (performance.now() - start) / 1000;

let best = Infinity, tokens = 0;
for (let r = 0; r < repeats; ++r) {
  tokens = 0;
  start = performance.now();
  for (const t of texts) tokens += tokenizer.encode(t, { add_special_tokens: false }).length;
  best = Math.min(best, (performance.now() - start) / 1000);
}
console.log(JSON.stringify({ load_s: +loadSeconds.toFixed(3), bytes, tokens, encode_s: +best.toFixed(3),
                             mb_per_s: +(bytes / best / 1e6).toFixed(2) }));
