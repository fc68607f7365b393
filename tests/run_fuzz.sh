#!/usr/bin/env bash
# Configures and builds the "fuzz" preset (clang, libFuzzer, ASan + UBSan) and runs each
# parser fuzzer for a bounded time over its seed corpus; exits 1 if any finds a crash.
#
#   tests/run_fuzz.sh [SECONDS_PER_FUZZER]     (default 20; run from anywhere)
#
# Builds only the fuzzer targets (and the libraries they link), with -j2.
set -eu
SECONDS_EACH=${1:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j2 --target safetensors_fuzzer config_fuzzer tokenizer_fuzzer jinja_fuzzer score_request_fuzzer json_fields_fuzzer \
    tokenizer_json_fuzzer chat_request_fuzzer batch_request_fuzzer

status=0
for kind in safetensors config tokenizer jinja score_request json_fields tokenizer_json chat_request batch_request; do
    bash tests/fuzz_smoke.sh "build/fuzz/fuzz/${kind}_fuzzer" "fuzz/corpus/$kind" "$SECONDS_EACH" || status=1
done
exit $status
