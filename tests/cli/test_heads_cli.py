#!/usr/bin/python3
"""`vecformer classify`, `tag`, `rerank` and `fill-mask` with text: pair tokenization (BERT `[CLS] A [SEP] B
[SEP]` with token types 0/1, RoBERTa `<s> A </s></s> B </s>`), character offsets, token-classification
aggregation against an independent Python implementation of Hugging Face's TokenClassificationPipeline
post-processing (every strategy, on random logits), reranking order and scores, --output files, and
every "Bad input" case of the issue: one line `vecformer: error: ...`, exit 1, nothing written.

    /usr/bin/python3 tests/cli/test_heads_cli.py --binary build/vecformer

Numbers compared between two runs of the same binary on the same inputs must be equal exactly (the same
sequence gives the same bits whatever its batch); scores derived in Python from printed logits are
compared within 1e-6 (float32 softmax against float64).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any, Dict, List, Sequence

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
from script_support import ErrorChecker, report, scratch_folder, script_arguments  # noqa: E402

BERT_VOCAB = os.path.join(REPO, "models", "vocab", "bert-base-uncased")
DEMO = os.path.join(REPO, "models", "demo")
PREFIX = "vecformer: error: "
SCORE_TOLERANCE = 1e-6
TINY = dict(hidden_size=16, num_attention_heads=2, intermediate_size=32, num_hidden_layers=1,
            max_position_embeddings=64)
NER_LABELS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC", 5: "B-MISC", 6: "I-MISC"}
failures: List[str] = []


def check(condition: bool, what: str) -> bool:
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def run(binary: str, args: Sequence[str], stdin: str | bytes = "") -> subprocess.CompletedProcess:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([binary, *args], input=data, capture_output=True, timeout=300)


def lines_of(result: subprocess.CompletedProcess, what: str) -> List[Dict[str, Any]]:
    if not check(result.returncode == 0, f"{what} exits 0 ({result.stderr.decode().strip()})"):
        return []
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def with_vocab(folder: str, source: str) -> None:
    for name in os.listdir(source):
        with open(os.path.join(source, name), "rb") as f, open(os.path.join(folder, name), "wb") as g:
            g.write(f.read())


def tokenize(binary: str, model: str, text: str, pairs: bool = False) -> List[Dict[str, Any]]:
    args = ["tokenize", "--model", model, "--input", "-", "--json"] + (["--pairs"] if pairs else [])
    return lines_of(run(binary, args, text), "tokenize --json")


# --- Hugging Face's token-classification post-processing, written again from its documented rules -----

def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def wordpiece_decode(tokens: List[str]) -> str:
    out = []
    for i, token in enumerate(tokens):
        if i:
            token = token[2:] if token.startswith("##") else " " + token
        for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                     (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
            token = token.replace(a, b)
        out.append(token)
    return "".join(out)


def byte_level_decode(tokens: List[str]) -> str:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, n = list(bs), 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            chars.append(256 + n)
            n += 1
    byte_of = {chr(c): b for c, b in zip(chars, bs)}
    # Per token, as tokenizers' ByteLevel decoder: a token with a character outside the byte alphabet
    # (an already decoded word, when entities are grouped) keeps its own UTF-8 bytes.
    data = b"".join(bytes(byte_of[c] for c in t) if all(c in byte_of for c in t) else t.encode()
                    for t in tokens)
    return data.decode("utf-8", "replace")


def hf_entities(text: str, enc: Dict[str, Any], logits: np.ndarray, labels: List[str], strategy: str,
                unk_id: int, word_aware: bool = True) -> List[Dict[str, Any]]:
    decode = wordpiece_decode if word_aware else byte_level_decode
    scores = softmax(logits)
    pre = []
    for i, token in enumerate(enc["tokens"]):
        if enc["special_tokens_mask"][i]:
            continue
        start, end = enc["offsets"][i]
        word = token
        if word_aware:
            is_subword = len(token) != len(text[start:end])
        else:  # the pipeline's fallback: not after a space
            is_subword = text[start - 1:start] != " " if start > 0 else False
        if enc["ids"][i] == unk_id:
            word, is_subword = text[start:end], False
        pre.append(dict(word=word, scores=scores[i], start=start, end=end, index=i, is_subword=is_subword))

    def label_of(s):
        k = int(np.argmax(s))
        return labels[k], float(s[k])

    if strategy in ("none", "simple"):
        entities = []
        for p in pre:
            label, score = label_of(p["scores"])
            entities.append(dict(entity=label, score=score, word=p["word"], start=p["start"], end=p["end"],
                                 index=p["index"]))
    else:
        groups: List[List[dict]] = []
        for p in pre:
            if groups and p["is_subword"]:
                groups[-1].append(p)
            else:
                groups.append([p])
        entities = []
        for g in groups:
            if strategy == "first":
                label, score = label_of(g[0]["scores"])
            elif strategy == "max":
                best = g[0]
                for p in g:
                    if p["scores"].max() > best["scores"].max():
                        best = p
                label, score = label_of(best["scores"])
            else:
                label, score = label_of(np.mean([p["scores"] for p in g], axis=0))
            entities.append(dict(entity=label, score=score, word=decode([p["word"] for p in g]),
                                 start=g[0]["start"], end=g[-1]["end"]))
    if strategy == "none":
        return [dict(entity_group=e["entity"], word=e["word"], start=e["start"], end=e["end"],
                     score=e["score"], index=e["index"]) for e in entities if e["entity"] != "O"]

    def tag(name):
        if name.startswith("B-"):
            return "B", name[2:]
        if name.startswith("I-"):
            return "I", name[2:]
        return "I", name

    grouped, run_ = [], []
    for e in entities:
        if run_ and not (tag(e["entity"])[1] == tag(run_[-1]["entity"])[1] and tag(e["entity"])[0] != "B"):
            grouped.append(run_)
            run_ = []
        run_.append(e)
    if run_:
        grouped.append(run_)
    out = []
    for r in grouped:
        group = r[0]["entity"].split("-")[-1]
        if group == "O":
            continue
        out.append(dict(entity_group=group, word=decode([e["word"] for e in r]), start=r[0]["start"],
                        end=r[-1]["end"], score=float(np.mean([e["score"] for e in r]))))
    return out


def same_entities(got: List[Dict[str, Any]], want: List[Dict[str, Any]]) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        for key in ("entity_group", "word", "start", "end"):
            if g[key] != w[key]:
                return False
        if abs(g["score"] - w["score"]) > SCORE_TOLERANCE or g.get("index") != w.get("index"):
            return False
    return True


# --- cases ----------------------------------------------------------------------------------------------

TAG_TEXT = ("Zoë visited Montréal, Québec with Jean-Luc Picard.\n"
            "An unaffable naïve CAFÉ owner ☃ met the BBC's man in New York!\n"
            "\n"
            "x\n")


def tag_cases(binary: str, work: str) -> None:
    model = os.path.join(work, "ner")
    # A 7-label BERT tagger over bert-base-uncased's vocabulary; the classifier's gain makes the random
    # labels vary from token to token so that every aggregation rule is exercised.
    mc.make_task_checkpoint(model, architecture="BertForTokenClassification", seed=21, vocab_size=30522,
                            labels=NER_LABELS, **TINY)
    with_vocab(model, BERT_VOCAB)
    encodings = tokenize(binary, model, TAG_TEXT)
    labels = [NER_LABELS[i] for i in range(len(NER_LABELS))]
    texts = TAG_TEXT.splitlines()
    for strategy in ("none", "simple", "first", "max", "average"):
        out = lines_of(run(binary, ["tag", "--model", model, "--text", "--input", "-", "--aggregation", strategy,
                                    "--quiet"], TAG_TEXT), f"tag --aggregation {strategy}")
        if not check(len(out) == len(texts), f"tag {strategy}: one line per input line"):
            continue
        for text, enc, line in zip(texts, encodings, out):
            logits = np.array(line["logits"], dtype=np.float64).reshape(len(enc["ids"]), len(labels))
            check(len(line["logits"]) == len(enc["ids"]), f"tag {strategy}: logits for every token, specials too")
            tokens = [t for t, s in zip(enc["tokens"], enc["special_tokens_mask"]) if not s]
            check([t["token"] for t in line["tokens"]] == tokens, f"tag {strategy}: tokens without specials")
            for t in line["tokens"]:
                i = t["index"]
                ok = [t["start"], t["end"]] == enc["offsets"][i]
                ok = ok and t["label"] == labels[int(np.argmax(logits[i]))]
                ok = ok and abs(t["score"] - softmax(logits[i]).max()) <= SCORE_TOLERANCE
                if not ok:
                    check(False, f"tag {strategy}: token {t} of {text!r}")
                    break
            want = hf_entities(text, enc, logits, labels, strategy, 100)
            check(same_entities(line["entities"], want),
                  f"tag {strategy}: entities of {text!r} as the pipeline's ({len(want)})"
                  + ("" if same_entities(line["entities"], want) else f": got {line['entities']} want {want}"))
    # Offsets point into the line: the first text's tokens cover the words they came from.
    first = lines_of(run(binary, ["tag", "--model", model, "--text", "--input", "-", "--quiet"],
                         "Montréal unaffable\n"), "tag offsets")
    if first:
        spans = [("Montréal unaffable"[t["start"]:t["end"]], t["token"]) for t in first[0]["tokens"]]
        check(spans == [("Montréal", "montreal"), ("una", "una"), ("ffa", "##ffa"), ("ble", "##ble")],
              f"tag offsets cover the words (code points): {spans}")


def pair_cases(binary: str, work: str) -> None:
    model = os.path.join(work, "nli")
    mc.make_task_checkpoint(model, architecture="BertForSequenceClassification", seed=22, vocab_size=30522,
                            labels={0: "entailment", 1: "neutral", 2: "contradiction"}, **TINY)
    with_vocab(model, BERT_VOCAB)
    text = "A man plays a guitar.\tA person makes music.\nA man plays a guitar.\n"
    out = lines_of(run(binary, ["classify", "--model", model, "--text", "--input", "-", "--quiet"], text),
                   "classify --text with a pair")
    enc = tokenize(binary, model, text, pairs=True)
    check(enc[0]["type_ids"][-6:] == [1] * 6 and enc[0]["tokens"][0] == "[CLS]" and
          enc[0]["tokens"].count("[SEP]") == 2, "BERT pair: [CLS] A [SEP] B [SEP], types 0 then 1")
    ids_input = "".join(json.dumps({"input_ids": e["ids"], "token_type_ids": e["type_ids"]}) + "\n" for e in enc)
    by_ids = lines_of(run(binary, ["classify", "--model", model, "--input", "-", "--quiet"], ids_input),
                      "classify on the pair's ids")
    check(len(out) == 2 and out == by_ids, "classify --text on a pair = classify on its ids and token types")
    if out:
        line = out[0]
        probs = softmax(np.array(line["logits"]))
        check(list(line["scores"]) == ["entailment", "neutral", "contradiction"], "scores keyed by label in id order")
        check(max(abs(line["scores"][k] - p) for k, p in zip(line["scores"], probs)) <= SCORE_TOLERANCE,
              "scores are the softmax of the logits")
        check(line["label"] == max(line["scores"], key=line["scores"].get) and line["score"] == max(line["scores"].values()),
              "label and score are the best")
    # --output: the same lines in a file, nothing on stdout.
    path = os.path.join(work, "nli.jsonl")
    result = run(binary, ["classify", "--model", model, "--text", "--input", "-", "--output", path, "--quiet"], text)
    check(result.returncode == 0 and result.stdout == b"" and os.path.isfile(path), "classify --output writes the file")
    if os.path.isfile(path):
        with open(path) as f:
            check([json.loads(l) for l in f] == out, "the --output file holds the stdout lines")

    # Truncation of a pair: longest_first to --max-length.
    long_pair = "one two three four five six seven eight\tnine ten\n"
    trunc = tokenize(binary, model, long_pair, pairs=True)
    check(len(trunc[0]["ids"]) == 13, "pair tokenization (13 tokens)")
    cut = lines_of(run(binary, ["classify", "--model", model, "--text", "--input", "-", "--max-length", "8",
                                "--quiet"], long_pair), "classify --max-length 8 on a pair")
    truncated = run(binary, ["tokenize", "--model", model, "--input", "-", "--json", "--pairs", "--max-length",
                             "8"], long_pair)
    t = json.loads(truncated.stdout.decode().splitlines()[0])
    # longest_first takes the 5 tokens from the longer text: both texts survive.
    check(t["tokens"] == ["[CLS]", "one", "two", "three", "[SEP]", "nine", "ten", "[SEP]"],
          f"longest_first truncation keeps both texts: {t['tokens']}")
    again = lines_of(run(binary, ["classify", "--model", model, "--input", "-", "--quiet"],
                         json.dumps({"input_ids": t["ids"], "token_type_ids": t["type_ids"]}) + "\n"),
                     "classify on the truncated ids")
    check(cut == again, "--max-length truncates the pair as the tokenizer's longest_first does")


def byte_level_vocab(folder: str) -> Dict[str, int]:
    """A RoBERTa tokenizer.json (byte-level BPE, RobertaProcessing) as roberta-base's is laid out: the
    specials, GPT-2's 256 byte characters, a few merges and <mask>."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, n = list(bs), 0
    for b in range(256):
        if b not in bs:
            chars.append(256 + n)
            n += 1
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for c in chars:
        vocab[chr(c)] = len(vocab)
    merges = [("Ġ", "c"), ("Ġc", "a"), ("Ġca", "t")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab["<mask>"] = len(vocab)

    def added(token, lstrip=False):
        return {"id": vocab[token], "content": token, "single_word": False, "lstrip": lstrip, "rstrip": False,
                "normalized": False, "special": True}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added("<s>"), added("<pad>"), added("</s>"), added("<unk>"), added("<mask>", True)],
        "normalizer": None, "pre_tokenizer": byte_level,
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                           "trim_offsets": True, "add_prefix_space": False},
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": [f"{a} {b}" for a, b in merges]},
    }
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    return vocab


