#!/usr/bin/env bash
# mariana train end to end on a tiny DeepSeek-V3 model: a run killed with SIGKILL and
# resumed gives bit-identical losses and final weights to an uninterrupted one; old
# checkpoints are pruned; the trained model loads in `mariana logits`; a NaN stops the run
# (or is skipped by flag); bad arguments are refused. Usage: cli_train_test.sh MARIANA SHARED_DIR
set -euo pipefail
mariana=$1 shared=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 - "$shared/golden/model/v3-tiny/config.json" "$tmp" <<'PY'
import json, random, struct, sys
c = json.load(open(sys.argv[1]))
c.update(hidden_size=64, intermediate_size=96, num_hidden_layers=2, vocab_size=64, q_lora_rank=32,
         kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=8, v_head_dim=8, moe_intermediate_size=16,
         n_routed_experts=8, n_group=2, topk_group=1, num_experts_per_tok=2, num_nextn_predict_layers=1,
         max_position_embeddings=64)
json.dump(c, open(sys.argv[2] + "/config.json", "w"))
random.seed(1)
ids = []
for doc in range(300):
    start = random.randrange(2, 64)
    ids += [(start + 3 * i) % 62 + 2 for i in range(random.randrange(5, 40))] + [1]
open(sys.argv[2] + "/data.bin", "wb").write(struct.pack("<%dI" % len(ids), *ids))
PY
"$mariana" init --config "$tmp/config.json" --out "$tmp/model" --seed 2 --dtype f32 >/dev/null

common=(--model "$tmp/model" --data "$tmp/data.bin" --steps 300 --batch 2 --seq-len 32 --lr 2e-3
        --save-every 20 --keep 2 --eval-every 50 --threads 2 --seed 5)
"$mariana" train "${common[@]}" --out "$tmp/a" >/dev/null 2>&1 || fail "the uninterrupted run failed"

# Kill -9 as soon as the second checkpoint exists, then resume with the same command.
"$mariana" train "${common[@]}" --out "$tmp/b" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 6000); do
  [[ -d "$tmp/b/checkpoint-0000040" ]] && break
  sleep 0.01
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[[ -d "$tmp/b/final" ]] && fail "the run finished before it could be killed"
"$mariana" train "${common[@]}" --out "$tmp/b" --resume >"$tmp/resume.out" 2>"$tmp/resume.err" ||
  fail "resume failed: $(cat "$tmp/resume.err")"
grep -q "resuming from .*checkpoint-00000[46]0" "$tmp/resume.err" || fail "did not resume from a checkpoint: $(cat "$tmp/resume.err")"

python3 - "$tmp/a/metrics.jsonl" "$tmp/b/metrics.jsonl" <<'PY' || fail "resumed losses differ"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert [r["step"] for r in a] == list(range(1, 301)), "uninterrupted steps"
assert [r["step"] for r in b] == list(range(1, 301)), "resumed run: each step once"
for x, y in zip(a, b):
    for key in ("loss", "mtp_loss", "grad_norm", "lr", "balance_loss", "expert_load", "val_loss"):
        assert x.get(key) == y.get(key), (x["step"], key, x.get(key), y.get(key))
assert a[-1]["loss"] < a[0]["loss"] - 1, ("did not learn", a[0]["loss"], a[-1]["loss"])
assert "val_loss" in a[49] and "expert_load_max" in a[0]
PY
cmp -s "$tmp/a/final/model.safetensors" "$tmp/b/final/model.safetensors" || fail "final weights differ"
[[ "$(ls -d "$tmp"/b/checkpoint-* | wc -l)" == 2 ]] || fail "expected the last 2 checkpoints: $(ls "$tmp/b")"
[[ -d "$tmp/b/checkpoint-0000300" ]] || fail "no checkpoint at the last step"

echo "[1, 5, 8, 11, 14]" >"$tmp/tokens.json"
"$mariana" logits --model "$tmp/a/final" --tokens-file "$tmp/tokens.json" --out "$tmp/logits.f32" ||
  fail "mariana logits cannot load the trained model"
[[ "$(stat -c %s "$tmp/logits.f32")" == $((5 * 64 * 4)) ]] || fail "logits size"

