#!/usr/bin/env bash
# Installs the Debian 12 packages Mariana needs to build and test. Idempotent: packages
# already present are skipped without touching the network.
set -euo pipefail

packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev  # toolchain; clang + libFuzzer for the fuzz preset
  nlohmann-json3-dev libfmt-dev libcli11-dev libonig-dev libutf8proc-dev pkg-config       # JSON, formatting, command line
  libgtest-dev python3 nodejs npm                  # tests (node: Hugging Face's JS tokenizer port)
  gnuplot-nox                                      # mariana plot draws training metrics with it
)

missing=()
for p in "${packages[@]}"; do
  # A Node.js from elsewhere (e.g. NodeSource's nodejs, which bundles npm and conflicts with
  # Debian's npm package) serves as well as Debian's.
  [[ $p == nodejs ]] && command -v node >/dev/null && continue
  [[ $p == npm ]] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi
