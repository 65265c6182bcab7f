#!/usr/bin/python3
"""Writes SentencePiece's precompiled_charsmap for a normalization rule, as a model trained with
that rule carries it (and as Hugging Face's converter puts it, base64, into tokenizer.json's
Precompiled normalizer), for the tests of src/tokenizer/precompiled.cpp:

    /usr/bin/python3 tools/make_charsmap.py --rule nmt_nfkc \
        --out tests/tokenizer/data/precompiled/nmt_nfkc.bin

Needs Debian's python3-sentencepiece only: a tiny unigram model is trained in memory and the
charsmap read from its ModelProto (normalizer_spec = field 3, precompiled_charsmap = its field 2)
with a minimal protobuf reader, as python3-protobuf is not needed otherwise.
"""

import argparse
import io
import pathlib

import sentencepiece as spm


def read_varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def fields(data):
    """(field number, wire type, value) of a serialized message: the value is an int or bytes."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = read_varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def charsmap(model: bytes) -> bytes:
    for number, wire, value in fields(model):
        if number == 3 and wire == 2:
            for inner, inner_wire, inner_value in fields(value):
                if inner == 2 and inner_wire == 2:
                    return bytes(inner_value)
    return b""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rule", default="nmt_nfkc")
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    sentences = ["the quick brown fox jumps over the lazy dog", "Ünïcödé ｆｕｌｌｗｉｄｔｈ ﬁ ①"] * 50
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(sentences), model_writer=model,
                                   model_type="unigram", vocab_size=36,
                                   normalization_rule_name=args.rule, minloglevel=2)
    blob = charsmap(model.getvalue())
    if not blob:
        raise SystemExit(f"make_charsmap.py: rule {args.rule} has no precompiled_charsmap")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    print(f"{args.out}: {len(blob)} bytes")


if __name__ == "__main__":
    main()
