#!/usr/bin/env bash
# End to end through the `mariana` program: `logits` on every golden case (prefill and
# prefill-then-decode) against the reference logits, `run` greedy decoding against the
# argmax of those logits' continuation, and `init` + `inspect` on a fresh checkpoint.
# Usage: cli_golden_test.sh MARIANA SHARED_DIR TEST_DATA_DIR
set -uo pipefail
mariana=$1 shared=$2 data=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if out=$("$@" 2>&1); then echo "ok   $name"; passed=$((passed + 1))
  else echo "FAIL $name: $out"; failed=$((failed + 1)); fi
}

# Max |diff| <= 2e-4 and <= 2e-5 of max |logit| (shared/golden/model/NOTES.md §8).
compare() {
  python3 - "$1" "$2" <<'PY'
import array, sys
got, want = (array.array("f", open(p, "rb").read()) for p in sys.argv[1:3])
assert len(got) == len(want), f"{len(got)} values, expected {len(want)}"
diff = max(abs(a - b) for a, b in zip(got, want))
top = max(abs(b) for b in want)
assert diff <= 2e-4 and diff <= 2e-5 * top, f"max |diff| {diff:.3g} (max |logit| {top:.3g})"
PY
}

for case in "$shared"/golden/model/* "$data"/qwen2-tiny "$data"/llama-tiny; do
  [ -f "$case/tokens.json" ] || continue
  name=$(basename "$case")
  n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$case/tokens.json")
  check "$name logits prefill" bash -c "'$mariana' logits --model '$case' --tokens-file '$case/tokens.json' --out '$tmp/$name.f32' --threads 2 --compute f32 && $(declare -f compare); compare '$tmp/$name.f32' '$case/logits.f32'"
  check "$name logits decode" bash -c "'$mariana' logits --model '$case' --tokens-file '$case/tokens.json' --out '$tmp/$name.d.f32' --prefill $((n / 2)) --compute f32 && $(declare -f compare); compare '$tmp/$name.d.f32' '$case/logits_decode.f32'"
done

# Greedy `run` continues a prompt with the argmax of the reference logits: the prompt is
# the golden tokens up to p, and the first generated token must be argmax(logits[p]).
case=$shared/golden/model/v3-tiny
expected=$(python3 - "$case" <<'PY'
import array, json, sys
d = sys.argv[1]
tokens = json.load(open(f"{d}/tokens.json"))
logits = array.array("f", open(f"{d}/logits.f32", "rb").read())
V = len(logits) // len(tokens)
row = logits[(len(tokens) - 1) * V:len(tokens) * V]
print(",".join(map(str, tokens)), max(range(V), key=row.__getitem__))
PY
)
prompt=${expected% *} want=${expected#* }
check "run greedy first token" bash -c "out=\$('$mariana' run --model '$case' --tokens '$prompt' -n 1 2>/dev/null) && [ \"\$out\" = '$want' ] || { echo \"got '\$out', want '$want'\"; false; }"
check "run sampling is seeded" bash -c "a=\$('$mariana' run --model '$case' --tokens 1,2 -n 8 --temperature 1 --top-p 0.9 --seed 4 --ignore-eos 2>/dev/null); b=\$('$mariana' run --model '$case' --tokens 1,2 -n 8 --temperature 1 --top-p 0.9 --seed 4 --ignore-eos 2>/dev/null); [ -n \"\$a\" ] && [ \"\$a\" = \"\$b\" ] && [ \$(echo \"\$a\" | tr ',' '\n' | wc -l) -eq 8 ]"

check "init + inspect" bash -c "'$mariana' init --config '$case/config.json' --out '$tmp/new' --dtype fp8 --seed 2 >/dev/null && '$mariana' inspect '$tmp/new' | grep -q 'F8_E4M3' && '$mariana' run --model '$tmp/new' --tokens 3,4 -n 4 --ignore-eos >/dev/null 2>&1"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
