#!/usr/bin/python3
"""Trains a small SentencePiece unigram model (byte fallback on) on lines of several scripts and
writes it as tokenizer.json's Unigram "model" object, the way Hugging Face's converter does (pieces
and scores in id order, unk_id, byte_fallback), for tools/make_model_cases.mjs:

    /usr/bin/python3 tools/make_spm_unigram.py --out tests/tokenizer/data/models/spm_unigram.json

Text: Debian's translated manual pages (ja, ko, ru, de, fr, pl, ...), read as installed; another
machine trains another model, the committed file is the reference. Needs python3-sentencepiece.
"""

import argparse
import gzip
import io
import json
import pathlib

import sentencepiece as spm


def lines():
    out = []
    for lang in ["ja", "ko", "ru", "de", "fr", "pl", "cs", "tr", "zh_CN", "uk", "es", "it"]:
        folder = pathlib.Path("/usr/share/man") / lang / "man1"
        if not folder.is_dir():
            continue
        for page in sorted(folder.glob("*.gz"))[:20]:
            text = gzip.decompress(page.read_bytes()).decode("utf-8", "replace")
            out += [l for l in text.splitlines() if l and not l.startswith((".", "'", "\\"))][:40]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--vocab-size", type=int, default=2000)
    args = parser.parse_args()
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines()), model_writer=model,
                                   model_type="unigram", vocab_size=args.vocab_size,
                                   byte_fallback=True, character_coverage=0.995,
                                   normalization_rule_name="identity", minloglevel=2)
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [[sp.id_to_piece(i), sp.get_score(i)] for i in range(sp.get_piece_size())]
    unk_id = next(i for i in range(sp.get_piece_size()) if sp.is_unknown(i))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"type": "Unigram", "unk_id": unk_id, "vocab": pieces,
                                    "byte_fallback": True}, ensure_ascii=False) + "\n")
    print(f"{args.out}: {len(pieces)} pieces")


if __name__ == "__main__":
    main()