def rerank_checks(binary: str, model: str, docs: str, what: str) -> List[Dict[str, Any]]:
    """rerank against classify on the same pairs (tokenized by `tokenize --pairs`); returns the pairs'
    encodings."""
    out = lines_of(run(binary, ["rerank", "--model", model, "--query", "the cat", "--input", "-", "--quiet"], docs),
                   f"rerank on {what}")
    enc = tokenize(binary, model, "".join(f"the cat\t{d}\n" for d in docs.splitlines()), pairs=True)
    by_ids = lines_of(run(binary, ["classify", "--model", model, "--input", "-", "--quiet"],
                          "".join(json.dumps({"input_ids": e["ids"], "token_type_ids": e["type_ids"]}) + "\n"
                                  for e in enc)), f"{what}: classify on the pairs' ids")
    if out and by_ids:
        logits = [l["logits"][0] for l in by_ids]
        check(sorted(l["index"] for l in out) == list(range(len(docs.splitlines()))), f"{what}: every document once")
        check([l["logit"] for l in out] == [logits[l["index"]] for l in out], f"{what}: logits = classify on the pairs")
        check(all(a["score"] >= b["score"] for a, b in zip(out, out[1:])), f"{what}: highest score first")
        check(all(abs(l["score"] - 1 / (1 + math.exp(-l["logit"]))) <= SCORE_TOLERANCE for l in out),
              f"{what}: score = sigmoid(logit)")
        check(all(l["label"] == "LABEL_0" and abs(l["score"] - 1 / (1 + math.exp(-l["logits"][0]))) <= SCORE_TOLERANCE
                  for l in by_ids), f"{what}: one label, classify scores with the sigmoid")
    raw = lines_of(run(binary, ["rerank", "--model", model, "--query", "the cat", "--input", "-", "--raw-scores",
                                "--quiet"], docs), f"{what}: rerank --raw-scores")
    check(bool(raw) and all(l["score"] == l["logit"] for l in raw), f"{what}: --raw-scores, the score is the logit")
    return enc


