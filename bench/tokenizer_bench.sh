#!/usr/bin/env bash
# Tokenizer encode throughput (MB/s, one thread) and tokenizer.json load time, Mariana
# beside @lenml/tokenizers (a JavaScript port of Hugging Face tokenizers) on the same
# corpus, for each golden tokenizer. The corpus mixes the golden test strings (prose in
# many scripts, code, numbers, emoji, whitespace tricks) with this repository's sources.
#   bench/tokenizer_bench.sh [REPEATS]        (from anywhere; builds what it needs)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$(cd "$ROOT/../shared" && pwd)
REPEATS=${1:-3}
cd "$ROOT"

cmake --preset release >/dev/null
cmake --build build/release -j2 --target tokenizer_bench >/dev/null
[[ -d tests/js/node_modules ]] || npm ci --prefix tests/js --silent

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$SHARED" "$ROOT" "$work/corpus.jsonl" <<'PY'
import glob, json, sys
shared, root, out = sys.argv[1:4]
texts = []
for f in sorted(glob.glob(f"{shared}/golden/tokenizer/*/cases.jsonl"))[:1]:
    texts += [json.loads(l)["text"] for l in open(f, "rb").read().split(b"\n") if l]
# U+0085 and U+FEFF are where the JS port's \s differs; keep the comparison about speed.
texts = [t for t in texts if "\x85" not in t and "\ufeff" not in t]
for f in sorted(glob.glob(f"{root}/src/**/*.[ch]*", recursive=True)) + sorted(glob.glob(f"{root}/docs/*.md")):
    texts += [p for p in open(f, encoding="utf-8").read().split("\n\n") if p.strip()]
with open(out, "w", encoding="utf-8") as o:
    for _ in range(4):
        for t in texts:
            o.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
PY
echo "corpus: $(wc -c <"$work/corpus.jsonl") bytes of JSON Lines, $(wc -l <"$work/corpus.jsonl") texts; best of $REPEATS"
printf "%-12s %-22s %9s %9s %11s\n" tokenizer implementation "load s" "MB/s" tokens
for dir in "$SHARED"/golden/tokenizer/*/; do
  name=$(basename "$dir")
  for impl in mariana lenml; do
    if [[ $impl == mariana ]]; then
      out=$(build/release/bench/tokenizer_bench "$dir" "$work/corpus.jsonl" "$REPEATS")
      label="Mariana (C++)"
    else
      out=$(node bench/tokenizer_bench.mjs "$dir" "$work/corpus.jsonl" "$REPEATS")
      label="@lenml/tokenizers (JS)"
    fi
    python3 -c 'import json, sys; print("{:<12} {:<22} {load_s:9.3f} {mb_per_s:9.2f} {tokens:11d}".format(*sys.argv[1:3], **json.loads(sys.argv[3])))' "$name" "$label" "$out"
  done
done
