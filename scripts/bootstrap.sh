#!/usr/bin/env bash
# README's first command: install what is needed, build (Release), run the main job.
# Until Mariana ships its own trained model, the main job makes a small DeepSeek-V3-style
# checkpoint with random weights (`mariana init`) and generates from it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_packages.sh
cmake --preset release >/dev/null
cmake --build build/release

model=build/models/tiny-v3
if [ ! -f "$model/config.json" ]; then
  ./build/release/src/mariana init --config recipes/configs/tiny-v3.json --out "$model" --seed 1
fi
./build/release/src/mariana inspect "$model"
echo "generating 24 tokens greedily from the prompt 1,2,3:"
./build/release/src/mariana run --model "$model" --tokens 1,2,3 -n 24
