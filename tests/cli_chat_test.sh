#!/usr/bin/env bash
# `mariana chat` scripted through stdin, on a tiny random model with a tokenizer trained
# here: replies stream one per message, /reset really starts over (the same message
# after /reset gets the same greedy reply as the first time), reasoning is set apart
# between <think> tags or hidden, and bad flags fail before any reply; then the same in a
# pseudo-terminal (cli_chat_tty_test.py).
# Usage: cli_chat_test.sh MARIANA SOURCE_DIR
set -uo pipefail
mariana=$1 src=$2
source "$(dirname "$0")/tiny_chat_model.sh"

chat() { "$mariana" chat --model "$tmp/model" -n 12 --temperature 0 --threads 2 "$@"; }

# The greedy reply to a first message alone, then a session: two turns, /reset, the first
# message again. A random model's reply may itself hold newlines, so the session's output
# is checked against that reply, not split into lines.
single=$(echo 'Hello there' | chat 2>"$tmp/err")
out=$(printf 'Hello there\nWhat is 2+2?\n/reset\nHello there\n' | chat 2>>"$tmp/err")
rc=$?
marker=$'\n[new conversation]\n'
before=${out%%"$marker"*} after=${out#*"$marker"}
if [[ $rc -ne 0 || -z $single ]]; then bad "two turns, reset, one more" "exit $rc: $(cat "$tmp/err")"
elif [[ $out != *"$marker"* || $before != "$single"$'\n'?* ]]; then
  bad "two turns, reset, one more" "output: $out"
elif [[ $after != "$single" ]]; then bad "reset starts over" "'$single' then '$after'"
else ok "one reply per message, and /reset starts over"; fi

# R1's generation prompt opens <think>, so the reply starts as reasoning.
[[ $single == "<think>"* ]] && ok "reasoning marked with <think> when stdout is not a terminal" ||
  bad "reasoning marked" "$single"
hidden=$(echo 'Hello there' | chat --hide-thinking)
[[ $hidden != *"<think>"* && ${#hidden} -lt ${#single} ]] && ok "--hide-thinking leaves the reasoning out" ||
  bad "--hide-thinking" "$hidden"

if echo hi | chat --top-p 3 >"$tmp/out" 2>"$tmp/err"; then bad "bad flag" "exited 0"
elif grep -q "top-p" "$tmp/err" && [[ ! -s $tmp/out ]]; then ok "a bad sampling flag fails before any reply"
else bad "bad flag" "$(cat "$tmp/err")"; fi

# The same model in a pseudo-terminal: dimmed reasoning, Ctrl-C, the prompt.
if python3 "$src/tests/cli_chat_tty_test.py" "$mariana" "$tmp/model" >"$tmp/tty.out" 2>&1; then
  ok "in a terminal: dimmed reasoning, Ctrl-C stops a reply and keeps the session"
else
  bad "in a terminal" "$(cat "$tmp/tty.out")"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
