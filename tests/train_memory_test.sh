#!/usr/bin/env bash
# Training memory grows linearly with the sequence length (docs/training.md's formula has
# no S² term since attention's backward keeps P and dS for 288 query rows at a time): one
# step of a one-layer model at S = 2048, 4096 and 8192 tokens, and the growth of peak RSS
# from 4096 to 8192 must stay within 2.5x the growth from 2048 to 4096 (linear gives 2x;
# the old S² scratch, 8·S² bytes per thread, gave about 3.4x here). Release builds only:
# sanitizers change both time and memory.
# Usage: train_memory_test.sh MARIANA SOURCE_DIR
set -uo pipefail
mariana=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$src/recipes/configs/tiny-v3.json" "$tmp/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(num_hidden_layers=1, first_k_dense_replace=1, num_nextn_predict_layers=0, max_position_embeddings=8192)
json.dump(c, open(sys.argv[2], "w"))
PY
python3 -c "
import random, struct, sys
random.seed(1)
sys.stdout.buffer.write(struct.pack('<20000I', *[random.randrange(2, 1024) for _ in range(20000)]))" >"$tmp/data.bin"
"$mariana" init --config "$tmp/config.json" --out "$tmp/model" --dtype f32 >/dev/null || { echo "FAIL init"; exit 1; }

declare -A rss
for s in 2048 4096 8192; do
  if ! "$mariana" train --model "$tmp/model" --data "$tmp/data.bin" --out "$tmp/run-$s" --steps 1 --batch 1 \
      --seq-len "$s" --eval-every 0 --save-every 0 --warmup 0 --threads 2 >"$tmp/out-$s" 2>&1; then
    echo "FAIL train at S=$s: $(tail -3 "$tmp/out-$s")"; exit 1
  fi
  rss[$s]=$(python3 -c "import json; print(json.load(open('$tmp/run-$s/summary.json'))['peak_rss_bytes'])")
  echo "S=$s peak RSS $((rss[$s] / 1048576)) MiB"
done
python3 - "${rss[2048]}" "${rss[4096]}" "${rss[8192]}" <<'PY'
import sys
a, b, c = map(int, sys.argv[1:])
first, second = b - a, c - b
print(f"growth 2048->4096: {first / 2**20:.1f} MiB, 4096->8192: {second / 2**20:.1f} MiB, ratio {second / first:.2f}")
if not (first > 0 and second <= 2.5 * first):
    print("FAIL peak RSS grows faster than linearly with the sequence length")
    sys.exit(1)
print("ok   peak RSS grows linearly with the sequence length")
PY
