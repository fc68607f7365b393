#!/usr/bin/env bash
# End to end through `mariana tokenize` and `mariana detokenize` on every golden tokenizer
# case (shared/golden/tokenizer/*/cases.jsonl): ids with and without special tokens, and
# decoded text with and without special tokens. Usage: cli_tokenizer_test.sh MARIANA SHARED_DIR
set -uo pipefail
mariana=$1 shared=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

for dir in "$shared"/golden/tokenizer/*/; do
  name=$(basename "$dir")
  # Inputs for both commands, one JSON object a line, split on "\n" only.
  python3 - "$dir/cases.jsonl" "$tmp" <<'PY'
import json, sys
cases = [json.loads(l) for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
with open(f"{sys.argv[2]}/texts.jsonl", "w", encoding="utf-8") as t, open(f"{sys.argv[2]}/ids.jsonl", "w") as i:
    for c in cases:
        t.write(json.dumps({"text": c["text"]}, ensure_ascii=False) + "\n")
        i.write(json.dumps({"ids": c["ids"]}) + "\n")
PY
  "$mariana" tokenize --model "$dir" <"$tmp/texts.jsonl" >"$tmp/plain.out" &&
    "$mariana" tokenize --model "$dir" --add-special-tokens <"$tmp/texts.jsonl" >"$tmp/special.out" &&
    "$mariana" detokenize --model "$dir" <"$tmp/ids.jsonl" >"$tmp/decoded.out" &&
    "$mariana" detokenize --model "$dir" --skip-special-tokens <"$tmp/ids.jsonl" >"$tmp/skipped.out"
  status=$?
  if [[ $status -ne 0 ]]; then
    echo "FAIL $name: a command exited $status"
    failed=$((failed + 1))
    continue
  fi
  if python3 - "$dir/cases.jsonl" "$tmp" <<'PY'; then
import json, sys
cases = [json.loads(l) for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
out = {k: [json.loads(l) for l in open(f"{sys.argv[2]}/{k}.out", "rb").read().split(b"\n") if l]
       for k in ("plain", "special", "decoded", "skipped")}
bad = []
for n, c in enumerate(cases):
    if out["plain"][n]["ids"] != c["ids"]: bad.append(f"case {c['id']}: ids")
    if out["special"][n]["ids"] != c["ids_with_special"]: bad.append(f"case {c['id']}: ids_with_special")
    want = c.get("decoded_clean_up", c["decoded"])
    if out["decoded"][n]["text"] != want: bad.append(f"case {c['id']}: decoded")
    if "decoded_clean_up" not in c and out["skipped"][n]["text"] != c["decoded_skip_special"]:
        bad.append(f"case {c['id']}: decoded_skip_special")
assert all(len(v) == len(cases) for v in out.values()), "line counts differ"
assert not bad, "; ".join(bad[:10])
PY
    echo "ok   $name: tokenize and detokenize match every case"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    failed=$((failed + 1))
  fi
done

# A megabyte-long line and a line of nothing but special tokens, through both commands.
dir=$shared/golden/tokenizer/deepseek-v3
python3 -c '
import json
print(json.dumps({"text": "Grüße, 世界! 42 " * 70000}, ensure_ascii=False))
print(json.dumps({"text": "<｜begin▁of▁sentence｜><｜end▁of▁sentence｜>" * 500}, ensure_ascii=False))
print(json.dumps({"text": ""}))' >"$tmp/long.jsonl"
if "$mariana" tokenize --model "$dir" <"$tmp/long.jsonl" >"$tmp/long_ids.jsonl" &&
   "$mariana" detokenize --model "$dir" <"$tmp/long_ids.jsonl" >"$tmp/long_back.jsonl" &&
   python3 - "$tmp" <<'PY'; then
import json, sys
texts = [json.loads(l)["text"] for l in open(f"{sys.argv[1]}/long.jsonl", encoding="utf-8")]
ids = [json.loads(l)["ids"] for l in open(f"{sys.argv[1]}/long_ids.jsonl")]
back = [json.loads(l)["text"] for l in open(f"{sys.argv[1]}/long_back.jsonl", encoding="utf-8")]
assert back == texts, "round trip differs"
assert ids[1] == [0, 1] * 500, ids[1][:8]
assert ids[2] == []
PY
  echo "ok   deepseek-v3: a megabyte line, a line of special tokens and an empty line round-trip"
  passed=$((passed + 1))
else
  echo "FAIL deepseek-v3: long and special-only lines"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
