#!/usr/bin/env bash
# End to end through `mariana plot` (needs gnuplot: scripts/install_packages.sh installs
# gnuplot-nox): a small training run's metrics.jsonl becomes a PNG of plausible size, a
# truncated last line is skipped with a warning. Usage: cli_plot_test.sh MARIANA
set -uo pipefail
mariana=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { echo "ok   $1"; passed=$((passed + 1)); }
flunk() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

if ! command -v gnuplot >/dev/null; then
  echo "FAIL setup: gnuplot is not installed (run scripts/install_packages.sh, or apt-get install gnuplot-nox)"
  exit 1
fi

# A run of 50 steps: a decaying loss, val_loss every 10 steps, warmup then constant lr, and
# a last line cut off mid-write. KEYS limits the metrics written (all when empty).
write_run() {  # DIR KEYS
  mkdir -p "$1"
  python3 - "$1/metrics.jsonl" "$2" <<'PY'
import json, math, sys
path, keys = sys.argv[1], sys.argv[2].split()
with open(path, "w") as f:
    for step in range(1, 51):
        row = {"step": step, "loss": 2.5 + 8.5 * math.exp(-step / 12), "lr": 3e-4 * min(1.0, step / 10),
               "grad_norm": 0.4 + 4 * math.exp(-step / 20), "tokens_per_s": 12000 + 50 * math.sin(step),
               "mtp_loss": 2.7 + 9 * math.exp(-step / 12), "balance_loss": 0.01, "expert_load_max": 1.3,
               "elapsed_s": 0.5 * step}
        if step % 10 == 0:
            row["val_loss"] = row["loss"] + 0.1
        if keys:
            row = {k: v for k, v in row.items() if k == "step" or k in keys}
        f.write(json.dumps(row) + "\n")
    f.write('{"step": 51, "loss": 2.4, "lr": 0.0')
PY
}

# check_png NAME FILE MIN_WIDTH MIN_HEIGHT: the PNG signature, then IHDR's width and height
# (big-endian, bytes 16..23) within [MIN, 10000].
check_png() {
  local name=$1 file=$2
  if [[ ! -s $file ]]; then
    flunk "$name" "$file was not written"
    return 1
  fi
  local signature
  signature=$(od -An -tx1 -N8 "$file" | tr -d ' \n')
  if [[ $signature != 89504e470d0a1a0a ]]; then
    flunk "$name" "$file does not start with the PNG signature (got $signature)"
    return 1
  fi
  local chunk width height
  chunk=$(od -An -c -j12 -N4 "$file" | tr -d ' \n')
  width=$((16#$(od -An -tx1 -j16 -N4 "$file" | tr -d ' \n')))
  height=$((16#$(od -An -tx1 -j20 -N4 "$file" | tr -d ' \n')))
  if [[ $chunk != IHDR || $width -lt $3 || $height -lt $4 || $width -gt 10000 || $height -gt 10000 ]]; then
    flunk "$name" "implausible PNG header: chunk '$chunk', ${width}x${height} (want at least ${3}x${4})"
    return 1
  fi
  echo "     ${width}x${height}"
  return 0
}

# ---- a whole run ------------------------------------------------------------------------

run=$tmp/run
write_run "$run" ""
"$mariana" plot "$run" >"$tmp/out" 2>"$tmp/err"
status=$?
if [[ $status -ne 0 ]]; then
  flunk "plot a run" "exited $status: $(head -c 2000 "$tmp/err")"
elif check_png "plot a run" "$run/metrics.png" 800 800; then
  if ! grep -qF "$run/metrics.jsonl:51" "$tmp/err" || ! grep -q "warning" "$tmp/err"; then
    flunk "plot a run" "no warning naming the truncated line 51: $(head -c 2000 "$tmp/err")"
  elif grep -q "error" "$tmp/err"; then
    flunk "plot a run" "an error on stderr: $(head -c 2000 "$tmp/err")"
  elif ! grep -qF "50 steps" "$tmp/out" || ! grep -qF "expert load" "$tmp/out"; then
    flunk "plot a run" "summary does not list 50 steps and every panel: $(cat "$tmp/out")"
  else
    pass "plot a run: 50 steps, six panels, truncated last line skipped with a warning"
  fi
fi

# Only the loss: one panel, a smaller picture; --out elsewhere, a folder name with a quote
# and a space (it becomes the title).
odd=$tmp/"it's a run"
write_run "$odd" "loss"
if "$mariana" plot "$odd" --out "$tmp/loss only.png" >"$tmp/out" 2>"$tmp/err" &&
  check_png "plot one panel with --out" "$tmp/loss only.png" 400 300; then
  if [[ -e $odd/metrics.png ]]; then
    flunk "plot one panel with --out" "also wrote $odd/metrics.png"
  elif ! grep -qF "loss (nats)" "$tmp/out" || grep -qF "learning rate" "$tmp/out"; then
    flunk "plot one panel with --out" "expected only the loss panel: $(cat "$tmp/out")"
  else
    pass "plot one panel with --out, folder name with a quote"
  fi
else
  flunk "plot one panel with --out" "exited non-zero: $(head -c 2000 "$tmp/err")"
fi

# Bad input (one error line naming the file and line) is covered by bad_input_test.sh.

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
