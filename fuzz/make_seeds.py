#!/usr/bin/python3
"""Writes the committed seed corpora under fuzz/corpus/<target>/: small valid inputs and one of each
invalid class the readers reject, so that every fuzz run starts from inputs that reach deep into the
parsers. Standard library only; deterministic, so re-running it changes nothing.

    /usr/bin/python3 fuzz/make_seeds.py
"""

import json
import math
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


# --- safetensors -------------------------------------------------------------------------------------

# The tiny BERT the safetensors target loads after opening (fuzz_safetensors.cpp: tiny_config()).
H, I, VOCAB, POSITIONS, TYPES = 4, 8, 6, 4, 2


def values(count, seed):
    return [math.sin(seed * 7.0 + i) * 0.5 for i in range(count)]


def f16_bits(x):
    return struct.unpack("<H", struct.pack("<e", x))[0]


def encode(vals, dtype):
    if dtype == "F32":
        return struct.pack(f"<{len(vals)}f", *vals)
    if dtype == "F16":
        return struct.pack(f"<{len(vals)}H", *[f16_bits(v) for v in vals])
    if dtype == "BF16":
        return struct.pack(f"<{len(vals)}H", *[struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in vals])
    raise ValueError(dtype)


def safetensors(tensors, metadata=None, header_override=None):
    """tensors: list of (name, shape, dtype, values). Data contiguous in list order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, shape, dtype, vals in tensors:
        blob = encode(vals, dtype)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = header_override if header_override is not None else json.dumps(header, separators=(",", ":"))
    raw = text.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw + b"".join(blobs)


def tiny_bert(dtype="F32", prefix="", poison=None):
    names = []

    def add(name, shape):
        count = 1
        for d in shape:
            count *= d
        vals = values(count, len(names))
        if poison is not None and name == "embeddings.word_embeddings.weight":
            vals[3] = poison
        names.append((prefix + name, shape, dtype, vals))

    add("embeddings.word_embeddings.weight", [VOCAB, H])
    add("embeddings.position_embeddings.weight", [POSITIONS, H])
    add("embeddings.token_type_embeddings.weight", [TYPES, H])
    add("embeddings.LayerNorm.weight", [H])
    add("embeddings.LayerNorm.bias", [H])
    layer = "encoder.layer.0."
    for part in ("query", "key", "value"):
        add(layer + "attention.self." + part + ".weight", [H, H])
        add(layer + "attention.self." + part + ".bias", [H])
    add(layer + "attention.output.dense.weight", [H, H])
    add(layer + "attention.output.dense.bias", [H])
    add(layer + "attention.output.LayerNorm.weight", [H])
    add(layer + "attention.output.LayerNorm.bias", [H])
    add(layer + "intermediate.dense.weight", [I, H])
    add(layer + "intermediate.dense.bias", [I])
    add(layer + "output.dense.weight", [H, I])
    add(layer + "output.dense.bias", [H])
    add(layer + "output.LayerNorm.weight", [H])
    add(layer + "output.LayerNorm.bias", [H])
    return names


def safetensors_seeds():
    t = "safetensors"
    write(t, "valid_tiny_bert_f32", safetensors(tiny_bert(), {"format": "pt"}))
    write(t, "valid_tiny_bert_f16_prefixed", safetensors(tiny_bert("F16", "bert.")))
    write(t, "valid_tiny_bert_bf16", safetensors(tiny_bert("BF16")))
    write(t, "nan_in_weights", safetensors(tiny_bert(poison=float("nan"))))
    write(t, "inf_in_weights", safetensors(tiny_bert("F16", poison=float("inf"))))
    write(t, "valid_scalar_and_empty", safetensors([("s", [], "F32", [1.5]), ("e", [0, 3], "F16", []),
                                                   ("v", [3], "BF16", [1.0, -2.0, 0.5])]))
    write(t, "valid_empty_header", safetensors([], header_override="{}"))
    missing = [x for x in tiny_bert() if not x[0].endswith("intermediate.dense.weight")]
    write(t, "missing_tensor", safetensors(missing))
    # The two halves of a sharded checkpoint (model-0000N-of-00002.safetensors): each one a valid file
    # missing the other's tensors.
    half = len(tiny_bert()) // 2
    write(t, "shard_1_of_2", safetensors(tiny_bert()[:half], {"format": "pt"}))
    write(t, "shard_2_of_2", safetensors(tiny_bert()[half:], {"format": "pt"}))
    misshaped = [(n, [H, H // 2] if n.endswith("key.weight") else s, d, v[: H * H // 2] if n.endswith("key.weight") else v)
                 for n, s, d, v in tiny_bert()]
    write(t, "misshaped_tensor", safetensors(misshaped))
    full = safetensors(tiny_bert())
    write(t, "truncated_half", full[: len(full) // 2])
    write(t, "truncated_4_bytes", full[:4])
    write(t, "empty", b"")
    write(t, "header_length_past_end", struct.pack("<Q", 1000) + b"{}")
    write(t, "header_length_over_100mb", struct.pack("<Q", 100_000_001) + b"{}")
    write(t, "header_not_json", safetensors([], header_override='{"a": [1, 2'))
    write(t, "header_not_object", safetensors([], header_override="[1, 2, 3]"))
    two = [("a", [2], "F32", [1.0, 2.0]), ("b", [2], "F32", [3.0, 4.0])]
    write(t, "unknown_dtype", safetensors([], header_override=json.dumps(
        {"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}})) + b"\0" * 8)
    for name, entry in (
            ("offsets_out_of_range", {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}}),
            ("offsets_backwards", {"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}),
            ("offsets_overlap", {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}),
            ("size_not_shape_times_dtype", {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}),
            ("shape_product_overflows", {"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16],
                                               "data_offsets": [0, 16]}}),
            ("byte_count_overflows", {"a": {"dtype": "F32", "shape": [4611686018427387904],
                                            "data_offsets": [0, 16]}}),
            ("negative_shape", {"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 16]}}),
            ("duplicate_names", None),
            ("metadata_not_strings", {"__metadata__": {"k": 1}})):
        text = json.dumps(entry) if entry is not None else (
            '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
            '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}')
        write(t, name, safetensors([], header_override=text) + struct.pack("<4f", 1, 2, 3, 4))
    write(t, "valid_two_tensors", safetensors(two))


# --- config.json -------------------------------------------------------------------------------------

def config_seeds():
    t = "config"
    for folder in ("tiny-bert", "mini-sentence"):
        with open(os.path.join(REPO, "models", folder, "config.json"), "rb") as f:
            write(t, f"valid_{folder.replace('-', '_')}", f.read())
    bert = {"model_type": "bert", "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 16,
            "num_hidden_layers": 1, "vocab_size": 10, "max_position_embeddings": 8}
    write(t, "valid_minimal", json.dumps(bert))
    write(t, "valid_every_option", json.dumps(dict(bert, hidden_act="gelu_new", layer_norm_eps=1e-5,
                                                   type_vocab_size=0, position_embedding_type="sinusoidal",
                                                   norm_first=True)))
    write(t, "valid_roberta", json.dumps(dict(bert, model_type="roberta", pad_token_id=1,
                                              max_position_embeddings=10)))
    write(t, "valid_distilbert", json.dumps({"model_type": "distilbert", "dim": 8, "n_heads": 2,
                                             "hidden_dim": 16, "n_layers": 1, "vocab_size": 10,
                                             "max_position_embeddings": 8, "activation": "relu"}))
    write(t, "heads_do_not_divide", json.dumps(dict(bert, num_attention_heads=3)))
    write(t, "zero_size", json.dumps(dict(bert, hidden_size=0)))
    write(t, "negative_size", json.dumps(dict(bert, intermediate_size=-16)))
    write(t, "absurd_size", json.dumps(dict(bert, vocab_size=10 ** 30)))
    write(t, "float_size", json.dumps(dict(bert, num_hidden_layers=1.5)))
    write(t, "unknown_model_type", json.dumps(dict(bert, model_type="gpt2")))
    write(t, "unknown_activation", json.dumps(dict(bert, hidden_act="swish")))
    write(t, "bad_epsilon", json.dumps(dict(bert, layer_norm_eps="tiny")))
    write(t, "roberta_no_positions_left", json.dumps(dict(bert, model_type="roberta", pad_token_id=7)))
    write(t, "missing_field", json.dumps({k: v for k, v in bert.items() if k != "vocab_size"}))
    write(t, "not_an_object", "[1, 2, 3]")
    write(t, "not_json", '{"hidden_size": 8,')
    write(t, "empty", "")


# --- token input -------------------------------------------------------------------------------------

def token_input_seeds():
    t = "token_input"
    # First byte: bit 0 no token types, bit 1 RoBERTa offset, bit 2 vocabulary of 30522.
    write(t, "plain_ids", b"\x00" + b"1 2 3\n4 5\n\n6\n")
    write(t, "json_lines", b"\x00" + b'{"input_ids": [1, 2, 3], "token_type_ids": [0, 1, 1]}\n'
          b'{"input_ids": [7], "attention_mask": [1]}\n')
    write(t, "mixed_crlf_tabs", b"\x04" + b"101\t7592  102\r\n\r\n{\"input_ids\": [101, 102]}\r\n")
    write(t, "no_types", b"\x01" + b'{"input_ids": [1, 2], "token_type_ids": [0, 0]}\n')
    write(t, "roberta_longest", b"\x02" + b" ".join([b"5"] * 14) + b"\n")
    write(t, "too_long", b"\x00" + b" ".join([b"5"] * 17) + b"\n")
    write(t, "id_past_vocab", b"\x00" + b"1 100 2\n")
    write(t, "id_past_64_bits", b"\x00" + b"1 99999999999999999999999\n")
    write(t, "negative_id", b"\x00" + b"1 -4\n")
    write(t, "non_numeric", b"\x00" + b"1 abc 8x\n")
    write(t, "type_out_of_range", b"\x00" + b'{"input_ids": [1, 2], "token_type_ids": [0, 2]}\n')
    write(t, "types_other_length", b"\x00" + b'{"input_ids": [1, 2, 3], "token_type_ids": [0, 1]}\n')
    write(t, "padding_mask", b"\x00" + b'{"input_ids": [1, 2], "attention_mask": [1, 0]}\n')
    write(t, "broken_json", b"\x00" + b'{"input_ids": [1, 2\n')
    write(t, "json_not_object", b"\x00" + b'{"input_ids": [1.5, "2", null, true]}\n')
    write(t, "empty_input_ids", b"\x00" + b'{"input_ids": []}\n')
    write(t, "only_blank_lines", b"\x00" + b"\n  \n\t\n")


# --- tokenizer ---------------------------------------------------------------------------------------

def tokenizer_seeds():
    t = "tokenizer"
    # First byte: low 4 bits pick the tokenizer (0-7 option combinations, 8+ added tokens), high 4
    # bits the truncation length (0 none, 1 rejected).
    texts = {
        "english": (0x07, "Hello, world! The quick brown fox jumps over the lazy dog."),
        "accents": (0x07, "Unaffable résumés: naïve café, ÅNGSTRÖM Ǆemal"),
        "accents_kept": (0x05, "résumé Crème Brûlée"),
        "cjk": (0x07, "中文字符 and 日本語のかな 한국어"),
        "cjk_not_split": (0x03, "中文字符"),
        "greek_final_sigma": (0x01, "ΟΔΥΣΣΕΥΣ ΣΑ Σ"),
        "turkish_dotted_i": (0x03, "İstanbul IĞDIR"),
        "combining_marks": (0x07, "a\u0301\u0316\u0301\u0316\u0301 e\u0327\u0301 \u1e0b\u0323"),
        "hangul_nfd": (0x07, "한글 조합"),
        "special_tokens_inline": (0x07, "[CLS] hello [SEP] world [MASK][UNK][PAD]"),
        "added_tokens": (0x08, "<extra> ÅB åb ab 中文 [SEP][SEP] [SEP]"),
        "long_word": (0x07, "a" * 101 + " " + "b" * 100),
        "control_and_whitespace": (0x07, "tab\there\u00a0nbsp\u200bzero\x00nul\ufffd\r\nline"),
        "punctuation": (0x07, "!!!...,,,;;;(a)[b]{c}<d>¿¡«»—–“”"),
        "truncate_5": (0x57, "one two three four five six"),
        "truncate_1": (0x17, "rejected"),
        "emoji_astral": (0x07, "emoji 😀🤖 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"),
    }
    for name, (selector, text) in texts.items():
        write(t, name, bytes([selector]) + text.encode("utf-8"))
    invalid = {
        "invalid_continuation": b"ab\x80cd",
        "invalid_overlong": b"x\xc0\xaf",
        "invalid_surrogate": b"\xed\xa0\x80",
        "invalid_truncated": b"ok \xe4\xb8",
        "invalid_above_10ffff": b"\xf4\x90\x80\x80",
    }
    for name, raw in invalid.items():
        write(t, name, b"\x07" + raw)


# --- tokenizer.json ----------------------------------------------------------------------------------

def tokenizer_json_seeds():
    t = "tokenizer_json"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "un", "##aff",
             "##able", ",", "!", "a", "##a"]

    def document(**changes):
        doc = {
            "version": "1.0",
            "added_tokens": [
                {"id": 0, "content": "[PAD]", "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True},
                {"id": 3, "content": "[SEP]", "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True},
                {"id": 15, "content": "<new>", "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": True, "special": False},
            ],
            "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                           "strip_accents": None, "lowercase": True},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": {tok: i for i, tok in enumerate(vocab)}},
        }
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        return json.dumps(doc, ensure_ascii=False)

    write(t, "valid_wordpiece", document())
    write(t, "valid_no_normalizer", document(normalizer=None))
    write(t, "valid_null_added_tokens", document(added_tokens=[]))
    write(t, "bpe_model", document(model={"type": "BPE", "vocab": {"a": 0}, "merges": []}))
    write(t, "vocab_ids_gap", document(model={"type": "WordPiece", "vocab": {"[CLS]": 0, "[SEP]": 5}}))
    write(t, "vocab_ids_repeat", document(model={"type": "WordPiece", "vocab": {"[CLS]": 0, "[SEP]": 0}}))
    write(t, "no_cls", document(model={"type": "WordPiece", "vocab": {"[UNK]": 0, "[SEP]": 1}}))
    write(t, "added_token_gap", document(added_tokens=[{"id": 40, "content": "x"}]))
    write(t, "added_token_mismatch", document(added_tokens=[{"id": 5, "content": "bye"}]))
    write(t, "unsupported_pre_tokenizer", document(pre_tokenizer={"type": "UnicodeScripts"}))
    write(t, "unsupported_normalizer", document(normalizer={"type": "ByteLevel"}))
    # The other pipelines: byte-level BPE (GPT-2 / RoBERTa), SentencePiece Unigram (XLM-R), and the
    # remaining normalizers, pre-tokenizers (with regular expressions) and post-processors.
    def added(id, content, **flags):
        token = {"id": id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
        token.update(flags)
        return token

    bpe_vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "\u0120": 4, "a": 5, "b": 6, "\u0120a": 7,
                 "ab": 8, "\u0120ab": 9, "<mask>": 10, "\u00c3": 11, "\u00a9": 12}
    write(t, "valid_roberta", json.dumps({
        "added_tokens": [added(10, "<mask>", lstrip=True)],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                           "trim_offsets": True, "add_prefix_space": False},
        "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": False,
                  "vocab": bpe_vocab, "merges": ["\u0120 a", "a b", "\u0120a b"]}}, ensure_ascii=False))
    write(t, "valid_gpt2_template", json.dumps({
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "\\s+(?!\\S)|[0-9]+"}, "behavior": "MergedWithNext", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "trim_offsets": True, "add_prefix_space": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 1}},
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                                "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}]},
        "model": {"type": "BPE", "vocab": bpe_vocab, "merges": [], "byte_fallback": True,
                  "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>", "ignore_merges": True}},
        ensure_ascii=False))
    write(t, "valid_unigram", json.dumps({
        "added_tokens": [added(0, "<s>"), added(2, "</s>", single_word=True, rstrip=True)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"}, {"type": "Nmt"}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            {"type": "Strip", "strip_left": False, "strip_right": True}, {"type": "Lowercase"},
            {"type": "Prepend", "prepend": "\u2581"}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
        "post_processor": {"type": "BertProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]},
        "model": {"type": "Unigram", "unk_id": 3, "byte_fallback": True,
                  "vocab": [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["\u2581", -1.0],
                            ["a", -2.0], ["\u2581a", -1.5], ["<0x41>", -5.0], ["b", -3.0]]}}, ensure_ascii=False))
    write(t, "valid_wordpiece_pipeline", document(
        normalizer={"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"},
                                                         {"type": "NFC"}, {"type": "NFKD"}]},
        pre_tokenizer={"type": "Sequence", "pretokenizers": [
            {"type": "Whitespace"}, {"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Contiguous"},
            {"type": "Digits", "individual_digits": True},
            {"type": "Split", "pattern": {"String": "##"}, "behavior": "MergedWithPrevious", "invert": True}]},
        post_processor={"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}))
    write(t, "not_json", '{"model": {"type": "WordPiece", "vocab": {')
    write(t, "empty", "")


# --- tokenizer models and the charsmap ---------------------------------------------------------------

def model_seeds():
    # fuzz_bpe: flags, then vocabulary "\n\n" merges "\n\n" word.
    bpe_vocab = "a\nb\nc\nab\nbc\nabc\n##b\n##c\nc</w>\n\u00e9"
    bpe_merges = "a b\nb c\nab c"
    write("bpe", "plain", bytes([8]) + f"{bpe_vocab}\n\n{bpe_merges}\n\nabcabcx\u00e9".encode())
    write("bpe", "fuse_byte_fallback", bytes([1 | 2 | 8 | 64]) + f"{bpe_vocab}\n\n{bpe_merges}\n\nxx\u00e9\u4e2dab".encode())
    write("bpe", "prefix", bytes([8 | 16 | 64]) + "a\n##b\nab\n##c\n\na ##b\n\nabcb".encode())
    write("bpe", "bad_merge", bytes([0]) + b"a\nb\n\na b\n\nab")
    # fuzz_unigram: flags, then pieces "\n\n" word.
    pieces = "a\nb\nab\nabc\n\u2581\n\u2581a\n\u00e9\n\u4e2d\u6587"
    write("unigram", "plain", bytes([2]) + f"{pieces}\n\nabcab\u2581a\u4e2d\u6587x".encode())
    write("unigram", "byte_fallback", bytes([1 | 2 | 0x30]) + f"{pieces}\n\nxy\u00e9\u00a9z".encode())
    write("unigram", "no_unk", bytes([0]) + f"{pieces}\n\nabx".encode())
    # fuzz_precompiled: mode byte, then text / blob / offset + xor bytes / base64.
    write("precompiled", "text", bytes([0]) + "\uff46\uff55\uff4c\uff4c \ufb01 caf\u00e9 e\u0301 \ud55c \U0001f44d\U0001f3fd".encode("utf-8", "surrogatepass"))
    write("precompiled", "small_blob", bytes([1]) + struct.pack("<I", 8) + struct.pack("<II", 0x400, 0x161) + b"x\0")
    write("precompiled", "xor_trie", bytes([2]) + bytes([0x10, 0x02, 0x00]) + bytes(range(1, 40)))
    write("precompiled", "base64", bytes([3]) + b"Zm9vYmFy")


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    safetensors_seeds()
    config_seeds()
    token_input_seeds()
    tokenizer_seeds()
    tokenizer_json_seeds()
    model_seeds()
    for target in sorted(os.listdir(CORPUS)):
        print(f"{target}: {len(os.listdir(os.path.join(CORPUS, target)))} seeds")


if __name__ == "__main__":
    main()
