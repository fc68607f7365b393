# Sourced by the CLI tests that talk to a model: the test's bookkeeping (ok, bad, a temporary
# folder removed on exit) and $tmp/model, a tiny random DeepSeek-V3-style checkpoint with a
# byte-level BPE tokenizer trained here on the project's docs (R1's chat template).
# Needs $mariana and $src set.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

cat "$src"/README.md "$src"/docs/*.md >"$tmp/corpus.txt"
"$mariana" tokenizer train --vocab-size 1024 --out "$tmp/tok" "$tmp/corpus.txt" >/dev/null &&
  "$mariana" init --config "$src/recipes/configs/tiny-v3.json" --out "$tmp/model" --threads 2 >/dev/null &&
  cp "$tmp"/tok/tokenizer*.json "$tmp/model/" || { echo "FAIL setup"; exit 1; }
