#!/usr/bin/env bash
# A bounded libFuzzer run that fails if the fuzzer finds a crash.
#
#   fuzz_smoke.sh FUZZER_BINARY CORPUS_DIR [SECONDS] [DICT]
#
# Runs on a copy of CORPUS_DIR in a temporary folder (the seed corpus in the repository is
# never modified), for SECONDS (default 20) with -rss_limit_mb=2048. DICT defaults to
# fuzz/<name>.dict next to the corpus, where one exists. A crashing input is kept as
# $TMPDIR/mariana-fuzz-crash-<name>-* and reported.
set -u

if [[ $# -lt 2 || $# -gt 4 ]]; then
    echo "usage: $0 FUZZER_BINARY CORPUS_DIR [SECONDS] [DICT]" >&2
    exit 2
fi
FUZZER=$1
CORPUS=$2
SECONDS_TO_RUN=${3:-20}
NAME=$(basename "$FUZZER")
DICT=${4:-$(dirname "$(dirname "$CORPUS")")/$(basename "$CORPUS").dict}
if [[ ! -x $FUZZER ]]; then echo "fuzz_smoke: $FUZZER is not an executable" >&2; exit 2; fi
if [[ ! -d $CORPUS ]]; then echo "fuzz_smoke: $CORPUS is not a folder" >&2; exit 2; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mariana-fuzz-$NAME.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -r "$CORPUS" "$WORK/corpus"
chmod -R u+w "$WORK/corpus"
mkdir -p "$WORK/artifacts"

args=(-max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -timeout=10 -max_len=8192
      -print_final_stats=1 -artifact_prefix="$WORK/artifacts/")
if [[ -f $DICT ]]; then args+=(-dict="$DICT"); else DICT=; fi

echo "fuzz_smoke: $NAME for ${SECONDS_TO_RUN}s on a copy of $CORPUS${DICT:+ with dictionary $DICT}"
"$FUZZER" "${args[@]}" "$WORK/corpus" >"$WORK/log" 2>&1
rc=$?
grep -E '^(#[0-9]+\s+(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs)' "$WORK/log"

crashes=$(find "$WORK/artifacts" -type f | head -n 20)
if [[ $rc -ne 0 || -n $crashes ]]; then
    echo "fuzz_smoke: $NAME FAILED (exit status $rc)"
    tail -n 60 "$WORK/log"
    for f in $crashes; do
        keep=${TMPDIR:-/tmp}/mariana-fuzz-crash-$NAME-$(basename "$f")
        cp "$f" "$keep"
        echo "fuzz_smoke: crashing input kept as $keep ($(stat -c %s "$f") bytes); reproduce with: $FUZZER $keep"
    done
    exit 1
fi
echo "fuzz_smoke: $NAME ok"
