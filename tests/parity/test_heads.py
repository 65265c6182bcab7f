#!/usr/bin/python3
"""Task heads against a float64 PyTorch reference: `vecformer classify`, `tag` and `fill-mask` on random
Hugging Face task checkpoints of every architecture vecformer has a head for (tools/make_checkpoint.py:
prefixed and unprefixed encoder names, tied and untied masked-LM decoders, id2label, problem_type;
ModernBERT's heads with classifier_pooling cls and mean, its bias and activation flags, `vecformer run` on
those folders, pairs for a ModernBERT cross-encoder (`rerank`, `classify --text`), and their bad input), and
fill-mask on the shipped models/demo.

    /usr/bin/python3 tests/parity/test_heads.py --binary build/vecformer

Tolerances (the encoder's, tests/parity/test_families.py): logits within 2e-5 on the reference backend and
2e-4 on the optimized one, absolute up to 1 and relative above (logits here reach about 5); scores
(softmax / sigmoid, from the same logits) within the same bounds; fill-mask's top-k token ids identical to
the reference's ranking, except between two reference logits closer than the tolerance (an order that
rounding may legitimately swap; counted and printed). bf16 and int8 change the numbers by design: their
runs must agree on the argmax label for at least 80 % of the lines (token classification: of the tokens,
averaged over the lines), and stay within 0.5 (logits are O(1)).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict, List

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
from script_support import report, scratch_folder, script_arguments  # noqa: E402

TOLERANCE = {"reference": 2e-5, "optimized": 2e-4}
LOW_PRECISION_TOLERANCE = 0.5
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CLS, SEP, MASK = 2, 3, 4
problems: List[str] = []
metrics: List[str] = []


def check(condition: bool, message: str) -> bool:
    if not condition:
        problems.append(message)
        print(f"  FAIL: {message}", flush=True)
    return condition


def error(got: np.ndarray, want: np.ndarray) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))) if want.size else 0.0


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def run_lines(binary: str, args: List[str]) -> List[Dict[str, Any]] | None:
    result = subprocess.run([binary, *args, "--quiet"], capture_output=True, text=True, timeout=300)
    if not check(result.returncode == 0, f"{' '.join(args[:3])}: exit {result.returncode}: {result.stderr.strip()}"):
        return None
    return [json.loads(line) for line in result.stdout.splitlines()]


def write_vocab(folder: str, size: int) -> None:
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        for i in range(size):
            f.write((SPECIALS[i] if i < len(SPECIALS) else f"w{i}") + "\n")


def make_sequences(rng: np.random.Generator, vocab: int, lengths, masks: bool) -> List[List[int]]:
    sequences = []
    for length in lengths:
        ids = [CLS] + [int(i) for i in rng.integers(len(SPECIALS), vocab, size=length - 2)] + [SEP]
        if masks:
            for p in rng.choice(np.arange(1, length - 1), size=min(length - 2, 1 + len(sequences) % 3),
                                replace=False):
                ids[int(p)] = MASK
        sequences.append(ids)
    return sequences


def head_case(binary: str, workdir: str, name: str, architecture: str, options: Dict[str, Any]) -> None:
    print(f"{name} ({architecture})", flush=True)
    folder = os.path.join(workdir, name)
    family, kind = mc.HEAD_ARCHITECTURES[architecture]
    config, weights = mc.make_task_checkpoint(folder, architecture=architecture, **options)
    vocab = config["vocab_size"]
    write_vocab(folder, vocab)
    rng = np.random.default_rng(options.get("seed", 0) + 1)
    longest = mc.max_sequence_length(config)
    lengths = [3, min(longest, 17), 5, min(longest, 11)]
    sequences = make_sequences(rng, vocab, lengths, kind == "masked_lm")
    tokens_path = os.path.join(workdir, name + ".txt")
    with open(tokens_path, "w") as f:
        for s in sequences:
            f.write(" ".join(map(str, s)) + "\n")
    hidden = mc.reference_forward(weights, config, sequences)
    command = {"sequence": "classify", "token": "tag", "masked_lm": "fill-mask"}[kind]
    base = [command, "--model", folder, "--input", tokens_path]
    labels = [config["id2label"][str(i)] for i in range(len(config.get("id2label", {})))]
    if not labels and kind != "masked_lm":  # Hugging Face's names when id2label is absent
        labels = [f"LABEL_{i}" for i in range(options.get("num_labels", 3))]

    for backend, dtype in (("reference", "f32"), ("optimized", "f32"), ("optimized", "bf16"),
                           ("optimized", "int8")):
        exact = dtype == "f32"
        tolerance = TOLERANCE[backend] if exact else LOW_PRECISION_TOLERANCE
        args = base + ["--backend", backend, "--dtype", dtype]
        if kind == "masked_lm":
            args += ["--top-k", "5"]
        out = run_lines(binary, args)
        if out is None or not check(len(out) == len(sequences), f"{name}: {len(out)} output lines"):
            continue
        label = f"{name} {backend} {dtype}"
        worst, agree, ties = 0.0, 0, 0
        for i, (line, h) in enumerate(zip(out, hidden)):
            if kind == "sequence":
                want = mc.reference_head(weights, config, h)
                worst = max(worst, error(line["logits"], want))
                sigmoid = len(want) == 1 or config.get("problem_type") == "multi_label_classification"
                want_scores = 1 / (1 + np.exp(-want)) if sigmoid else softmax(want)
                if exact:
                    check(error([line["scores"][l] for l in labels], want_scores) <= tolerance,
                          f"{label} line {i}: scores {line['scores']} vs {want_scores}")
                    check(line["label"] == labels[int(np.argmax(want_scores))] or
                          np.sort(want_scores)[-1] - np.sort(want_scores)[-2] < tolerance,
                          f"{label} line {i}: label {line['label']}")
                agree += line["label"] == labels[int(np.argmax(want_scores))]
            elif kind == "token":
                want = mc.reference_head(weights, config, h)
                check(len(line["logits"]) == len(sequences[i]), f"{label} line {i}: logits rows")
                worst = max(worst, error(line["logits"], want))
                special = [t in (CLS, SEP) for t in sequences[i]]
                want_labels = [labels[int(k)] for k, s in zip(np.argmax(want, axis=1), special) if not s]
                got_labels = [t["label"] for t in line["tokens"]]
                if exact:
                    check(got_labels == want_labels, f"{label} line {i}: labels {got_labels} vs {want_labels}")
                # bf16 / int8: the share of the line's tokens whose label agrees (a line is many argmaxes).
                agree += (sum(g == w for g, w in zip(got_labels, want_labels)) / max(1, len(want_labels))
                          if len(got_labels) == len(want_labels) else 0)
            else:
                positions = [p for p, t in enumerate(sequences[i]) if t == MASK]
                want = mc.reference_head(weights, config, h, positions)
                check([m["position"] for m in line["masks"]] == positions, f"{label} line {i}: mask positions")
                same = True
                for mask, logits in zip(line["masks"], want):
                    order = np.argsort(-logits, kind="stable")[:5]
                    probs = softmax(logits)
                    got_ids = [p["token_id"] for p in mask["predictions"]]
                    worst = max(worst, error([p["score"] for p in mask["predictions"]],
                                             probs[got_ids]))
                    for rank, (g, w) in enumerate(zip(got_ids, order)):
                        if g != w:
                            close = abs(logits[g] - logits[w]) < tolerance * max(1.0, abs(logits[w]))
                            ties += close
                            same = same and close
                    if exact:
                        check(same, f"{label} line {i}: top-5 {got_ids} vs reference {list(order)}")
                    check(all(mc_token == (SPECIALS[t] if t < len(SPECIALS) else f"w{t}")
                              for mc_token, t in ((p["token"], p["token_id"]) for p in mask["predictions"])),
                          f"{label} line {i}: token strings")
                agree += same
        metrics.append(f"{label}: max error {worst:.2e}" + (f", {ties} near-ties" if ties else ""))
        check(worst <= tolerance, f"{label}: max error {worst:.3g} > {tolerance:g}")
        if not exact:
            check(agree >= 0.8 * len(sequences), f"{label}: only {agree:g} of {len(sequences)} lines agree")


def demo_case(binary: str, workdir: str) -> None:
    """models/demo (BertForMaskedLM, F16, tied decoder): fill-mask against the float64 reference."""
    print("demo fill-mask", flush=True)
    demo = os.path.join(REPO, "models", "demo")
    with open(os.path.join(demo, "config.json")) as f:
        config = json.load(f)
    weights, _, _ = mc.read_safetensors(os.path.join(demo, "model.safetensors"))
    text = "The cat sat on the [MASK].\nA [MASK] is a small [MASK] animal.\n"
    tokenized = subprocess.run([binary, "tokenize", "--model", demo, "--input", "-"], input=text,
                               capture_output=True, text=True, timeout=120)
    if not check(tokenized.returncode == 0, f"demo tokenize: {tokenized.stderr.strip()}"):
        return
    sequences = [[int(t) for t in line.split()] for line in tokenized.stdout.splitlines()]
    hidden = mc.reference_forward(weights, config, sequences)
    text_path = os.path.join(workdir, "demo.txt")
    with open(text_path, "w") as f:
        f.write(text)
    for backend in ("reference", "optimized"):
        out = run_lines(binary, ["fill-mask", "--model", demo, "--text", "--input", text_path,
                                 "--backend", backend, "--top-k", "5"])
        if out is None:
            continue
        worst = 0.0
        for line, ids, h in zip(out, sequences, hidden):
            positions = [p for p, t in enumerate(ids) if t == 4]
            want = mc.reference_head(weights, config, h, positions)
            check([m["position"] for m in line["masks"]] == positions, f"demo {backend}: positions")
            for mask, logits in zip(line["masks"], want):
                order = list(np.argsort(-logits, kind="stable")[:5])
                got = [p["token_id"] for p in mask["predictions"]]
                check(got == order, f"demo {backend}: top-5 {got} vs reference {order}")
                worst = max(worst, error([p["score"] for p in mask["predictions"]], softmax(logits)[got]))
        metrics.append(f"demo {backend}: max score error {worst:.2e}")
        check(worst <= TOLERANCE[backend], f"demo {backend}: score error {worst:.3g}")


SMALL = dict(hidden_size=32, num_attention_heads=2, intermediate_size=64, num_hidden_layers=2,
             vocab_size=120, max_position_embeddings=40)
CASES = [
    ("bert_seq_prefixed", "BertForSequenceClassification",
     dict(SMALL, seed=1, labels={0: "negative", 1: "neutral", 2: "positive"})),
    ("bert_seq_unprefixed_one_label", "BertForSequenceClassification",
     dict(SMALL, seed=2, prefix="", num_labels=1, labels={})),
    ("roberta_seq_prefixed", "RobertaForSequenceClassification", dict(SMALL, seed=3, num_labels=2)),
    ("xlmr_seq_unprefixed_multi_label", "XLMRobertaForSequenceClassification",
     dict(SMALL, seed=4, prefix="", num_labels=4, problem_type="multi_label_classification")),
    ("distilbert_seq_prefixed_relu", "DistilBertForSequenceClassification",
     dict(SMALL, seed=5, hidden_act="relu")),
    ("bert_token_unprefixed", "BertForTokenClassification",
     dict(SMALL, seed=6, prefix="", labels={0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"})),
    ("roberta_token_prefixed", "RobertaForTokenClassification", dict(SMALL, seed=7, num_labels=3)),
    ("distilbert_token_unprefixed", "DistilBertForTokenClassification",
     dict(SMALL, seed=8, prefix="", num_labels=5)),
    ("bert_mlm_prefixed_tied", "BertForMaskedLM", dict(SMALL, seed=9)),
    ("bert_mlm_unprefixed_untied_gelu_new", "BertForMaskedLM",
     dict(SMALL, seed=10, prefix="", tied=False, hidden_act="gelu_new")),
    ("roberta_mlm_prefixed_untied", "RobertaForMaskedLM", dict(SMALL, seed=11, tied=False)),
    ("xlmr_mlm_unprefixed_tied", "XLMRobertaForMaskedLM", dict(SMALL, seed=12, prefix="")),
    ("distilbert_mlm_prefixed_tied", "DistilBertForMaskedLM", dict(SMALL, seed=13)),
    ("distilbert_mlm_unprefixed_untied_relu", "DistilBertForMaskedLM",
     dict(SMALL, seed=14, prefix="", tied=False, hidden_act="relu")),
]
# ModernBERT (tools/modern_checkpoint.py): 3 layers with global_attn_every_n_layers 3 and a window of 8,
# so layers 1 and 2 are local and the 17-token lines reach past their window; head_dim 16 (rotary).
MODERN = dict(hidden_size=32, num_attention_heads=2, intermediate_size=48, num_hidden_layers=3,
              vocab_size=120, max_position_embeddings=40, local_attention=8)
GTE = dict(hidden_size=32, num_attention_heads=2, intermediate_size=48, num_hidden_layers=2, vocab_size=120,
           max_position_embeddings=40)
MODERN_CASES = [
    ("modernbert_seq_cls_prefixed", "ModernBertForSequenceClassification",
     dict(MODERN, seed=21, classifier_pooling="cls", labels={0: "negative", 1: "neutral", 2: "positive"})),
    ("modernbert_seq_mean_unprefixed_biases_one_label", "ModernBertForSequenceClassification",
     dict(MODERN, seed=22, prefix="", classifier_pooling="mean", classifier_bias=True, norm_bias=True,
          classifier_activation="gelu_pytorch_tanh", num_labels=1, labels={})),
    ("modernbert_seq_mean_multi_label_silu", "ModernBertForSequenceClassification",
     dict(MODERN, seed=23, classifier_pooling="mean", classifier_activation="silu", num_labels=4,
          problem_type="multi_label_classification")),
    ("modernbert_token_prefixed_tanh", "ModernBertForTokenClassification",
     dict(MODERN, seed=24, classifier_activation="tanh",
          labels={0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"})),
    ("modernbert_token_unprefixed_null_activation", "ModernBertForTokenClassification",
     dict(MODERN, seed=25, prefix="", classifier_activation=None, hidden_activation="silu", num_labels=3)),
    # classifier_activation absent: "gelu" (ModernBertConfig's default), not hidden_activation.
    ("modernbert_mlm_prefixed_tied", "ModernBertForMaskedLM",
     dict(MODERN, seed=26, hidden_activation="gelu_pytorch_tanh")),
    ("modernbert_mlm_unprefixed_untied_no_decoder_bias", "ModernBertForMaskedLM",
     dict(MODERN, seed=27, prefix="", tied=False, decoder_bias=False, classifier_bias=True)),
    # BERT's pooler + classifier under GTE's "new." and NomicBERT's "bert." prefixes: the one-label
    # reranker shape of gte-multilingual-reranker-base (sigmoid), GTE token classification unprefixed
    # (type_vocab_size 0: no token types), a two-label nomic classifier with token types.
    ("gte_seq_reranker_prefixed", "NewForSequenceClassification",
     dict(GTE, seed=28, num_labels=1, labels={})),
    ("gte_token_unprefixed", "NewForTokenClassification",
     dict(GTE, seed=29, prefix="", labels={0: "O", 1: "B-ORG", 2: "I-ORG"})),
    ("nomic_seq_prefixed", "NomicBertForSequenceClassification",
     dict(GTE, seed=30, labels={0: "negative", 1: "positive"})),
]
CASES += MODERN_CASES


def run_hidden(binary: str, folder: str, tokens_path: str) -> List[np.ndarray] | None:
    """`vecformer run` last hidden states ([L, H] per line) through a .npy file."""
    out = os.path.join(os.path.dirname(tokens_path), os.path.basename(folder) + "_hidden.npy")
    result = subprocess.run([binary, "run", "--model", folder, "--input", tokens_path, "--output", out,
                             "--backend", "reference", "--quiet"], capture_output=True, text=True,
                            timeout=300)
    if not check(result.returncode == 0, f"run {folder}: exit {result.returncode}: {result.stderr.strip()}"):
        return None
    return list(np.load(out))


def modern_run_case(binary: str, workdir: str) -> None:
    """`vecformer run` on the ModernBERT task folders: the encoder's last hidden states (after final_norm),
    the head left out; checked on the reference backend (2e-5) over each line's real tokens."""
    print("modernbert run on task folders", flush=True)
    for name, architecture, options in MODERN_CASES:
        folder = os.path.join(workdir, name)
        tokens_path = os.path.join(workdir, name + ".txt")
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        weights = mc.strip_prefix(mc.read_safetensors(os.path.join(folder, "model.safetensors"))[0], "model.")
        with open(tokens_path) as f:
            sequences = [[int(t) for t in line.split()] for line in f]
        got = run_hidden(binary, folder, tokens_path)
        if got is None:
            continue
        want = mc.reference_forward(weights, config, sequences)
        worst = max(error(g[:len(w)], w) for g, w in zip(got, want))
        metrics.append(f"{name} run reference: max error {worst:.2e}")
        check(worst <= TOLERANCE["reference"], f"{name} run: hidden-state error {worst:.3g}")


def modern_pair_case(binary: str, workdir: str) -> None:
    """A ModernBERT cross-encoder (one label, mean pooling): `rerank` and `classify --text` with a TAB
    pair. ModernBERT takes no token types, so a pair is [CLS] A [SEP] B [SEP] with the tokenizer's type
    ids dropped (vocab.txt's WordPiece: "wN" is id N). Logits within the head tolerances; rerank's order
    is the reference's by sigmoid."""
    print("modernbert pairs (rerank, classify --text)", flush=True)
    name = "modernbert_cross_encoder"
    folder = os.path.join(workdir, name)
    config, weights = mc.make_task_checkpoint(
        folder, architecture="ModernBertForSequenceClassification",
        **dict(MODERN, seed=41, classifier_pooling="mean", num_labels=1, labels={}))
    write_vocab(folder, MODERN["vocab_size"])
    query = [7, 8]
    documents = [[20, 21, 22], [30], [40 + i for i in range(14)], [9, 7, 8]]
    sequences = [[CLS] + query + [SEP] + d + [SEP] for d in documents]
    want = [float(mc.reference_head(weights, config, h)[0])
            for h in mc.reference_forward(weights, config, sequences)]
    docs_path = os.path.join(workdir, name + "_docs.txt")
    with open(docs_path, "w") as f:
        f.write("".join(" ".join(f"w{t}" for t in d) + "\n" for d in documents))
    pairs_path = os.path.join(workdir, name + "_pairs.txt")
    with open(pairs_path, "w") as f:
        f.write("".join("w7 w8\t" + " ".join(f"w{t}" for t in d) + "\n" for d in documents))
    order = sorted(range(len(want)), key=lambda i: -want[i])
    info = subprocess.run([binary, "info", "--model", folder], capture_output=True, text=True, timeout=120)
    check(info.returncode == 0 and "(ModernBertForSequenceClassification), 1 label: LABEL_0 (sigmoid, mean "
          "pooling)" in info.stdout, f"{name} info: {info.stdout!r} {info.stderr!r}")
    for backend in ("reference", "optimized"):
        out = run_lines(binary, ["rerank", "--model", folder, "--query", "w7 w8", "--input", docs_path,
                                 "--backend", backend])
        if out is not None:
            worst = max(error([line["logit"]], [want[line["index"]]]) for line in out)
            metrics.append(f"{name} rerank {backend}: max error {worst:.2e}")
            check(worst <= TOLERANCE[backend], f"{name} rerank {backend}: logit error {worst:.3g}")
            check([line["index"] for line in out] == order,
                  f"{name} rerank {backend}: order {[line['index'] for line in out]} vs {order}")
        out = run_lines(binary, ["classify", "--model", folder, "--text", "--input", pairs_path,
                                 "--backend", backend])
        if out is not None and check(len(out) == len(want), f"{name} classify {backend}: lines"):
            worst = error([line["logits"][0] for line in out], want)
            metrics.append(f"{name} classify --text pairs {backend}: max error {worst:.2e}")
            check(worst <= TOLERANCE[backend], f"{name} classify {backend}: logit error {worst:.3g}")


