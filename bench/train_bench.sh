#!/usr/bin/env bash
# Training speed, Mariana beside PyTorch on the same model, data, batch and threads:
# the ~10.4M-parameter DeepSeek-V3-architecture model of shared/BENCHMARKS.md
# (recipes/configs/bench-train-v3.json: MLA, 8 routed experts top-2 + 1 shared, sigmoid
# router with selection bias), AdamW, seq 256 × batch 8; Mariana with float32 and with bf16
# products (--compute bf16), PyTorch in float32. Mariana's figure comes with its FLOP/s and
# the peak of the arithmetic its products use (fp32 FMA, or bf16 dot products), measured in
# the same run. See docs/benchmarks.md.
#
#   bench/train_bench.sh [STEPS]          (default 12; medians over the steps after the first)
#
# Environment: MARIANA (default build/release/src/mariana), THREADS (default "1 2"),
# PYTHON (default /usr/bin/python3, Debian's, which has numpy and torch).
# Installs Debian's python3-torch and libopenblas0-openmp when missing: without OpenBLAS,
# torch's libblas.so.3 is the slow reference BLAS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mariana=${MARIANA:-$root/build/release/src/mariana}
threads=${THREADS:-1 2}
steps=${1:-12}
python=${PYTHON:-/usr/bin/python3}
[[ -x $mariana ]] || { echo "no $mariana: cmake --preset release && cmake --build build/release" >&2; exit 1; }
if ! "$python" -c "import torch" 2>/dev/null || ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then
    sudo_cmd=$([[ $(id -u) == 0 ]] && echo "" || echo sudo)
    $sudo_cmd apt-get install -y python3-torch libopenblas0-openmp >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

config=$root/recipes/configs/bench-train-v3.json
"$mariana" init --config "$config" --out "$tmp/model" --dtype f32 --seed 1 >/dev/null
"$python" -c "
import numpy as np
np.random.default_rng(0).integers(2, 4096, size=400_000, dtype=np.uint32).astype('<u4').tofile('$tmp/data.bin')"

echo "| threads | compute | Mariana tokens/s | Mariana GFLOP/s | peak (fp32 FMA or bf16 dot) | share of that peak | PyTorch tokens/s | Mariana / PyTorch |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for t in $threads; do
    torch_json=$("$python" "$root/bench/train_bench_torch.py" --config "$config" --data "$tmp/data.bin" \
        --steps "$steps" --batch 8 --seq-len 256 --threads "$t")
    for compute in f32 bf16; do
        "$mariana" train --model "$tmp/model" --data "$tmp/data.bin" --out "$tmp/run-$t-$compute" --steps "$steps" \
            --batch 8 --seq-len 256 --threads "$t" --eval-every 0 --save-every 0 --mtp-weight 0 --compute "$compute" \
            --measure-peak >/dev/null 2>&1
        python3 - "$tmp/run-$t-$compute/summary.json" "$torch_json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
t = json.loads(sys.argv[2])
peak = m.get('bf16_peak_gflop_per_s', 0) if m['compute'] == 'bf16' else 0
peak = peak or m['fma_peak_gflop_per_s']  # bf16 products fall back to float32 without AVX-512 BF16
print(f"| {m['threads']} | {m['compute']} | {m['tokens_per_s']:,.0f} | {m['gflop_per_s']:.1f} | "
      f"{peak:.0f} | {100 * m['gflop_per_s'] / peak:.0f}% | "
      f"{t['tokens_per_s']:,.0f} | {m['tokens_per_s'] / t['tokens_per_s']:.2f}x |")
PY
    done
done
echo "(PyTorch $("$python" -c 'import torch; print(torch.__version__)') with OpenBLAS; $steps steps each)"