# A diverging run stops before the update, leaving the last checkpoint as it was.
if "$mariana" train "${common[@]}" --out "$tmp/nan" --lr 1e30 --steps 40 --warmup 0 --clip 0 2>"$tmp/nan.err" >/dev/null; then
  fail "a diverging run did not stop"
fi
grep -q "stopped before updating the model" "$tmp/nan.err" || fail "no clear NaN message: $(cat "$tmp/nan.err")"
"$mariana" train "${common[@]}" --out "$tmp/skip" --lr 1e30 --steps 6 --warmup 0 --clip 0 --skip-nonfinite \
  >/dev/null 2>&1 || fail "--skip-nonfinite did not carry on"
grep -q '"skipped":true' "$tmp/skip/metrics.jsonl" || fail "no skipped step recorded"

# Refused: a second run into the same folder, a resume with other options, impossible shapes.
expect_error() {
  local pattern=$1
  shift
  if "$mariana" train "$@" >/dev/null 2>"$tmp/err"; then fail "accepted: $*"; fi
  grep -q -- "$pattern" "$tmp/err" || fail "for $*: expected '$pattern', got: $(cat "$tmp/err")"
}
expect_error "pass --resume" "${common[@]}" --out "$tmp/a"
expect_error "made with --batch 2, not 3" "${common[@]}" --out "$tmp/b" --batch 3 --resume
expect_error "max_position_embeddings" "${common[@]}" --out "$tmp/c" --seq-len 100
expect_error "no such data file" --model "$tmp/model" --data "$tmp/none.bin" --out "$tmp/d" --seq-len 32
expect_error "needs a tokenizer" --model "$tmp/model" --data "$tmp/config.json" --out "$tmp/e" --seq-len 32

# The thread count changes no bit: every sum has one fixed order.
for t in 1 2; do
  "$mariana" train "${common[@]}" --out "$tmp/threads-$t" --steps 20 --threads "$t" >/dev/null 2>&1 ||
    fail "the $t-thread run failed"
done
python3 - "$tmp/threads-1/metrics.jsonl" "$tmp/threads-2/metrics.jsonl" <<'PY' || fail "1 and 2 threads give different losses"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) == 20
for x, y in zip(a, b):
    for key in ("loss", "mtp_loss", "grad_norm", "balance_loss", "expert_load", "val_loss"):
        assert x.get(key) == y.get(key), (x["step"], key, x.get(key), y.get(key))
PY
cmp -s "$tmp/threads-1/final/model.safetensors" "$tmp/threads-2/final/model.safetensors" ||
  fail "1 and 2 threads give different weights"

# bf16 products where the CPU has them (float32 with a note elsewhere): it trains and says which.
"$mariana" train "${common[@]}" --out "$tmp/bf16" --steps 4 --compute bf16 >"$tmp/bf16.out" 2>"$tmp/bf16.err" ||
  fail "--compute bf16 failed: $(cat "$tmp/bf16.err")"
grep -Eq '"compute": "(bf16|f32)"' "$tmp/bf16/summary.json" || fail "summary.json does not name the compute type"
if grep -q '"compute": "f32"' "$tmp/bf16/summary.json"; then
  grep -q "needs a CPU with AVX-512 BF16" "$tmp/bf16.err" || fail "fell back to float32 without saying so"
fi

# Options from a TOML file; the command line wins over it.
printf 'steps = 3\nbatch = 2\nseq-len = 32\ndata = ["%s"]\neval-every = 0\n' "$tmp/data.bin" >"$tmp/run.toml"
"$mariana" train --model "$tmp/model" --out "$tmp/toml" --config "$tmp/run.toml" --steps 2 >/dev/null 2>&1 ||
  fail "a run configured by a TOML file failed"
[[ $(wc -l <"$tmp/toml/metrics.jsonl") == 2 ]] || fail "--steps on the command line did not override the file"
grep -q '"seq_len": 32' "$tmp/toml/checkpoint-0000002/trainer_state.json" || fail "seq-len from the file not applied"
printf 'stepz = 3\n' >"$tmp/bad.toml"
expect_error "bad.toml: unknown option 'stepz'" --model "$tmp/model" --out "$tmp/f" --config "$tmp/bad.toml"
echo "cli_train: all checks passed"
