#!/usr/bin/env bash
# Demo: installs what is missing, builds, then
#   1. embeds a few sentences with the trained demo model (text in, mean-pooled normalized embeddings
#      out) and prints their cosine-similarity matrix;
#   2. walks through one attention head on "The cat sat on the mat" (vecformer explain);
#   3. encodes a token-id file with the tiny random BERT (hidden states out, .npy), on both backends.
# models/demo is a small masked-language model trained for minutes (models/demo/README.md): it shows
# the pipeline, not state-of-the-art similarities.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
bin=./build/vecformer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

model=models/demo
echo "== $bin run --model $model --text --input $model/sentences.txt --pooling mean --normalize"
cat "$model/sentences.txt"
"$bin" run --model "$model" --text --input "$model/sentences.txt" --pooling mean --normalize \
  --output "$work/embeddings.jsonl"
echo "== cosine similarities"
/usr/bin/python3 - "$work/embeddings.jsonl" <<'PY'
import json, sys
rows = [json.loads(line)["embedding"] for line in open(sys.argv[1])]
for a in rows:
    # --normalize made every embedding unit length: the dot product is the cosine.
    print("  ".join(f"{sum(x * y for x, y in zip(a, b)):6.3f}" for b in rows))
PY

echo "== $bin explain --text \"The cat sat on the mat\" --focus sat --layer 1 --head 2 (first lines)"
"$bin" explain --text "The cat sat on the mat" --focus sat --layer 1 --head 2 | head -40

model=models/tiny-bert
echo "== $bin run --model $model --input $model/sample_tokens.txt --output hidden.npy"
"$bin" run --model "$model" --input "$model/sample_tokens.txt" --output "$work/hidden.npy"
echo "== the same on the reference backend"
"$bin" run --model "$model" --input "$model/sample_tokens.txt" --output "$work/hidden.npy" \
  --backend reference
