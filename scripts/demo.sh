#!/usr/bin/env bash
# Demo: installs what is missing, builds, then
#   1. encodes a few sentences with the shipped sentence-transformers-style model (text in, embeddings
#      out) and prints their cosine-similarity matrix;
#   2. encodes a token-id file with the shipped tiny BERT (hidden states out, .npy).
# The shipped models have random weights: they show the pipeline, not meaningful similarities.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
bin=./build/vecformer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

model=models/mini-sentence
echo "== $bin run --model $model --text --input $model/sentences.txt --output embeddings.jsonl"
cat "$model/sentences.txt"
"$bin" run --model "$model" --text --input "$model/sentences.txt" --output "$work/embeddings.jsonl"
echo "== cosine similarities"
/usr/bin/python3 - "$work/embeddings.jsonl" <<'PY'
import json, sys
rows = [json.loads(line)["embedding"] for line in open(sys.argv[1])]
for a in rows:
    # The model's Normalize module made every embedding unit length: the dot product is the cosine.
    print("  ".join(f"{sum(x * y for x, y in zip(a, b)):6.3f}" for b in rows))
PY

model=models/tiny-bert
echo "== $bin run --model $model --input $model/sample_tokens.txt --output hidden.npy"
"$bin" run --model "$model" --input "$model/sample_tokens.txt" --output "$work/hidden.npy"
echo "== the same on the reference backend"
"$bin" run --model "$model" --input "$model/sample_tokens.txt" --output "$work/hidden.npy" \
  --backend reference
