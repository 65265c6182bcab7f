#!/usr/bin/python3
"""Text in for every tokenizer kind, end to end: model folders whose tokenizer is byte-level BPE (a RoBERTa
folder with only vocab.json + merges.txt), Unigram (an XLM-RoBERTa folder with the XLM-R tokenizer.json)
and a BERT sentence-transformers folder carrying the XLM-R tokenizer (multilingual-e5's layout).

For each, `vecformer run --text` must give exactly the bits of `vecformer tokenize | vecformer run --input -`
(the ids themselves are checked against Hugging Face's `tokenizers` by tests/tokenizer), with the
special tokens the folder's tokenizer files name (`<s>` = 0 and `</s>` = 2 around every line), and a
sequence longer than --max-length truncated the same way on both paths.

    /usr/bin/python3 tests/cli/test_text_families.py --binary build/vecformer
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import List

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from script_support import Failures, report, scratch_folder, script_arguments  # noqa: E402

NAME = "test_text_families"
TEXTS = os.path.join(REPO, "tests", "tokenizer", "data", "texts", "manpages.txt")
MAX_LENGTH = "48"  # below every line's length in tokens for some lines, so truncation is exercised
SIZES = ["--hidden", "32", "--heads", "2", "--layers", "2", "--intermediate", "64"]


def vocab_size(folder: str) -> int:
    """Ids the folder's tokenizer can produce: the model vocabulary plus added tokens past it."""

    path = os.path.join(folder, "tokenizer.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        ids = [int(i) for i in (data["model"]["vocab"].values() if isinstance(data["model"]["vocab"], dict)
                                else range(len(data["model"]["vocab"])))]
        ids += [t["id"] for t in data.get("added_tokens", [])]
        return max(ids) + 1
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
        return max(json.load(f).values()) + 1


def make_folder(work: str, tokenizers: str, name: str, tokenizer: str, family_args: List[str]) -> str:
    folder = os.path.join(work, name)
    source = os.path.join(tokenizers, tokenizer)
    subprocess.run([sys.executable, os.path.join(REPO, "tools", "make_checkpoint.py"), *SIZES,
                    "--vocab", str(vocab_size(source)), *family_args, folder],
                   check=True, capture_output=True)
    for entry in os.listdir(source):
        if entry != "config.json":  # the checkpoint's config.json describes the encoder
            shutil.copy(os.path.join(source, entry), folder)
    return folder


def main() -> int:
    args = script_arguments(NAME, __doc__)
    if args is None:
        return 1
    failures = Failures()
    with scratch_folder(NAME, args.keep) as work:
        tokenizers = os.path.join(work, "tokenizers")
        subprocess.run([sys.executable, os.path.join(REPO, "tools", "make_test_tokenizers.py"), "--out",
                        tokenizers], check=True, capture_output=True)
        folders = {
            "roberta (vocab.json + merges.txt)": make_folder(
                work, tokenizers, "roberta", "roberta-files",
                ["--family", "roberta", "--max-positions", "130", "--pad-token-id", "1"]),
            "xlm-roberta (Unigram tokenizer.json)": make_folder(
                work, tokenizers, "xlmr", "xlmr-like",
                ["--family", "xlm-roberta", "--max-positions", "130", "--pad-token-id", "1"]),
            "bert + XLM-R tokenizer (multilingual-e5 layout)": make_folder(
                work, tokenizers, "e5", "e5-like",
                ["--max-positions", "128", "--sentence-transformers", "mean", "--normalize"]),
        }
        for label, folder in folders.items():
            direct = os.path.join(work, os.path.basename(folder) + "-text.npy")
            piped = os.path.join(work, os.path.basename(folder) + "-ids.npy")
            text_run = subprocess.run([args.binary, "run", "--model", folder, "--text", "--input", TEXTS,
                                       "--max-length", MAX_LENGTH, "--output", direct, "--quiet"],
                                      capture_output=True, text=True)
            if not failures.check(text_run.returncode == 0, f"{label}: run --text failed: {text_run.stderr}"):
                continue
            ids = subprocess.run([args.binary, "tokenize", "--model", folder, "--input", TEXTS,
                                  "--max-length", MAX_LENGTH], capture_output=True, text=True)
            if not failures.check(ids.returncode == 0, f"{label}: tokenize failed: {ids.stderr}"):
                continue
            lines = ids.stdout.splitlines()
            failures.check(bool(lines) and all(line.split()[0] == "0" and line.split()[-1] == "2"
                                               for line in lines),
                           f"{label}: every line must be <s> (0) ... </s> (2): {lines[:2]}")
            failures.check(any(len(line.split()) == int(MAX_LENGTH) for line in lines),
                           f"{label}: no line reached --max-length {MAX_LENGTH}; the test needs longer text")
            id_run = subprocess.run([args.binary, "run", "--model", folder, "--input", "-", "--output", piped,
                                     "--quiet"], input=ids.stdout, capture_output=True, text=True)
            if not failures.check(id_run.returncode == 0, f"{label}: run --input - failed: {id_run.stderr}"):
                continue
            with open(direct, "rb") as a, open(piped, "rb") as b:
                failures.check(a.read() == b.read(),
                               f"{label}: run --text and tokenize | run --input - differ")
            print(f"  ok: {label}: {len(lines)} lines", flush=True)
    return report(NAME, failures.messages)


if __name__ == "__main__":
    sys.exit(main())
