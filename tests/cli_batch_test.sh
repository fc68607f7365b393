#!/usr/bin/env bash
# `mariana batch` on a tiny random model with a tokenizer trained here: every line and
# sample gets its output line with the documented fields; a sample inside a batch is the
# same as that seed alone; --ordered keeps input order; a run is reproducible; an
# interrupted run (Ctrl-C, or a line cut off mid-write) continues with --resume to the
# same result; finished output is never overwritten; bad lines are named and skipped or
# stop the run.
# Usage: cli_batch_test.sh MARIANA SOURCE_DIR
set -uo pipefail
mariana=$1 src=$2
source "$(dirname "$0")/tiny_chat_model.sh"

batch() { "$mariana" batch --model "$tmp/model" --threads 2 --temperature 0.8 "$@"; }
# Sorted by (index, sample), for comparing runs whose lines finish in different orders.
sorted() { python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows.sort(key=lambda r: (r["index"], r.get("sample", 0)))
print("\n".join(json.dumps(r, sort_keys=True) for r in rows))' "$1"; }

cat >"$tmp/in.jsonl" <<'LINES'
{"messages": [{"role": "user", "content": "What is 2+2?"}], "id": "first"}
{"prompt": "Once upon a time", "max_tokens": 9, "n": 3, "seed": 5}

{"prompt": "The tokenizer", "max_tokens": 12}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}], "temperature": 0}
LINES
batch --input "$tmp/in.jsonl" --output "$tmp/out.jsonl" -n 16 --logprobs 2>"$tmp/err"
rc=$?
check=$(python3 - "$tmp/out.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = {(r["index"], r.get("sample", 0)) for r in rows}
want = {(1, 0), (2, 0), (2, 1), (2, 2), (4, 0), (5, 0)}
assert keys == want, f"lines {sorted(keys)}"
for r in rows:
    for f in ("reasoning", "content", "finish_reason", "prompt_tokens", "completion_tokens", "tokens", "logprobs"):
        assert f in r, f"no {f} in {r}"
    assert len(r["tokens"]) == len(r["logprobs"]) == r["completion_tokens"], "tokens and log-probs disagree"
    assert r["finish_reason"] in ("stop", "length"), r["finish_reason"]
    assert all(lp <= 0 for lp in r["logprobs"])
first = next(r for r in rows if r["index"] == 1)
assert first["id"] == "first" and first["messages"][0]["content"] == "What is 2+2?", "input fields not kept"
# R1's template opens <think>: an unfinished reply is all reasoning.
assert first["content"] == "" and first["reasoning"] != "", "reasoning not set apart"
assert all(r["completion_tokens"] == 9 for r in rows if r["index"] == 2)
assert len({tuple(r["tokens"]) for r in rows if r["index"] == 2}) == 3, "samples are not different"
PY
)
[[ $rc -eq 0 && -z $check ]] && ok "every line and sample written with its fields" || bad "fields" "rc $rc $check $(cat "$tmp/err")"

# Sample 1 of a line with seed 5 is the line with seed 6 alone.
echo '{"prompt": "Once upon a time", "max_tokens": 9, "seed": 6}' >"$tmp/one.jsonl"
batch --input "$tmp/one.jsonl" --output "$tmp/one.out" --logprobs 2>/dev/null
alone=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r["tokens"], r["logprobs"])' "$tmp/one.out")
inside=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["index"] == 2 and r["sample"] == 1: print(r["tokens"], r["logprobs"])' "$tmp/out.jsonl")
[[ -n $alone && $alone == "$inside" ]] && ok "a sample inside a batch is its seed alone, to the bit" ||
  bad "batch invariance" "alone $alone, inside $inside"

# --ordered writes in input order; a second run gives the same lines.
batch --input "$tmp/in.jsonl" --output "$tmp/ordered.jsonl" -n 16 --logprobs --ordered 2>/dev/null
order=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["index"]) for l in open(sys.argv[1])))' "$tmp/ordered.jsonl")
[[ $order == "1 2 2 2 4 5" ]] && ok "--ordered keeps input order" || bad "--ordered" "$order"
[[ "$(sorted "$tmp/ordered.jsonl")" == "$(sorted "$tmp/out.jsonl")" ]] && ok "runs are reproducible" ||
  bad "reproducible" "two runs differ"

# Existing output is never overwritten without --resume.
cp "$tmp/out.jsonl" "$tmp/keep.jsonl"
if batch --input "$tmp/in.jsonl" --output "$tmp/out.jsonl" -n 16 2>"$tmp/err"; then bad "overwrite" "exited 0"
elif ! cmp -s "$tmp/out.jsonl" "$tmp/keep.jsonl"; then bad "overwrite" "the output changed"
elif ! grep -q -- "--resume" "$tmp/err"; then bad "overwrite" "$(cat "$tmp/err")"
else ok "existing output is kept, the error says --resume"; fi

