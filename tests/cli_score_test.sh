#!/usr/bin/env bash
# `mariana score` and `mariana perplexity` against oracles computed here in Python:
#   - score of the golden token list gives log softmax of the logits DeepSeek's reference
#     implementation computed (shared/golden/model/v3-tiny/logits.f32), token by token;
#   - a "text" line scores the ids `tokenize --add-special-tokens` gives, and a
#     prompt/completion line exactly the completion's part of the whole text's scores;
#   - perplexity equals llama-perplexity's count (windows of --ctx tokens, BOS first, the
#     second half scored) done in Python over `mariana logits` of each window.
# Usage: cli_score_test.sh MARIANA SHARED_DIR SOURCE_DIR
set -uo pipefail
mariana=$1 shared=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
golden=$shared/golden/model/v3-tiny

# 1. The golden tokens against the reference logits.
echo "{\"ids\": $(tr -d '\n' <"$golden/tokens.json")}" >"$tmp/golden.jsonl"
if "$mariana" score --model "$golden" --input "$tmp/golden.jsonl" --threads 2 --compute f32 >"$tmp/golden.out" 2>"$tmp/err" &&
   python3 - "$golden" "$tmp/golden.out" <<'PY'
import json, math, struct, sys
golden, out = sys.argv[1], sys.argv[2]
tokens = json.load(open(f"{golden}/tokens.json"))
vocab = json.load(open(f"{golden}/config.json"))["vocab_size"]
raw = open(f"{golden}/logits.f32", "rb").read()
logits = struct.unpack(f"<{len(raw) // 4}f", raw)
got = json.loads(open(out).read())
want = []
for i in range(len(tokens) - 1):
    row = logits[i * vocab:(i + 1) * vocab]
    m = max(row)
    want.append(row[tokens[i + 1]] - m - math.log(sum(math.exp(x - m) for x in row)))
assert len(got["logprobs"]) == len(want), (len(got["logprobs"]), len(want))
worst = max(abs(a - b) for a, b in zip(got["logprobs"], want))
assert worst < 1e-4, f"largest difference {worst}"
assert abs(got["sum_logprob"] - sum(want)) < 1e-3
assert abs(got["perplexity"] - math.exp(-sum(want) / len(want))) < 1e-3 * got["perplexity"]
PY
then ok "score: golden tokens give the reference implementation's log-probabilities"
else bad "score: golden tokens" "$(cat "$tmp/err")"; fi

# A model with a tokenizer: trained here on the project's docs, random weights.
cat "$src"/README.md "$src"/docs/*.md >"$tmp/corpus.txt"
"$mariana" tokenizer train --vocab-size 1024 --out "$tmp/tok" "$tmp/corpus.txt" >/dev/null &&
  "$mariana" init --config "$src/recipes/configs/tiny-v3.json" --out "$tmp/model" --threads 2 >/dev/null &&
  cp "$tmp"/tok/tokenizer*.json "$tmp/model/" || { echo "FAIL setup"; exit 1; }

# 2. Text, ids and prompt/completion lines agree with each other.
text='The model reasons inside think tags, then answers.'
prompt='The model reasons inside'
ids=$(echo "{\"text\": \"$text\"}" | "$mariana" tokenize --model "$tmp/model" --add-special-tokens)
printf '%s\n' "{\"text\": \"$text\"}" "$ids" "{\"prompt\": \"$prompt\", \"completion\": \"${text#"$prompt"}\"}" \
  >"$tmp/lines.jsonl"
if "$mariana" score --model "$tmp/model" --input "$tmp/lines.jsonl" --threads 2 >"$tmp/lines.out" 2>"$tmp/err" &&
   python3 - "$tmp/lines.out" "$ids" "$(echo "{\"text\": \"$prompt\"}" | "$mariana" tokenize --model "$tmp/model" --add-special-tokens)" <<'PY'
import json, sys
text, ids, pair = [json.loads(line) for line in open(sys.argv[1])]
n_all = len(json.loads(sys.argv[2])["ids"])
n_prompt = len(json.loads(sys.argv[3])["ids"])
assert text == ids, "a text line and its ids score differently"
assert len(text["logprobs"]) == n_all - 1
tail = text["logprobs"][n_prompt - 1:]  # logprobs[i] scores token i + 1
assert pair["logprobs"] == tail, (pair["logprobs"], tail)
assert all(v < 0 for v in text["logprobs"])
PY
then ok "score: text, ids and prompt/completion lines agree"
else bad "score: text, ids and prompt/completion" "$(cat "$tmp/err")"; fi

# 3. Perplexity, windows of 16 over the corpus's first part, against the Python count.
head -c 3000 "$tmp/corpus.txt" >"$tmp/text.txt"
if "$mariana" perplexity --model "$tmp/model" --data "$tmp/text.txt" --ctx 16 --threads 2 >"$tmp/ppl.out" 2>"$tmp/err"; then
  python3 - "$tmp" "$mariana" <<'PY'
import json, math, struct, subprocess, sys
tmp, mariana = sys.argv[1], sys.argv[2]
text = open(f"{tmp}/text.txt", encoding="utf-8").read()
ids = json.loads(subprocess.run([mariana, "tokenize", "--model", f"{tmp}/model", "--add-special-tokens"],
                                input=json.dumps({"text": text}), capture_output=True, text=True, check=True).stdout)["ids"]
bos = ids[0]  # the tokenizer adds BOS, so each window starts with it
ctx, vocab = 16, 1024
nll, count = 0.0, 0
for w in range(len(ids) // ctx):
    window = ids[w * ctx:(w + 1) * ctx]
    window[0] = bos
    json.dump(window, open(f"{tmp}/window.json", "w"))
    subprocess.run([mariana, "logits", "--model", f"{tmp}/model", "--tokens-file", f"{tmp}/window.json",
                    "--out", f"{tmp}/window.f32", "--threads", "2"], check=True)
    raw = open(f"{tmp}/window.f32", "rb").read()
    logits = struct.unpack(f"<{len(raw) // 4}f", raw)
    for j in range(ctx // 2, ctx - 1):
        row = logits[j * vocab:(j + 1) * vocab]
        m = max(row)
        nll -= row[ids[w * ctx + j + 1]] - m - math.log(sum(math.exp(x - m) for x in row))
        count += 1
want = math.exp(nll / count)
line = open(f"{tmp}/ppl.out").read()
got = float(line.split()[1])
assert f"{count} tokens scored" in line, line
assert abs(got - want) < 1e-3 * want, (got, want, line)
PY
  [[ $? -eq 0 ]] && ok "perplexity: llama-perplexity's windows, counted in Python over mariana logits" ||
    bad "perplexity" "$(cat "$tmp/ppl.out")"
else bad "perplexity" "$(cat "$tmp/err")"; fi

# 4. Finished lines are kept when a later line is bad.
printf '%s\n' "$ids" '{"ids": [1, 99999]}' >"$tmp/mixed.jsonl"
"$mariana" score --model "$tmp/model" --input "$tmp/mixed.jsonl" --threads 2 >"$tmp/mixed.out" 2>"$tmp/err"
rc=$?
if [[ $rc -eq 1 && $(wc -l <"$tmp/mixed.out") -eq 1 ]] && grep -q "line 2" "$tmp/err"; then
  ok "score: a bad line stops the run after the lines before it are printed"
else bad "score: bad line after a good one" "exit $rc, $(wc -l <"$tmp/mixed.out") lines, $(cat "$tmp/err")"; fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
