#!/usr/bin/env bash
# Demo: installs what is missing, builds, and encodes the sample token file with the shipped model.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
model=models/tiny-bert
out=$(mktemp -d)/hidden.npy
echo "== vecformer run --model $model --input $model/sample_tokens.txt --output $out"
./build/vecformer run --model "$model" --input "$model/sample_tokens.txt" --output "$out"
echo "== the same on the reference backend"
./build/vecformer run --model "$model" --input "$model/sample_tokens.txt" --output "$out" \
  --backend reference
rm -f "$out"