# A run that died mid-write: two whole lines and half of the third. --resume drops the
# half line and completes the rest, to the same result.
{ head -n 2 "$tmp/ordered.jsonl"; sed -n 3p "$tmp/ordered.jsonl" | head -c 40; } >"$tmp/cut.jsonl"
batch --input "$tmp/in.jsonl" --output "$tmp/cut.jsonl" -n 16 --logprobs --resume 2>"$tmp/err"
[[ $? -eq 0 && "$(sorted "$tmp/cut.jsonl")" == "$(sorted "$tmp/out.jsonl")" ]] &&
  ok "--resume after a line cut off mid-write" || bad "--resume" "$(cat "$tmp/err")"

# Ctrl-C: a clean stop that keeps whole lines only, then --resume finishes the job.
for i in $(seq 1 16); do echo "{\"prompt\": \"Line $i of a long job\", \"seed\": $i}"; done >"$tmp/long.jsonl"
# (mariana itself in the background, not a function's subshell, so the signal reaches it)
"$mariana" batch --model "$tmp/model" --threads 2 --input "$tmp/long.jsonl" --output "$tmp/long.out" -n 150 \
  --max-sequences 2 --context 256 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 300); do [[ -s $tmp/long.out ]] && break; sleep 0.05; done
kill -INT $pid
wait $pid
rc=$?
lines=$(wc -l <"$tmp/long.out")
valid=$(python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]; print("yes")' "$tmp/long.out" 2>/dev/null)
if [[ $rc -ne 130 || $valid != yes || $lines -ge 16 ]]; then bad "Ctrl-C" "rc $rc, $lines lines, valid '$valid': $(tail -2 "$tmp/err")"
elif ! grep -q -- "--resume" "$tmp/err"; then bad "Ctrl-C" "no hint: $(cat "$tmp/err")"
else
  "$mariana" batch --model "$tmp/model" --threads 2 --input "$tmp/long.jsonl" --output "$tmp/long.out" -n 150 \
    --max-sequences 2 --context 256 --resume 2>/dev/null
  n=$(python3 -c 'import json,sys; print(len({json.loads(l)["index"] for l in open(sys.argv[1])}))' "$tmp/long.out")
  [[ $n -eq 16 && $(wc -l <"$tmp/long.out") -eq 16 ]] && ok "Ctrl-C stops cleanly ($lines lines kept), --resume finishes" ||
    bad "resume after Ctrl-C" "$n distinct lines of $(wc -l <"$tmp/long.out")"
fi

# Bad lines (a prompt longer than the context among them): each named by its number; skip
# goes on, stop ends with the lines before it.
printf '%s\n' '{"prompt": "ok one", "max_tokens": 3}' '{"messages": 5}' '{"prompt": "x", "top_p": 2}' \
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' '{"prompt": "x", "max_tokens": 1e999}' '{"prompt": "\ud800"}' \
  '{"prompt": "y", "max_tokens": 100000}' '{"prompt": "ok two", "max_tokens": 3}' \
  "{\"prompt\": \"$(printf 'long %.0s' $(seq 1 80))\"}" >"$tmp/bad.jsonl"
printf '{"prompt": "\xff\xfe"}\n' >>"$tmp/bad.jsonl"
batch --input "$tmp/bad.jsonl" --output "$tmp/bad.out" --context 64 2>"$tmp/err"
rc=$?
named=1
for n in 2 3 4 5 6 9 10; do grep -q "bad.jsonl line $n: " "$tmp/err" || named=0; done
# Line 7 asks for more tokens than the context holds: it runs to the end of the context.
if [[ $rc -ne 0 || $named -ne 1 || $(wc -l <"$tmp/bad.out") -ne 3 ]]; then bad "bad lines skipped" "rc $rc: $(cat "$tmp/err")"
else ok "bad lines named by number and skipped"; fi
batch --input "$tmp/bad.jsonl" --output "$tmp/stop.out" --context 64 --on-error stop 2>"$tmp/err"
rc=$?
[[ $rc -eq 1 && $(wc -l <"$tmp/stop.out") -le 1 ]] && grep -q "bad.jsonl line 2: " "$tmp/err" &&
  ok "--on-error stop ends at the first bad line" || bad "--on-error stop" "rc $rc: $(cat "$tmp/err")"

# Impossible flags fail before anything is written.
if batch --input "$tmp/in.jsonl" --output "$tmp/flags.out" --top-p 0 2>"$tmp/err"; then bad "bad flag" "exited 0"
elif [[ -s $tmp/flags.out ]]; then bad "bad flag" "wrote output"
else ok "impossible sampling flags fail first"; fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
