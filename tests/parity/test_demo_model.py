#!/usr/bin/python3
"""The shipped demo models (models/demo, trained; models/demo-random, its initialization) against the
float64 reference, through the vecformer CLI with text input.

    /usr/bin/python3 tests/parity/test_demo_model.py --binary build/vecformer

(ctest runs it from the repository root.) For each folder:

1. The files: config.json is a post-norm BERT config, vocab.txt is bert-base-uncased's vocabulary trimmed
   (the five specials first, then kept tokens in bert-base-uncased's order), tokenizer_config.json lowercases,
   model.safetensors holds the BertModel tensors (plus the cls.predictions MLM head, which vecformer ignores).
2. Tokenization: `vecformer tokenize --model FOLDER` on the sentences below equals `vecformer tokenize
   --model models/vocab/bert-base-uncased` mapped through the trimmed vocabulary (every piece of these
   sentences is kept, so greedy longest-match over the subset picks the same pieces).
3. Hidden states: `vecformer run --model FOLDER --text --backend reference|optimized --output X.npy`
   against tools/make_checkpoint.py's reference_forward of the stored weights on those ids; padding rows
   exactly zero.

Tolerances, absolute, on LayerNorm-bounded hidden states (as tests/parity/test_parity_torch.py):
reference backend 2e-5 (plain float32 loops), optimized backend 2e-4 (blocked GEMMs, vectorized exp / erf).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import List

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
from script_support import report  # noqa: E402

FOLDERS = ("models/demo", "models/demo-random")
FULL_VOCAB = "models/vocab/bert-base-uncased"
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TOLERANCE = {"reference": 2e-5, "optimized": 2e-4}
SENTENCES = [
    "The cat sat on the mat.",
    "A dog is a domestic animal kept for hunting or as a companion.",
    "The river flows slowly to the sea.",
    "Time flies like an arrow; fruit flies like a banana.",
    "He opened the door and walked into the house.",
    "Every line of the input file is one sentence.",
    "She wrote a long letter to her brother.",
    "Knowledge is power.",
]


def read_lines(path: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def tokenize(binary: str, folder: str, text_path: str) -> List[List[int]]:
    out = subprocess.run([binary, "tokenize", "--model", folder, "--input", text_path],
                         check=True, capture_output=True, text=True, cwd=REPO).stdout
    return [[int(t) for t in line.split()] for line in out.splitlines() if line.strip()]


def check_folder(binary: str, folder: str, text_path: str, full_ids: List[List[int]],
                 full_vocab: List[str], workdir: str) -> List[str]:
    problems: List[str] = []
    path = os.path.join(REPO, folder)
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(path, "tokenizer_config.json")) as f:
        if json.load(f).get("do_lower_case") is not True:
            problems.append(f"{folder}: tokenizer_config.json does not lowercase")
    expected = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute",
                "type_vocab_size": 2}
    for key, value in expected.items():
        if config.get(key) != value:
            problems.append(f"{folder}: config.json {key} = {config.get(key)!r}, expected {value!r}")
    if config.get("norm_first", False):
        problems.append(f"{folder}: config.json is not post-norm")

    vocab = read_lines(os.path.join(path, "vocab.txt"))
    if len(vocab) != config["vocab_size"]:
        problems.append(f"{folder}: vocab.txt has {len(vocab)} lines, config.json vocab_size "
                        f"{config['vocab_size']}")
    if vocab[:len(SPECIALS)] != SPECIALS:
        problems.append(f"{folder}: vocab.txt does not start with {SPECIALS}")
    old_id = {token: i for i, token in enumerate(full_vocab)}
    old = [old_id.get(token, -1) for token in vocab[len(SPECIALS):]]
    if min(old, default=0) < 0 or old != sorted(old) or len(set(old)) != len(old):
        problems.append(f"{folder}: vocab.txt is not bert-base-uncased's vocabulary trimmed in order")
    remap = {old_id[token]: i for i, token in enumerate(vocab) if token in old_id}

    ids = tokenize(binary, folder, text_path)
    mapped = [[remap.get(t, -1) for t in s] for s in full_ids]
    if ids != mapped:
        problems.append(f"{folder}: tokenization differs from bert-base-uncased's mapped ids:\n"
                        f"    got    {ids}\n    mapped {mapped}")
        return problems

    weights, dtypes, _ = mc.read_safetensors(os.path.join(path, "model.safetensors"))
    for name in ("embeddings.word_embeddings.weight", "cls.predictions.bias"):
        if name not in weights:
            problems.append(f"{folder}: model.safetensors has no {name}")
    expected_hidden = mc.reference_forward(weights, config, ids)
    for backend, tolerance in TOLERANCE.items():
        npy = os.path.join(workdir, f"{os.path.basename(folder)}-{backend}.npy")
        subprocess.run([binary, "run", "--model", folder, "--text", "--input", text_path, "--output", npy,
                        "--backend", backend, "--quiet"], check=True, cwd=REPO)
        got = np.load(npy)
        worst = 0.0
        for i, want in enumerate(expected_hidden):
            worst = max(worst, float(np.abs(got[i, :len(want)] - want).max()))
            if np.any(got[i, len(want):] != 0):
                problems.append(f"{folder} {backend}: padding rows of sequence {i} are not zero")
        status = "ok" if worst <= tolerance else "FAIL"
        print(f"  {folder} {backend}: max abs error {worst:.2e} (tolerance {tolerance:g}) {status}")
        if worst > tolerance:
            problems.append(f"{folder} {backend}: max abs error {worst:.2e} > {tolerance:g}")
    print(f"  {folder}: {len(vocab)} tokens, dtype {sorted(set(dtypes.values()))}, "
          f"{config['num_hidden_layers']} layers")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="path to the vecformer executable")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    problems: List[str] = []
    with tempfile.TemporaryDirectory(prefix="vecformer_demo_") as workdir:
        text_path = os.path.join(workdir, "sentences.txt")
        with open(text_path, "w", encoding="utf-8") as f:
            f.write("".join(s + "\n" for s in SENTENCES))
        full_vocab = read_lines(os.path.join(REPO, FULL_VOCAB, "vocab.txt"))
        full_ids = tokenize(binary, FULL_VOCAB, text_path)
        for folder in FOLDERS:
            try:
                problems += check_folder(binary, folder, text_path, full_ids, full_vocab, workdir)
            except Exception as e:  # a crash is a failure of that folder, not of the others
                problems.append(f"{folder}: {type(e).__name__}: {e}")
    return report("test_demo_model", problems)


if __name__ == "__main__":
    sys.exit(main())