def bad_input_case(binary: str, workdir: str) -> None:
    """ModernBERT heads' bad input: one-line errors naming the tensor or the field, exit 1."""
    print("modernbert bad input", flush=True)
    tokens = os.path.join(workdir, "bad_tokens.txt")
    with open(tokens, "w") as f:
        f.write(f"{CLS} 7 8 {MASK} {SEP}\n")

    def expect_error(folder: str, command: str, needles: List[str]) -> None:
        result = subprocess.run([binary, command, "--model", folder, "--input", tokens, "--quiet"],
                                capture_output=True, text=True, timeout=120)
        lines = result.stderr.strip().splitlines()
        check(result.returncode == 1 and not result.stdout and len(lines) == 1 and
              all(n in result.stderr for n in needles),
              f"{os.path.basename(folder)} {command}: exit {result.returncode}, stderr {result.stderr!r}, "
              f"expected one line with {needles}")

    def variant(name: str, architecture: str, drop: str | None = None, **options: Any) -> str:
        folder = os.path.join(workdir, name)
        mc.make_task_checkpoint(folder, architecture=architecture, **dict(MODERN, seed=30, **options))
        write_vocab(folder, MODERN["vocab_size"])
        if drop:
            path = os.path.join(folder, "model.safetensors")
            weights, dtypes, _ = mc.read_safetensors(path)
            del weights[drop]
            mc.write_safetensors(path, {k: (v, dtypes[k]) for k, v in weights.items()})
        return folder

    expect_error(variant("bad_no_head_dense", "ModernBertForSequenceClassification", drop="head.dense.weight"),
                 "classify", ["head.dense.weight", "model.safetensors"])
    expect_error(variant("bad_no_classifier", "ModernBertForTokenClassification", drop="classifier.bias"),
                 "tag", ["classifier.bias"])
    expect_error(variant("bad_untied_no_decoder", "ModernBertForMaskedLM", tied=False,
                         drop="decoder.weight"), "fill-mask", ["decoder.weight", "tie_word_embeddings"])
    expect_error(variant("bad_no_decoder_bias", "ModernBertForMaskedLM", drop="decoder.bias"),
                 "fill-mask", ["decoder.bias"])
    expect_error(variant("bad_pooling", "ModernBertForSequenceClassification", classifier_pooling="max"),
                 "classify", ["config.json", "classifier_pooling", "max"])
    expect_error(variant("bad_activation", "ModernBertForTokenClassification", classifier_activation="mish"),
                 "tag", ["config.json", "classifier_activation", "mish"])
    # A head dense bias the config says is absent (classifier_bias false) is an error, not ignored.
    folder = variant("bad_extra_bias", "ModernBertForSequenceClassification", classifier_bias=True)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    config["classifier_bias"] = False
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    expect_error(folder, "classify", ["head.dense.bias"])
    # `run` ignores the head: the unknown pooling does not stop the encoder.
    result = subprocess.run([binary, "run", "--model", os.path.join(workdir, "bad_pooling"), "--input", tokens,
                             "--output", os.path.join(workdir, "bad_pooling.npy"), "--quiet"],
                            capture_output=True, text=True, timeout=120)
    check(result.returncode == 0, f"run on bad_pooling: {result.stderr.strip()}")


def main() -> int:
    args = script_arguments("test_heads", __doc__.splitlines()[0])
    if args is None:
        return 1
    with scratch_folder("vecformer_heads_", args.keep) as workdir:
        for name, architecture, options in CASES:
            head_case(args.binary, workdir, name, architecture, options)
        modern_run_case(args.binary, workdir)
        modern_pair_case(args.binary, workdir)
        bad_input_case(args.binary, workdir)
        demo_case(args.binary, workdir)
    print("\nsummary:")
    for line in metrics:
        print("  " + line)
    return report("test_heads", problems, f"{len(CASES)} architectures + demo")


if __name__ == "__main__":
    sys.exit(main())
