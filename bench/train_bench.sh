#!/usr/bin/env bash
# Training speed, Mariana beside PyTorch on the same model, data, batch and threads:
# the ~10.4M-parameter DeepSeek-V3-architecture model of shared/BENCHMARKS.md
# (recipes/configs/bench-train-v3.json: MLA, 8 routed experts top-2 + 1 shared, sigmoid
# router with selection bias), AdamW, seq 256 × batch 8; Mariana with float32 and with bf16
# products (--compute bf16), PyTorch in float32. Mariana's figure comes with its FLOP/s and
# the peak of the arithmetic its products use (fp32 FMA, or bf16 dot products), measured in
# the same run. See docs/benchmarks.md.
#
#   bench/train_bench.sh [STEPS] [ROUNDS]   (defaults 12 and 3)
#
# Each run's figure is its median step after the first. The engines take turns, round after
# round, and the table gives each one's median over the rounds, its range, the median of the
# ratios taken within a round, and the ratio of each engine's fastest step over all rounds
# (what each does when the host is quiet): this host's speed drifts by 10–25% from minute to
# minute, and a single run compares two engines at different moments.
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
rounds=${2:-3}
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

runs=$tmp/runs.jsonl
for round in $(seq "$rounds"); do
    for t in $threads; do
        "$python" "$root/bench/train_bench_torch.py" --config "$config" --data "$tmp/data.bin" --steps "$steps" \
            --batch 8 --seq-len 256 --threads "$t" |
            "$python" -c "import json, sys; r = json.load(sys.stdin); r.update(engine='pytorch', round=$round, threads=$t); print(json.dumps(r))" >>"$runs"
        for compute in f32 bf16; do
            rm -rf "$tmp/run"
            "$mariana" train --model "$tmp/model" --data "$tmp/data.bin" --out "$tmp/run" --steps "$steps" \
                --batch 8 --seq-len 256 --threads "$t" --eval-every 0 --save-every 0 --mtp-weight 0 \
                --compute "$compute" --measure-peak >/dev/null 2>&1
            "$python" -c "
import json
r = json.load(open('$tmp/run/summary.json'))
steps = [json.loads(line)['tokens_per_s'] for line in open('$tmp/run/metrics.jsonl')][1:]
r.update(engine='mariana', round=$round, best_tokens_per_s=max(steps))
print(json.dumps(r))" >>"$runs"
        done
    done
    echo "round $round of $rounds done" >&2
done

"$python" - "$runs" "$steps" "$rounds" "$("$python" -c 'import torch; print(torch.__version__)')" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
steps, rounds, torch_version = sys.argv[2], sys.argv[3], sys.argv[4]
med = statistics.median
print("| threads | compute | Mariana tokens/s (range) | Mariana GFLOP/s | peak (fp32 FMA or bf16 dot) "
      "| share of that peak | PyTorch tokens/s (range) | Mariana / PyTorch (range) | best steps, Mariana / PyTorch |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for t in sorted({r['threads'] for r in runs}):
    torch_runs = {r['round']: r for r in runs if r['engine'] == 'pytorch' and r['threads'] == t}
    torch_tps = [r['tokens_per_s'] for r in torch_runs.values()]
    for compute in ('f32', 'bf16'):
        ours = [r for r in runs if r['engine'] == 'mariana' and r['threads'] == t and r['compute'] == compute]
        tps = [r['tokens_per_s'] for r in ours]
        gflops = med(r['gflop_per_s'] for r in ours)
        # bf16 products fall back to float32 without AVX-512 BF16: then the FMA peak applies.
        peak = med((r.get('bf16_peak_gflop_per_s', 0) if compute == 'bf16' else 0) or r['fma_peak_gflop_per_s']
                   for r in ours)
        ratios = [r['tokens_per_s'] / torch_runs[r['round']]['tokens_per_s'] for r in ours]
        best = max(r['best_tokens_per_s'] for r in ours) / max(r['best_tokens_per_s'] for r in torch_runs.values())
        print(f"| {t} | {compute} | {med(tps):,.0f} ({min(tps):,.0f}–{max(tps):,.0f}) | {gflops:.1f} | {peak:.0f} "
              f"| {100 * gflops / peak:.0f}% | {med(torch_tps):,.0f} ({min(torch_tps):,.0f}–{max(torch_tps):,.0f}) "
              f"| {med(ratios):.2f}x ({min(ratios):.2f}–{max(ratios):.2f}) | {best:.2f}x |")
print(f"(PyTorch {torch_version} with OpenBLAS; {steps} steps a run, {rounds} rounds, medians over rounds)")
PY
