#!/usr/bin/env bash
# README's second command (and CI's): every test. Builds the Release preset and runs the
# whole suite; builds the ASan+UBSan preset and runs it too (parsers, bad input, goldens);
# builds the libFuzzer targets and runs each for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_packages.sh

cmake --preset asan >/dev/null
cmake --build build/asan
ctest --test-dir build/asan --output-on-failure

if [ -f tests/run_fuzz.sh ]; then bash tests/run_fuzz.sh; fi

cmake --preset release >/dev/null
cmake --build build/release
ctest --test-dir build/release --output-on-failure