def rerank_cases(binary: str, work: str) -> None:
    model = os.path.join(work, "cross-encoder")
    mc.make_task_checkpoint(model, architecture="BertForSequenceClassification", seed=24, vocab_size=30522,
                            num_labels=1, labels={}, **TINY)
    with_vocab(model, BERT_VOCAB)
    docs = "a cat sat on the mat\nstock markets fell\nthe cat\n\ncats and dogs\n"
    enc = rerank_checks(binary, model, docs, "a BERT cross-encoder")
    check(bool(enc) and enc[0]["tokens"][:4] == ["[CLS]", "the", "cat", "[SEP]"] and enc[0]["type_ids"][4] == 1,
          "BERT cross-encoder pairs: [CLS] query [SEP] document [SEP]")


def roberta_cases(binary: str, work: str) -> None:
    model = os.path.join(work, "roberta")
    os.makedirs(model)
    vocab = byte_level_vocab(model)
    mc.make_task_checkpoint(model, architecture="RobertaForSequenceClassification", seed=23,
                            vocab_size=len(vocab), num_labels=1, labels={}, **TINY)
    enc = rerank_checks(binary, model, "a cat\nhi\n a cat sat\n", "a RoBERTa cross-encoder")
    want_ids = [vocab["<s>"], vocab["t"], vocab["h"], vocab["e"], vocab["\u0120cat"], vocab["</s>"],
                vocab["</s>"], vocab["a"], vocab["\u0120cat"], vocab["</s>"]]
    check(bool(enc) and enc[0]["ids"] == want_ids,
          f"RoBERTa pair: <s> A </s></s> B </s> ({enc[0]['ids'] if enc else None})")

    # A byte-level BPE tagger: subwords are tokens not after a space, words decoded from bytes.
    tagger = os.path.join(work, "roberta-ner")
    os.makedirs(tagger)
    byte_level_vocab(tagger)
    mc.make_task_checkpoint(tagger, architecture="RobertaForTokenClassification", seed=25,
                            vocab_size=len(vocab), labels=NER_LABELS, **TINY)
    text = "the cat sat in Montréal, a catalogue\n"
    encodings = tokenize(binary, tagger, text)
    labels = [NER_LABELS[i] for i in range(len(NER_LABELS))]
    for strategy in ("none", "simple", "first", "max", "average"):
        out = lines_of(run(binary, ["tag", "--model", tagger, "--text", "--input", "-", "--aggregation", strategy,
                                    "--quiet"], text), f"RoBERTa tag --aggregation {strategy}")
        if out and encodings:
            logits = np.array(out[0]["logits"], dtype=np.float64)
            want = hf_entities(text.rstrip("\n"), encodings[0], logits, labels, strategy, vocab["<unk>"],
                               word_aware=False)
            check(same_entities(out[0]["entities"], want),
                  f"RoBERTa tag {strategy}: entities as the pipeline's ({len(want)})"
                  + ("" if same_entities(out[0]["entities"], want) else f": got {out[0]['entities']} want {want}"))

    # A RoBERTa masked LM: <mask> (lstrip) found in text.
    mlm = os.path.join(work, "roberta-mlm")
    os.makedirs(mlm)
    byte_level_vocab(mlm)
    mc.make_task_checkpoint(mlm, architecture="RobertaForMaskedLM", seed=26, vocab_size=len(vocab), **TINY)
    out = lines_of(run(binary, ["fill-mask", "--model", mlm, "--text", "--input", "-", "--top-k", "2", "--quiet"],
                       "the <mask> sat\n"), "fill-mask on RoBERTa")
    check(bool(out) and [m["position"] for m in out[0]["masks"]] == [4], f"RoBERTa <mask> found: {out}")


