#!/usr/bin/env bash
# Creates random-weight checkpoints with real model shapes (once) and runs `mariana bench`
# on each with 1 and 2 threads. See docs/benchmarks.md.
#
#   bench/run_benchmarks.sh [MODEL...]     MODEL: r1-distill-qwen-1.5b, deepseek-v2-lite (default: both)
#
# Environment:
#   MARIANA      the binary (default build/release/src/mariana)
#   CACHE        where checkpoints and results live (default bench/.models, gitignored)
#   THREADS      thread counts to run (default "1 2")
#   REPEATS      timed runs per figure, medians reported (default 3)
#   COMPUTE      --compute of the runs: auto, f32 or bf16 (default auto)
# Results: one JSON object per run appended to $CACHE/results.jsonl, and a table at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mariana=${MARIANA:-$root/build/release/src/mariana}
cache=${CACHE:-$root/bench/.models}
threads=${THREADS:-1 2}
repeats=${REPEATS:-3}
compute=${COMPUTE:-auto}
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(r1-distill-qwen-1.5b deepseek-v2-lite)

[[ -x $mariana ]] || { echo "no $mariana: cmake --preset release && cmake --build build/release -j2" >&2; exit 1; }
mkdir -p "$cache"
results=$cache/results.jsonl
table=$(mktemp)
trap 'rm -f "$table"' EXIT

# name -> checkpoint dtype, GB it takes on disk (checked before writing), prompt, decode tokens
declare -A dtype=([r1-distill-qwen-1.5b]=bf16 [deepseek-v2-lite]=fp8)
declare -A disk_gb=([r1-distill-qwen-1.5b]=4 [deepseek-v2-lite]=17)
declare -A prompt=([r1-distill-qwen-1.5b]=128 [deepseek-v2-lite]=128)
declare -A decode=([r1-distill-qwen-1.5b]=32 [deepseek-v2-lite]=32)

ensure_checkpoint() {  # name -> prints the checkpoint folder, writing it if absent
    local name=$1 dir=$cache/$1-${dtype[$1]}
    if [[ ! -f $dir/config.json ]]; then
        local free_gb=$(( $(df -Pk "$cache" | awk 'NR==2 {print $4}') / 1024 / 1024 ))
        if (( free_gb < ${disk_gb[$name]} + 8 )); then
            echo "$name needs ~${disk_gb[$name]} GB and only $free_gb GB are free under $cache" >&2
            exit 1
        fi
        echo "writing $dir (random weights, ${dtype[$name]}; this takes a while)" >&2
        "$mariana" init --config "$root/recipes/configs/$name.json" --out "$dir" --dtype "${dtype[$name]}" \
            --shard-mb 4096 >&2
    fi
    echo "$dir"
}

for name in "${models[@]}"; do
    [[ -n ${dtype[$name]:-} ]] || { echo "unknown model '$name' (${!dtype[*]})" >&2; exit 1; }
    dir=$(ensure_checkpoint "$name")
    for t in $threads; do
        cmd=("$mariana" bench --model "$dir" --prompt "${prompt[$name]}" --decode "${decode[$name]}" --threads "$t" --repeats "$repeats" --compute "$compute" --json)
        echo "+ ${cmd[*]}" >&2
        line=$("${cmd[@]}")
        echo "$line" | jq -c --arg name "$name" --arg dtype "${dtype[$name]}" --arg date "$(date -u +%FT%TZ)" \
            '{name: $name, dtype: $dtype, date: $date} + .' >> "$results"
        echo "$line" | jq -r --arg name "$name" --arg dtype "${dtype[$name]}" '
            "| \($name) | \($dtype) | \(.threads) | \(.compute) | \(.prefill_tok_s*100|round/100) | "
            + "\(.prefill_share_of_fma_peak*100|round)% / \(.prefill_share_of_bf16_peak*100|round)% | \(.decode_tok_s*100|round/100) | "
            + "\(.bandwidth_before_gb_s*10|round/10) / \(.bandwidth_after_gb_s*10|round/10) | "
            + "\(.decode_bound_before_tok_s*100|round/100) / \(.decode_bound_after_tok_s*100|round/100) | "
            + "\(.decode_share_of_bound_before*100|round)% / \(.decode_share_of_bound_after*100|round)% |"' >> "$table"
    done
done

echo "| model | dtype | threads | compute | prefill tok/s | prefill % of fp32 / bf16 peak | decode tok/s | bandwidth GB/s (before / after) | decode bound tok/s | % of bound |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
cat "$table"
