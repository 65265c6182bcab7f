#!/usr/bin/python3
"""`vecformer serve`'s /predict and /rerank on task checkpoints (tools/make_checkpoint.py's
make_task_checkpoint over bert-base-uncased's vocabulary): answers equal `vecformer classify` and
`vecformer rerank` on the same texts and pairs (both print floats as the shortest text that reads back
as the same float32, so equal parsed values are equal bits; both run one thread), in TEI's shapes.

    /usr/bin/python3 tests/serve/test_serve_heads.py --binary build/vecformer
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
sys.path.insert(0, os.path.join(REPO, "tests", "serve"))
sys.path.insert(0, os.path.join(REPO, "tools"))
import make_checkpoint as mc  # noqa: E402
from script_support import Failures, report, scratch_folder, script_arguments  # noqa: E402
from serve_support import ServeProcess  # noqa: E402

NAME = "test_serve_heads"
BERT_VOCAB = os.path.join(REPO, "models", "vocab", "bert-base-uncased")
TINY = dict(hidden_size=16, num_attention_heads=2, intermediate_size=32, num_hidden_layers=1,
            max_position_embeddings=64)
LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}


def with_vocab(folder: str) -> None:
    for name in os.listdir(BERT_VOCAB):
        with open(os.path.join(BERT_VOCAB, name), "rb") as f, open(os.path.join(folder, name), "wb") as g:
            g.write(f.read())


def cli_lines(binary: str, args: list[str], stdin: str) -> list[dict]:
    result = subprocess.run([binary, *args, "--threads", "1", "--quiet"], input=stdin, capture_output=True,
                            text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"vecformer {args[0]}: {result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines()]


def sorted_scores(scores: dict[str, float]) -> list[dict]:
    """classify's {label: score} as TEI's list, highest first (ties in label order)."""
    order = sorted(range(len(scores)), key=lambda i: -list(scores.values())[i])
    return [{"score": list(scores.values())[i], "label": list(scores)[i]} for i in order]


def main() -> int:
    args = script_arguments(NAME, __doc__)
    if args is None:
        return 1
    binary = args.binary
    failures = Failures()
    check = failures.check
    with scratch_folder("vecformer_serve_heads_", args.keep) as work:
        nli = os.path.join(work, "nli")
        mc.make_task_checkpoint(nli, architecture="BertForSequenceClassification", seed=22, vocab_size=30522,
                                labels=LABELS, **TINY)
        with_vocab(nli)
        cross = os.path.join(work, "cross-encoder")
        mc.make_task_checkpoint(cross, architecture="BertForSequenceClassification", seed=24, vocab_size=30522,
                                num_labels=1, labels={}, **TINY)
        with_vocab(cross)

        singles = ["A man plays a guitar.", "Nobody is here.", ""]
        pairs = [("A man plays a guitar.", "A person makes music."), ("the cat", "a dog")]
        lines = singles + [f"{a}\t{b}" for a, b in pairs]
        expected = cli_lines(binary, ["classify", "--model", nli, "--text", "--input", "-"],
                             "".join(line + "\n" for line in lines))
        server = ServeProcess(binary, nli, ["--threads", "1", "--quiet"])
        try:
            status, info = server.json("GET", "/info")
            check(status == 200 and info["model_type"] == {"classifier": {
                "id2label": {str(k): v for k, v in LABELS.items()}, "label2id": {v: k for k, v in LABELS.items()}}}
                and "/predict" in info["routes"] and "/rerank" not in info["routes"], f"/info: {info}")
            status, one = server.json("POST", "/predict", {"inputs": singles[0]})
            check(status == 200 and one == sorted_scores(expected[0]["scores"]), f"/predict a text: {status} {one}")
            status, pair = server.json("POST", "/predict", {"inputs": list(pairs[0])})
            check(status == 200 and pair == sorted_scores(expected[3]["scores"]), f"/predict a pair: {pair}")
            batch = [singles[0], [singles[1]], singles[2], list(pairs[0]), list(pairs[1])]
            status, many = server.json("POST", "/predict", {"inputs": batch})
            check(status == 200 and many == [sorted_scores(e["scores"]) for e in expected],
                  "/predict a batch of texts and pairs equals classify, in order")
            status, raw = server.json("POST", "/predict", {"inputs": singles[1], "raw_scores": True})
            logits = dict(zip(LABELS.values(), expected[1]["logits"]))
            check(status == 200 and raw == sorted_scores(logits), f"/predict raw_scores are the logits: {raw}")
            status, data = server.json("POST", "/rerank", {"query": "q", "texts": ["a"]})
            check(status == 400 and data["error_type"] == "unsupported", f"/rerank on 3 labels: {status} {data}")
            status, data = server.json("POST", "/embed", {"inputs": "a"})
            check(status == 400 and data["error_type"] == "unsupported", f"/embed on a classifier: {status} {data}")
            status, data = server.json("POST", "/predict", {"inputs": []})
            check(status == 400 and data["error_type"] == "empty", f"/predict []: {status} {data}")
            status, data = server.json("POST", "/predict", {"inputs": [["a", "b", "c"]]})
            check(status == 422, f"/predict a triple: {status} {data}")
            status, data = server.json("POST", "/predict", {"inputs": "word " * 100})
            check(status == 422 and "truncate" in data["error"], f"/predict too long: {status} {data}")
            status, data = server.json("POST", "/predict", {"inputs": "word " * 100, "truncate": True})
            check(status == 200 and len(data) == 3, f"/predict truncate: {status}")
        finally:
            code = server.stop()
        check(code == 0, f"nli server exit {code}")

        docs = ["a cat sat on the mat", "stock markets fell", "the cat", "", "cats and dogs"]
        ranked = cli_lines(binary, ["rerank", "--model", cross, "--query", "the cat", "--input", "-"],
                           "".join(d + "\n" for d in docs))
        ranked_raw = cli_lines(binary, ["rerank", "--model", cross, "--query", "the cat", "--input", "-",
                                        "--raw-scores"], "".join(d + "\n" for d in docs))
        server = ServeProcess(binary, cross, ["--threads", "1", "--quiet"])
        try:
            status, info = server.json("GET", "/info")
            check(status == 200 and "reranker" in info["model_type"] and "/rerank" in info["routes"], f"/info {info}")
            status, out = server.json("POST", "/rerank", {"query": "the cat", "texts": docs, "return_text": True})
            check(status == 200 and out == [{"index": r["index"], "score": r["score"], "text": docs[r["index"]]}
                                            for r in ranked], f"/rerank equals vecformer rerank: {status} {out}")
            status, raw = server.json("POST", "/rerank", {"query": "the cat", "texts": docs, "raw_scores": True})
            check(status == 200 and raw == [{"index": r["index"], "score": r["score"]} for r in ranked_raw],
                  f"/rerank raw_scores: {raw}")
            status, data = server.json("POST", "/rerank", {"query": "the cat", "texts": []})
            check(status == 400 and data["error_type"] == "empty", f"/rerank no texts: {status} {data}")
            status, data = server.json("POST", "/rerank", {"texts": ["a"]})
            check(status == 422, f"/rerank no query: {status} {data}")
            status, data = server.json("POST", "/rerank", {"query": "q", "texts": ["a", 3]})
            check(status == 422, f"/rerank a number among texts: {status} {data}")
        finally:
            code = server.stop()
        check(code == 0, f"cross-encoder server exit {code}")
    return report(NAME, failures.messages)


if __name__ == "__main__":
    sys.exit(main())