def fill_mask_cases(binary: str, work: str) -> None:
    out = lines_of(run(binary, ["fill-mask", "--model", DEMO, "--text", "--input", "-", "--top-k", "3", "--quiet"],
                       "The cat sat on the [MASK].\n[MASK] is [MASK].\n"), "fill-mask on the demo")
    if out:
        check([len(l["masks"]) for l in out] == [1, 2], "one entry per mask token")
        check(out[0]["masks"][0]["position"] == 6, "the mask's token position ([CLS] is 0)")
        p = out[1]["masks"][0]["predictions"]
        check(len(p) == 3 and all(a["score"] >= b["score"] for a, b in zip(p, p[1:])), "--top-k 3, sorted")


class Errors(ErrorChecker):
    def expect(self, name: str, args: Sequence[str], stdin: str | bytes, code: int, contains: Sequence[str]) -> None:
        out_dir = self.fresh_dir("out")
        result = run(self.binary, list(args) + ["--output", os.path.join(out_dir, "out.jsonl")], stdin)
        if self.check_failure(name, result.returncode, result.stderr.decode(), result.stdout, code, contains,
                              out_dir):
            self.passed += 1
            print(f"ok   {name}: {result.stderr.decode().strip()}")


def error_cases(binary: str, work: str) -> List[str]:
    e = Errors(binary, os.path.join(work, "errors"), PREFIX)
    os.makedirs(e.workdir)

    def model(name: str, architecture: str, edit=None, **options) -> str:
        folder = os.path.join(work, name)
        config, _ = mc.make_task_checkpoint(folder, architecture=architecture, vocab_size=30522, **TINY, **options)
        with_vocab(folder, BERT_VOCAB)
        if edit:
            edit(config, folder)
            with open(os.path.join(folder, "config.json"), "w") as f:
                json.dump(config, f)
        return folder

    three = model("three", "BertForSequenceClassification", seed=30)
    lines3 = "fine\nalso fine\n"
    e.expect("no head", ["classify", "--model", os.path.join(REPO, "models", "tiny-bert"), "--input", "-"],
             "1 2 3\n", 1, ["has no sequence-classification head (architectures: BertModel)"])
    e.expect("no tag head", ["tag", "--model", three, "--text", "--input", "-"], "x\n", 1,
             ["has no token-classification head", "BertForSequenceClassification"])

    def multiple_choice(config, folder):
        config["architectures"] = ["BertForMultipleChoice"]
    e.expect("a task model without a vecformer head",
             ["classify", "--model", model("choice", "BertForSequenceClassification", multiple_choice, seed=33),
              "--text", "--input", "-"], "x\n", 1,
             ["has no sequence-classification head (architectures: BertForMultipleChoice): vecformer does not "
              "read the head of BertForMultipleChoice", "docs/FORMAT.md"])

    def fewer_labels(config, folder):
        config["id2label"] = {"0": "a", "1": "b"}
    e.expect("labels missing from id2label",
             ["classify", "--model", model("fewer", "BertForSequenceClassification", fewer_labels, seed=31),
              "--text", "--input", "-"], lines3, 1, ["config.json", "id2label", "no label for id 2", "classifier.weight"])

    def gap(config, folder):
        config["id2label"] = {"0": "a", "2": "c", "3": "d"}
    e.expect("id2label with a gap",
             ["classify", "--model", model("gap", "BertForSequenceClassification", gap, seed=32), "--text",
              "--input", "-"], lines3, 1, ["config.json", "id2label", "no label for id 1"])

    def bad_shape(config, folder):
        path = os.path.join(folder, "model.safetensors")
        tensors, dtypes, metadata = mc.read_safetensors(path)
        tensors["classifier.dense.weight"] = tensors["classifier.dense.weight"][:, :8]
        mc.write_safetensors(path, {k: (v, dtypes[k]) for k, v in tensors.items()}, metadata)
    e.expect("head tensor of the wrong shape",
             ["classify", "--model", model("shape", "RobertaForSequenceClassification", bad_shape, seed=33,
                                            prefix="", num_labels=2), "--text", "--input", "-"], lines3, 1,
             ["model.safetensors", "'classifier.dense.weight'", "[16, 8]", "expected [16, 16]"])

    def no_pooler(config, folder):
        path = os.path.join(folder, "model.safetensors")
        tensors, dtypes, metadata = mc.read_safetensors(path)
        del tensors["bert.pooler.dense.weight"]
        mc.write_safetensors(path, {k: (v, dtypes[k]) for k, v in tensors.items()}, metadata)
    e.expect("head tensor missing",
             ["classify", "--model", model("pooler", "BertForSequenceClassification", no_pooler, seed=34),
              "--text", "--input", "-"], lines3, 1, ["'bert.pooler.dense.weight' is missing"])

    distil = model("distil", "DistilBertForSequenceClassification", seed=35)
    e.expect("pair line on a model without token types", ["classify", "--model", distil, "--text", "--input", "-"],
             "one\nfirst\tsecond\n", 1, ["<stdin>:2:", "pair", "token types"])
    cross = model("cross", "BertForSequenceClassification", seed=36, num_labels=1, labels={})
    e.expect("query that tokenizes to nothing", ["rerank", "--model", cross, "--query", " \t ", "--input", "-"],
             "doc\n", 1, ["--query", "tokenizes to no tokens"])
    e.expect("rerank on a 3-label head", ["rerank", "--model", three, "--query", "q", "--input", "-"], "doc\n", 1,
             ["rerank needs", "one label", "3"])
    e.expect("line without a mask token", ["fill-mask", "--model", DEMO, "--text", "--input", "-"],
             "the [MASK] sat\nno mask here\n", 1, ["<stdin>:2:", "no mask token [MASK]"])
    e.expect("bad UTF-8 in a text line", ["classify", "--model", three, "--text", "--input", "-"],
             b"ok\nbad \xff\n", 1, ["<stdin>:2:", "UTF-8"])
    e.expect("unknown aggregation (usage)", ["tag", "--model", three, "--text", "--input", "-", "--aggregation",
                                             "mean"], "x\n", 2, ["--aggregation"])
    e.expect("top-k 0 (usage)", ["fill-mask", "--model", DEMO, "--text", "--input", "-", "--top-k", "0"], "x\n", 2,
             ["--top-k"])
    for message in e.failures:
        failures.append(message)
    return e.failures


def main() -> int:
    args = script_arguments("test_heads_cli", __doc__.splitlines()[0])
    if args is None:
        return 1
    with scratch_folder("vecformer_heads_cli_", args.keep) as work:
        tag_cases(args.binary, work)
        pair_cases(args.binary, work)
        rerank_cases(args.binary, work)
        roberta_cases(args.binary, work)
        fill_mask_cases(args.binary, work)
        error_cases(args.binary, work)
    return report("test_heads_cli", failures)


if __name__ == "__main__":
    sys.exit(main())
