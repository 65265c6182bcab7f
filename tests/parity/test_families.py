#!/usr/bin/python3
"""RoBERTa, DistilBERT, sentence-transformers folders, pooling and normalization: the vecformer CLI against
a float64 PyTorch reference.

    /usr/bin/python3 tests/parity/test_families.py --binary build/vecformer

(ctest runs it from the repository root.) Steps:

1. The float64 reference (tools/make_checkpoint.py: reference_forward, reference_pool, reference_normalize)
   is checked against formulations written independently of it, from the written safetensors files:
   - RoBERTa: nn.Embedding + Hugging Face's create_position_ids_from_input_ids rule (positions from
     pad_token_id + 1, padding tokens at pad_token_id) + nn.TransformerEncoderLayer, one sequence at a
     time and as a padded batch with a key padding mask, for pad_token_id 1 and 3;
   - DistilBERT: Hugging Face's DistilBERT forward written out literally (q_lin/k_lin/v_lin/out_lin,
     q / sqrt(dim_per_head), masked_fill with finfo.min, sa_layer_norm, ffn.lin1/lin2, output_layer_norm,
     LayerNorm eps 1e-12), gelu and relu, sinusoidal_pos_embds true (the stored table is checked against
     create_sinusoidal_embeddings) and false;
   - pooling and normalization as sentence-transformers computes them on a padded batch with an attention
     mask (cls, masked mean with clamp, max over -1e9-filled padding, sum / sqrt(len); F.normalize).
2. Each case writes a random checkpoint or sentence-transformers folder, a token file, runs
   `vecformer run --backend reference|optimized --output X.npy` (and JSON Lines on stdout) and compares.

Tolerances, absolute, on outputs of size O(1) (LayerNorm keeps hidden states there; pooled vectors are
means / maxima of them, normalized vectors have entries ≤ 1; mean_sqrt_len sums grow by sqrt(L) ≤ 6 here
but the rounding errors of random-sign terms grow alike only in the worst case):
  reference backend 2e-5 — plain float32 loops, ~1e-6 per layer;
  optimized backend 2e-4 — blocked float32 GEMMs, vectorised exp / erf / tanh;
  JSON vs npy       1e-6 relative (|a - b| ≤ 1e-6·max(1, |b|)) — only the text formatting differs;
  float64 reference vs the independent formulations 1e-10.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import traceback
from typing import Any, Callable, Dict, List, Sequence

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
from script_support import executable_or_none, report, scratch_folder  # noqa: E402

REFERENCE_TOLERANCE = 2e-5
OPTIMIZED_TOLERANCE = 2e-4
TOLERANCE = {"reference": REFERENCE_TOLERANCE, "optimized": OPTIMIZED_TOLERANCE}
JSON_TOLERANCE = 1e-6
MODULE_TOLERANCE = 1e-10  # float64 against float64
SINUSOID_TOLERANCE = 1e-7  # the stored float32 table against the float64 formula (half an ulp ≤ 3e-8)
RUN_TIMEOUT_S = 300
ERROR_PREFIX = "vecformer: error: "
SUPPORTED_TYPES = ("bert", "roberta", "xlm-roberta", "distilbert")


class Case:
    """One named check: collects problems and the numbers to print on its summary line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: List[str] = []
        self.metrics: Dict[str, str] = {}

    def check(self, condition: bool, message: str) -> bool:
        if not condition:
            self.problems.append(message)
            print(f"  FAIL {self.name}: {message}", flush=True)
        return bool(condition)

    def metric(self, label: str, value: float | None) -> None:
        self.metrics[label] = "n/a" if value is None else f"{value:.2e}"

    def note(self, label: str, text: str) -> None:
        self.metrics[label] = text


class Suite:
    def __init__(self, binary: str | None, workdir: str) -> None:
        self.binary = binary
        self.workdir = workdir
        self.cases: List[Case] = []

    def run_case(self, name: str, body: Callable[[Case, str], None]) -> None:
        case = Case(name)
        folder = os.path.join(self.workdir, name)
        os.makedirs(folder, exist_ok=True)
        print(f"[{name}]", flush=True)
        try:
            body(case, folder)
        except Exception:  # a crash in one case is a failure of that case, not of the suite
            case.check(False, "exception:\n" + traceback.format_exc())
        self.cases.append(case)
        status = "PASS" if not case.problems else "FAIL"
        print(f"  {status} {name}: " + " ".join(f"{k}={v}" for k, v in case.metrics.items()), flush=True)

    # -- the binary ----------------------------------------------------------------------------------

    def vecformer(self, args: Sequence[str]) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, "run"] + list(args), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)

    def run_ok(self, case: Case, args: Sequence[str]) -> subprocess.CompletedProcess | None:
        result = self.vecformer(list(args) + ["--quiet"])
        if not case.check(result.returncode == 0, f"`vecformer run {' '.join(args)}` exited "
                                                  f"{result.returncode}; stderr {result.stderr.strip()[:2000]!r}"):
            return None
        return result

    def run_npy(self, case: Case, folder: str, label: str, args: Sequence[str]) -> np.ndarray | None:
        out = os.path.join(folder, label.replace(" ", "_") + ".npy")
        if self.run_ok(case, list(args) + ["--output", out]) is None:
            return None
        if not case.check(os.path.isfile(out), f"{label}: exit 0 but no {out}"):
            return None
        return np.load(out)

    def expect_error(self, case: Case, args: Sequence[str], contains: Sequence[str]) -> str:
        """Runs a failing command with --output into an empty folder; checks exit 1, one stderr line
        starting with the error prefix and holding every string of `contains`, nothing left behind."""
        out_dir = os.path.join(self.workdir, case.name, "error_out")
        os.makedirs(out_dir, exist_ok=True)
        result = self.vecformer(list(args) + ["--output", os.path.join(out_dir, "out.npy")])
        case.check(result.returncode == 1, f"exit code {result.returncode}, expected 1; stderr "
                                           f"{result.stderr!r}")
        lines = result.stderr.splitlines()
        case.check(len(lines) == 1 and lines[0].startswith(ERROR_PREFIX),
                   f"stderr must be one line starting with {ERROR_PREFIX!r}; got {result.stderr!r}")
        for text in contains:
            case.check(text in result.stderr, f"message does not contain {text!r}: {result.stderr.strip()!r}")
        case.check(not os.listdir(out_dir), f"left files behind: {sorted(os.listdir(out_dir))}")
        message = result.stderr.strip()
        case.note("message", repr(message[len(ERROR_PREFIX):] if message.startswith(ERROR_PREFIX)
                                  else message))
        return message


# ---------------------------------------------------------------------------------------------------
# inputs and comparisons


def make_sequences(rng: np.random.Generator, config: Dict[str, Any], lengths: Sequence[int],
                   with_types: bool = False) -> List[Dict[str, Any]]:
    """Random sequences; RoBERTa ids avoid pad_token_id (a real tokenizer never emits <pad> inside a
    sequence, and Hugging Face would number such a token as padding)."""
    vocab = config["vocab_size"]
    avoid = config.get("pad_token_id") if mc.position_offset(config) else None
    types = mc.bert_config(config)["type_vocab_size"]
    sequences = []
    for length in lengths:
        ids = rng.integers(0, vocab, length)
        if avoid is not None:
            ids = np.where(ids == avoid, (avoid + 1) % vocab, ids)
        type_ids = rng.integers(0, types, length).tolist() if with_types and types > 0 else None
        sequences.append({"input_ids": ids.tolist(), "token_type_ids": type_ids})
    return sequences


def write_tokens(path: str, sequences: Sequence[Dict[str, Any]]) -> None:
    """Plain lines and JSON lines (every third, with token_type_ids when given)."""
    with open(path, "w") as f:
        for i, s in enumerate(sequences):
            if i % 3 == 1:
                item: Dict[str, Any] = {"input_ids": s["input_ids"]}
                if s["token_type_ids"] is not None:
                    item["token_type_ids"] = s["token_type_ids"]
                f.write(json.dumps(item) + "\n")
            else:
                if s["token_type_ids"] is not None and any(s["token_type_ids"]):
                    raise ValueError("plain lines cannot carry type ids")
                f.write(" ".join(str(t) for t in s["input_ids"]) + "\n")


def with_types_on_json_lines_only(sequences: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The sequences as write_tokens presents them: type ids only on the JSON lines."""
    return [dict(s, token_type_ids=s["token_type_ids"] if i % 3 == 1 else None)
            for i, s in enumerate(sequences)]


def compare_hidden(case: Case, label: str, output: np.ndarray, expected: Sequence[np.ndarray],
                   tolerance: float) -> float | None:
    lmax = max(len(e) for e in expected)
    hidden = expected[0].shape[1]
    shape = (len(expected), lmax, hidden)
    if not case.check(output.shape == shape, f"{label}: npy shape {output.shape}, expected {shape}"):
        return None
    case.check(output.dtype == np.float32, f"{label}: npy dtype {output.dtype}, expected float32")
    if not case.check(bool(np.all(np.isfinite(output))), f"{label}: non-finite values"):
        return None
    for i, e in enumerate(expected):
        case.check(bool(np.all(output[i, len(e):] == 0)),
                   f"{label}: sequence {i} (length {len(e)}) has non-zero padding rows")
    error = max(float(np.max(np.abs(output[i, :len(e)] - e))) for i, e in enumerate(expected))
    case.check(error <= tolerance, f"{label}: max abs error {error:.3e} > {tolerance:g}")
    return error


def compare_pooled(case: Case, label: str, output: np.ndarray, expected: np.ndarray,
                   tolerance: float) -> float | None:
    if not case.check(output.shape == expected.shape,
                      f"{label}: npy shape {output.shape}, expected {expected.shape}"):
        return None
    case.check(output.dtype == np.float32, f"{label}: npy dtype {output.dtype}, expected float32")
    if not case.check(bool(np.all(np.isfinite(output))), f"{label}: non-finite values"):
        return None
    error = float(np.max(np.abs(output - expected)))
    case.check(error <= tolerance, f"{label}: max abs error {error:.3e} > {tolerance:g}")
    return error


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def parse_json_lines(case: Case, label: str, text: str, npy: np.ndarray, pooled: bool,
                     lengths: Sequence[int]) -> float | None:
    """JSON Lines (stdout or .jsonl) against the npy of the same run: worst relative difference."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not case.check(len(lines) == len(lengths), f"{label}: {len(lines)} JSON lines, expected {len(lengths)}"):
        return None
    worst = 0.0
    for i, (line, length) in enumerate(zip(lines, lengths)):
        try:
            item = json.loads(line)
            if pooled:
                values = np.asarray(item["embedding"], dtype=np.float64)
                expected = npy[i].astype(np.float64)
            else:
                case.check(item["length"] == length, f"{label}: line {i + 1} length {item['length']}, "
                                                     f"expected {length}")
                values = np.asarray(item["hidden"], dtype=np.float64)
                expected = npy[i, :length].astype(np.float64)
        except (ValueError, KeyError, TypeError) as e:
            case.check(False, f"{label}: line {i + 1} is not the expected object: {e}: {line[:200]!r}")
            return None
        if not case.check(values.shape == expected.shape,
                          f"{label}: line {i + 1} shape {values.shape}, expected {expected.shape}"):
            return None
        worst = max(worst, relative_difference(values, expected))
    case.check(worst <= JSON_TOLERANCE, f"{label}: JSON differs from the npy by {worst:.3e} > {JSON_TOLERANCE:g}")
    return worst


# ---------------------------------------------------------------------------------------------------
# 1. the float64 reference against independent formulations


def read_unprefixed(model_dir: str, prefix: str) -> Dict[str, np.ndarray]:
    tensors, _, _ = mc.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    assert all(name.startswith(prefix) for name in tensors), "every stored name carries the prefix"
    return {name[len(prefix):]: value for name, value in tensors.items()}


def roberta_modules_forward(w: Dict[str, np.ndarray], config: Dict[str, Any],
                            sequences: Sequence[List[int]], batched: bool) -> List[np.ndarray]:
    """nn.Embedding with Hugging Face's RoBERTa position ids + nn.TransformerEncoderLayer (post-norm)."""
    import torch
    import torch.nn as nn

    f64 = torch.float64
    H, heads, pad = config["hidden_size"], config["num_attention_heads"], config["pad_token_id"]
    eps = float(config["layer_norm_eps"])

    def t(name):
        return torch.as_tensor(w[name], dtype=f64)

    word = nn.Embedding.from_pretrained(t("embeddings.word_embeddings.weight"), padding_idx=pad)
    position = nn.Embedding.from_pretrained(t("embeddings.position_embeddings.weight"), padding_idx=pad)
    token_type = nn.Embedding.from_pretrained(t("embeddings.token_type_embeddings.weight"))
    embedding_norm = nn.LayerNorm(H, eps=eps, dtype=f64)
    with torch.no_grad():
        embedding_norm.weight.copy_(t("embeddings.LayerNorm.weight"))
        embedding_norm.bias.copy_(t("embeddings.LayerNorm.bias"))
    layers = []
    for n in range(config["num_hidden_layers"]):
        pre = f"encoder.layer.{n}."
        layer = nn.TransformerEncoderLayer(H, heads, config["intermediate_size"], dropout=0.0,
                                           activation=config["hidden_act"], layer_norm_eps=eps,
                                           batch_first=True, dtype=f64)
        with torch.no_grad():
            names = [pre + "attention.self." + s for s in ("query", "key", "value")]
            layer.self_attn.in_proj_weight.copy_(torch.cat([t(q + ".weight") for q in names]))
            layer.self_attn.in_proj_bias.copy_(torch.cat([t(q + ".bias") for q in names]))
            for module, name in ((layer.self_attn.out_proj, "attention.output.dense"),
                                 (layer.linear1, "intermediate.dense"), (layer.linear2, "output.dense"),
                                 (layer.norm1, "attention.output.LayerNorm"),
                                 (layer.norm2, "output.LayerNorm")):
                module.weight.copy_(t(pre + name + ".weight"))
                module.bias.copy_(t(pre + name + ".bias"))
        layers.append(layer.eval())

    def create_position_ids_from_input_ids(input_ids, padding_idx):  # as in transformers' modeling_roberta
        mask = input_ids.ne(padding_idx).int()
        incremental_indices = torch.cumsum(mask, dim=1).type_as(mask) * mask
        return incremental_indices.long() + padding_idx

    def encode(ids):
        x = word(ids) + position(create_position_ids_from_input_ids(ids, pad)) + token_type(torch.zeros_like(ids))
        x = embedding_norm(x)
        padding_mask = ids.eq(pad)
        for layer in layers:
            x = layer(x, src_key_padding_mask=padding_mask)
        return x

    with torch.no_grad():
        if not batched:
            return [encode(torch.tensor([ids]))[0].numpy() for ids in sequences]
        lmax = max(len(ids) for ids in sequences)
        out = encode(torch.tensor([list(ids) + [pad] * (lmax - len(ids)) for ids in sequences]))
        return [out[s, :len(ids)].numpy() for s, ids in enumerate(sequences)]


def hf_sinusoids(n_pos: int, dim: int) -> np.ndarray:
    """transformers' create_sinusoidal_embeddings, written out (float64)."""
    position_enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)]
                             for pos in range(n_pos)])
    out = np.zeros((n_pos, dim))
    out[:, 0::2] = np.sin(position_enc[:, 0::2])
    out[:, 1::2] = np.cos(position_enc[:, 1::2])
    return out


def distilbert_hf_forward(w: Dict[str, np.ndarray], config: Dict[str, Any],
                          sequences: Sequence[List[int]], batched: bool) -> List[np.ndarray]:
    """Hugging Face's DistilBertModel forward, written out with DistilBERT's own tensor names."""
    import torch
    import torch.nn as nn

    f64 = torch.float64
    dim, n_heads = config["dim"], config["n_heads"]
    dim_per_head = dim // n_heads
    activation = nn.GELU() if config["activation"] == "gelu" else nn.ReLU()

    def t(name):
        return torch.as_tensor(w[name], dtype=f64)

    def linear(name):
        weight = t(name + ".weight")
        module = nn.Linear(weight.shape[1], weight.shape[0], dtype=f64)
        with torch.no_grad():
            module.weight.copy_(weight)
            module.bias.copy_(t(name + ".bias"))
        return module

    def layer_norm(name):
        module = nn.LayerNorm(dim, eps=1e-12, dtype=f64)
        with torch.no_grad():
            module.weight.copy_(t(name + ".weight"))
            module.bias.copy_(t(name + ".bias"))
        return module

    word = nn.Embedding.from_pretrained(t("embeddings.word_embeddings.weight"))
    position = nn.Embedding.from_pretrained(t("embeddings.position_embeddings.weight"))
    embedding_norm = layer_norm("embeddings.LayerNorm")
    blocks = []
    for n in range(config["n_layers"]):
        p = f"transformer.layer.{n}."
        blocks.append({"q_lin": linear(p + "attention.q_lin"), "k_lin": linear(p + "attention.k_lin"),
                       "v_lin": linear(p + "attention.v_lin"), "out_lin": linear(p + "attention.out_lin"),
                       "sa_layer_norm": layer_norm(p + "sa_layer_norm"), "lin1": linear(p + "ffn.lin1"),
                       "lin2": linear(p + "ffn.lin2"), "output_layer_norm": layer_norm(p + "output_layer_norm")})

    def attention(b, x, mask):
        bs, q_length, _ = x.shape
        k_length = x.shape[1]

        def shape(v):
            return v.view(bs, -1, n_heads, dim_per_head).transpose(1, 2)

        def unshape(v):
            return v.transpose(1, 2).contiguous().view(bs, -1, n_heads * dim_per_head)

        q = shape(b["q_lin"](x))
        k = shape(b["k_lin"](x))
        v = shape(b["v_lin"](x))
        q = q / math.sqrt(dim_per_head)
        scores = torch.matmul(q, k.transpose(2, 3))
        mask = (mask == 0).view(bs, 1, 1, k_length).expand_as(scores)
        scores = scores.masked_fill(mask, torch.tensor(torch.finfo(scores.dtype).min))
        weights = nn.functional.softmax(scores, dim=-1)
        context = unshape(torch.matmul(weights, v))
        return b["out_lin"](context)

    def encode(ids, mask):
        position_ids = torch.arange(ids.shape[1], dtype=torch.long).unsqueeze(0).expand_as(ids)
        x = embedding_norm(word(ids) + position(position_ids))
        for b in blocks:
            sa_output = b["sa_layer_norm"](attention(b, x, mask) + x)
            ffn_output = b["lin2"](activation(b["lin1"](sa_output)))
            x = b["output_layer_norm"](ffn_output + sa_output)
        return x

    with torch.no_grad():
        if not batched:
            return [encode(torch.tensor([ids]), torch.ones(1, len(ids)))[0].numpy() for ids in sequences]
        lmax = max(len(ids) for ids in sequences)
        ids = torch.tensor([list(s) + [0] * (lmax - len(s)) for s in sequences])
        mask = torch.tensor([[1] * len(s) + [0] * (lmax - len(s)) for s in sequences])
        out = encode(ids, mask)
        return [out[i, :len(s)].numpy() for i, s in enumerate(sequences)]


def st_pool(hidden_states: Sequence[np.ndarray], mode: str) -> np.ndarray:
    """sentence-transformers' Pooling.forward on a padded batch with an attention mask (float64)."""
    import torch

    lmax = max(len(h) for h in hidden_states)
    H = hidden_states[0].shape[1]
    token_embeddings = torch.zeros(len(hidden_states), lmax, H, dtype=torch.float64)
    attention_mask = torch.zeros(len(hidden_states), lmax, dtype=torch.long)
    for i, h in enumerate(hidden_states):
        token_embeddings[i, :len(h)] = torch.as_tensor(h)
        attention_mask[i, :len(h)] = 1
    if mode == "cls":
        return token_embeddings[:, 0].numpy()
    input_mask_expanded = attention_mask.unsqueeze(-1).expand(token_embeddings.size()).to(token_embeddings.dtype)
    if mode == "max":
        token_embeddings = token_embeddings.clone()
        token_embeddings[input_mask_expanded == 0] = -1e9
        return torch.max(token_embeddings, 1)[0].numpy()
    sum_embeddings = torch.sum(token_embeddings * input_mask_expanded, 1)
    sum_mask = torch.clamp(input_mask_expanded.sum(1), min=1e-9)
    if mode == "mean":
        return (sum_embeddings / sum_mask).numpy()
    return (sum_embeddings / torch.sqrt(sum_mask)).numpy()


def st_normalize(x: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F
    return F.normalize(torch.as_tensor(x, dtype=torch.float64), p=2, dim=-1).numpy()


def worst(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def xref_roberta(suite: Suite, pad: int) -> None:
    def body(case: Case, folder: str) -> None:
        config, weights = mc.make_checkpoint(
            folder, family="roberta", prefix="roberta.", pad_token_id=pad, hidden_size=24,
            num_attention_heads=3, intermediate_size=40, num_hidden_layers=2, vocab_size=60,
            max_position_embeddings=20, seed=20 + pad)
        longest = 20 - pad - 1
        case.check(mc.max_sequence_length(config) == longest,
                   f"max_sequence_length {mc.max_sequence_length(config)}, expected {longest}")
        rng = np.random.default_rng(pad)
        sequences = [s["input_ids"] for s in make_sequences(rng, config, (1, 7, longest, 3))]
        reference = mc.reference_forward(weights, config, sequences)
        w = read_unprefixed(folder, "roberta.")
        for batched in (False, True):
            error = worst(reference, roberta_modules_forward(w, config, sequences, batched))
            case.metric("padded_batch" if batched else "unpadded", error)
            case.check(error <= MODULE_TOLERANCE, f"reference vs HF position ids + torch modules "
                                                  f"({'padded' if batched else 'unpadded'}): {error:.3e}")
        try:
            mc.reference_forward(weights, config, [[2] * (longest + 1)])
            case.check(False, f"reference_forward accepted a sequence of {longest + 1} tokens")
        except ValueError:
            pass
    suite.run_case(f"xref_roberta_pad{pad}", body)


def xref_distilbert(suite: Suite, activation: str, sinusoidal: bool) -> None:
    def body(case: Case, folder: str) -> None:
        config, weights = mc.make_checkpoint(
            folder, family="distilbert", prefix="distilbert.", hidden_size=24, num_attention_heads=4,
            intermediate_size=48, num_hidden_layers=2, hidden_act=activation, vocab_size=60,
            max_position_embeddings=16, sinusoidal_pos_embds=sinusoidal, seed=30 + sinusoidal)
        w = read_unprefixed(folder, "distilbert.")
        if sinusoidal:
            error = float(np.max(np.abs(w["embeddings.position_embeddings.weight"] - hf_sinusoids(16, 24))))
            case.metric("table_vs_create_sinusoidal_embeddings", error)
            case.check(error <= SINUSOID_TOLERANCE, f"stored table differs from the sinusoids by {error:.3e}")
        rng = np.random.default_rng(7)
        sequences = [rng.integers(0, 60, n).tolist() for n in (1, 9, 16, 4)]
        reference = mc.reference_forward(weights, config, sequences)
        for batched in (False, True):
            error = worst(reference, distilbert_hf_forward(w, config, sequences, batched))
            case.metric("padded_batch" if batched else "unpadded", error)
            case.check(error <= MODULE_TOLERANCE, f"reference vs HF DistilBERT forward "
                                                  f"({'padded' if batched else 'unpadded'}): {error:.3e}")
    suite.run_case(f"xref_distilbert_{activation}_{'sinusoidal' if sinusoidal else 'learned'}", body)


def xref_pooling(suite: Suite) -> None:
    def body(case: Case, folder: str) -> None:
        config, weights = mc.make_checkpoint(folder, hidden_size=16, num_attention_heads=2,
                                             intermediate_size=32, num_hidden_layers=1, vocab_size=40,
                                             max_position_embeddings=12, seed=40)
        rng = np.random.default_rng(40)
        sequences = [rng.integers(0, 40, n).tolist() for n in (1, 12, 5, 2)]
        hidden = mc.reference_forward(weights, config, sequences)
        for mode in mc.POOLING_MODES:
            pooled = mc.reference_pool(hidden, mode)
            error = float(np.max(np.abs(pooled - st_pool(hidden, mode))))
            normalized = float(np.max(np.abs(mc.reference_normalize(pooled) - st_normalize(st_pool(hidden, mode)))))
            embed = float(np.max(np.abs(mc.reference_embed(weights, config, sequences, mode, True)
                                        - st_normalize(st_pool(hidden, mode)))))
            case.metric(mode, max(error, normalized, embed))
            case.check(max(error, normalized, embed) <= MODULE_TOLERANCE,
                       f"{mode}: pool {error:.3e}, normalized {normalized:.3e}, reference_embed {embed:.3e}")
        per_token = worst(mc.reference_embed(weights, config, sequences, "none", True),
                          [st_normalize(h) for h in hidden])
        case.metric("per_token_normalize", per_token)
        case.check(per_token <= MODULE_TOLERANCE, f"per-token normalize differs by {per_token:.3e}")
        tiny = mc.reference_normalize(np.zeros((1, 4)))
        case.check(bool(np.all(tiny == 0)), "normalizing a zero vector must give zeros (norm clamped at 1e-12)")
    suite.run_case("xref_pooling_normalize", body)


# ---------------------------------------------------------------------------------------------------
# 2. the binary


def check_runs(suite: Suite, case: Case, folder: str, model_dir: str, token_path: str,
               expected: np.ndarray | List[np.ndarray], extra: Sequence[str] = (),
               backends: Sequence[str] = ("reference", "optimized"), stdout: bool = True,
               tag: str = "") -> Dict[str, np.ndarray]:
    """Runs each backend into .npy, compares with `expected` (pooled [N, H] array or list of [L, H]),
    then the optimized run's stdout JSON Lines with its npy."""
    pooled = isinstance(expected, np.ndarray)
    lengths = [len(e) for e in expected] if not pooled else None
    outputs = {}
    for backend in backends:
        label = f"{tag}{backend}"
        output = suite.run_npy(case, folder, label, ["--model", model_dir, "--input", token_path,
                                                     "--backend", backend] + list(extra))
        if output is None:
            case.metric(label, None)
            continue
        compare = compare_pooled if pooled else compare_hidden
        case.metric(label, compare(case, label, output, expected, TOLERANCE[backend]))
        outputs[backend] = output
    if stdout and "optimized" in outputs:
        result = suite.run_ok(case, ["--model", model_dir, "--input", token_path, "--backend", "optimized"]
                              + list(extra))
        if result is not None:
            count = len(expected)
            case.metric(f"{tag}stdout_json", parse_json_lines(
                case, f"{tag}stdout", result.stdout, outputs["optimized"], pooled,
                lengths if lengths else [0] * count))
    return outputs


def model_case(suite: Suite, name: str, lengths: Sequence[int], checkpoint: Dict[str, Any]) -> None:
    """A plain model folder of any family: hidden states [N, Lmax, H] against reference_forward."""
    def body(case: Case, folder: str) -> None:
        model_dir = os.path.join(folder, "model")
        config, weights = mc.make_checkpoint(model_dir, **checkpoint)
        bert = mc.bert_config(config)
        rng = np.random.default_rng(checkpoint.get("seed", 0) + 1000)
        sequences = with_types_on_json_lines_only(make_sequences(rng, config, lengths, with_types=True))
        token_path = os.path.join(folder, "tokens.txt")
        write_tokens(token_path, sequences)
        expected = mc.reference_forward(weights, config, sequences)
        case.note("model", f"{config['model_type']}/H{bert['hidden_size']}/heads{bert['num_attention_heads']}/"
                           f"{bert['hidden_act']}/{checkpoint.get('dtype', 'F32')}/prefix="
                           f"{checkpoint.get('prefix', '') or 'none'}/Lmax={max(lengths)}"
                           f"(max {mc.max_sequence_length(config)})")
        check_runs(suite, case, folder, model_dir, token_path, expected)
    suite.run_case(name, body)


def too_long_case(suite: Suite, name: str, checkpoint: Dict[str, Any]) -> None:
    """One line longer than the model's maximum: exit 1 with a message naming the file and line."""
    def body(case: Case, folder: str) -> None:
        model_dir = os.path.join(folder, "model")
        config, _ = mc.make_checkpoint(model_dir, **checkpoint)
        longest = mc.max_sequence_length(config)
        rng = np.random.default_rng(5)
        ok, too_long = make_sequences(rng, config, (5, longest + 1))
        token_path = os.path.join(folder, "tokens.txt")
        with open(token_path, "w") as f:  # the too-long sequence is on line 2
            f.write(" ".join(map(str, ok["input_ids"])) + "\n" + " ".join(map(str, too_long["input_ids"])) + "\n")
        for backend in ("reference", "optimized"):
            suite.expect_error(case, ["--model", model_dir, "--input", token_path, "--backend", backend],
                               ["tokens.txt:2", str(longest)])
        # The longest allowed sequence alone passes.
        with open(token_path, "w") as f:
            f.write(" ".join(map(str, too_long["input_ids"][:longest])) + "\n")
        output = suite.run_npy(case, folder, "at_max", ["--model", model_dir, "--input", token_path])
        if output is not None:
            case.check(output.shape == (1, longest, mc.bert_config(config)["hidden_size"]),
                       f"a sequence of exactly {longest} tokens gave shape {output.shape}")
    suite.run_case(name, body)


def st_case(suite: Suite, name: str, pooling: str, normalize: bool, subdir: str, lengths: Sequence[int],
            checkpoint: Dict[str, Any]) -> None:
    """A sentence-transformers folder: pooled (and normalized) [N, H] by default."""
    def body(case: Case, folder: str) -> None:
        model_dir = os.path.join(folder, "st")
        config, weights = mc.make_sentence_transformers(model_dir, pooling=pooling, normalize=normalize,
                                                        transformer_subdir=subdir, **checkpoint)
        rng = np.random.default_rng(checkpoint.get("seed", 0) + 2000)
        sequences = with_types_on_json_lines_only(make_sequences(rng, config, lengths, with_types=True))
        token_path = os.path.join(folder, "tokens.txt")
        write_tokens(token_path, sequences)
        expected = mc.reference_embed(weights, config, sequences, pooling, normalize)
        case.note("model", f"{config['model_type']}/{checkpoint.get('dtype', 'F32')}/"
                           f"transformer={'./' + subdir if subdir else 'root'}/{pooling}"
                           f"{'+Normalize' if normalize else ''}")
        outputs = check_runs(suite, case, folder, model_dir, token_path, expected)
        if normalize and "optimized" in outputs:
            norms = np.linalg.norm(outputs["optimized"].astype(np.float64), axis=1)
            case.check(bool(np.all(np.abs(norms - 1) <= 1e-5)), f"norms of normalized rows: {norms}")
    suite.run_case(name, body)


BERT_SMALL = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_hidden_layers=2,
                  vocab_size=200, max_position_embeddings=32, type_vocab_size=2)


def cli_override_cases(suite: Suite) -> None:
    lengths = (6, 1, 32, 11, 3)

    def bert_folder(folder: str):
        model_dir = os.path.join(folder, "bert")
        config, weights = mc.make_checkpoint(model_dir, prefix="bert.", seed=60, **BERT_SMALL)
        rng = np.random.default_rng(60)
        sequences = with_types_on_json_lines_only(make_sequences(rng, config, lengths, with_types=True))
        token_path = os.path.join(folder, "tokens.txt")
        write_tokens(token_path, sequences)
        return model_dir, token_path, config, weights, sequences

    def pooling_on_bert(case: Case, folder: str) -> None:
        model_dir, token_path, config, weights, sequences = bert_folder(folder)
        hidden = mc.reference_forward(weights, config, sequences)
        for mode in mc.POOLING_MODES:
            check_runs(suite, case, folder, model_dir, token_path, mc.reference_pool(hidden, mode),
                       extra=["--pooling", mode], stdout=(mode == "mean"), tag=f"{mode}_")
        check_runs(suite, case, folder, model_dir, token_path, hidden, extra=["--pooling", "none"],
                   backends=("optimized",), stdout=False, tag="none_")

    def normalize_on_bert(case: Case, folder: str) -> None:
        model_dir, token_path, config, weights, sequences = bert_folder(folder)
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "none", True), extra=["--normalize"],
                   tag="per_token_")
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "max", True),
                   extra=["--pooling", "max", "--normalize"], tag="max_")

    def st_folder(folder: str, normalize: bool):
        model_dir = os.path.join(folder, "st")
        config, weights = mc.make_sentence_transformers(model_dir, pooling="mean", normalize=normalize,
                                                        transformer_subdir="0_Transformer", family="roberta",
                                                        seed=61, **dict(BERT_SMALL, type_vocab_size=1,
                                                                        max_position_embeddings=40))
        rng = np.random.default_rng(61)
        sequences = make_sequences(rng, config, lengths)
        token_path = os.path.join(folder, "tokens.txt")
        write_tokens(token_path, sequences)
        return model_dir, token_path, config, weights, sequences

    def pooling_none_on_st(case: Case, folder: str) -> None:
        model_dir, token_path, config, weights, sequences = st_folder(folder, normalize=False)
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "none", False), extra=["--pooling", "none"],
                   tag="none_")
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "none", True),
                   extra=["--pooling", "none", "--normalize"], stdout=False, tag="none_normalize_")
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "cls", False), extra=["--pooling", "cls"],
                   stdout=False, tag="cls_instead_of_mean_")
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "mean", True), extra=["--normalize"],
                   stdout=False, tag="mean_normalize_")

    def pooling_none_on_st_with_normalize(case: Case, folder: str) -> None:
        # sentence-transformers' Normalize module normalizes the sentence embedding, never token states:
        # unpooled output is left as it is unless --normalize asks, and --no-normalize turns it off.
        model_dir, token_path, config, weights, sequences = st_folder(folder, normalize=True)
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "none", False), extra=["--pooling", "none"],
                   backends=("optimized",), stdout=False, tag="none_")
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "none", True),
                   extra=["--pooling", "none", "--normalize"], backends=("optimized",), stdout=False,
                   tag="none_normalize_")
        check_runs(suite, case, folder, model_dir, token_path,
                   mc.reference_embed(weights, config, sequences, "mean", False), extra=["--no-normalize"],
                   backends=("optimized",), stdout=False, tag="mean_no_normalize_")

    suite.run_case("cli_pooling_on_bert_folder", pooling_on_bert)
    suite.run_case("cli_normalize_on_bert_folder", normalize_on_bert)
    suite.run_case("cli_overrides_on_st_folder", pooling_none_on_st)
    suite.run_case("cli_pooling_none_on_st_with_normalize", pooling_none_on_st_with_normalize)


def jsonl_cases(suite: Suite) -> None:
    def body(case: Case, folder: str) -> None:
        lengths = (4, 1, 18, 9)
        checks = []
        st_dir = os.path.join(folder, "st")
        config, _ = mc.make_sentence_transformers(st_dir, pooling="mean", normalize=True, seed=70,
                                                  family="distilbert", **dict(BERT_SMALL, type_vocab_size=None))
        checks.append(("pooled", st_dir, config, True))
        rob_dir = os.path.join(folder, "roberta")
        config, _ = mc.make_checkpoint(rob_dir, family="roberta", seed=71, **dict(BERT_SMALL, type_vocab_size=1))
        checks.append(("hidden", rob_dir, config, False))
        for label, model_dir, config, pooled in checks:
            rng = np.random.default_rng(72)
            token_path = os.path.join(folder, f"{label}_tokens.txt")
            write_tokens(token_path, make_sequences(rng, config, lengths))
            npy = suite.run_npy(case, folder, f"{label}_npy", ["--model", model_dir, "--input", token_path])
            jsonl = os.path.join(folder, f"{label}.jsonl")
            result = suite.run_ok(case, ["--model", model_dir, "--input", token_path, "--output", jsonl])
            stdout = suite.run_ok(case, ["--model", model_dir, "--input", token_path])
            if npy is None or result is None or stdout is None:
                continue
            if not case.check(os.path.isfile(jsonl), f"{label}: no {jsonl}"):
                continue
            with open(jsonl) as f:
                text = f.read()
            case.check(result.stdout == "", f"{label}: --output X.jsonl also printed to stdout")
            case.check(text == stdout.stdout, f"{label}: the .jsonl file differs from the stdout JSON Lines")
            case.check(text.endswith("\n"), f"{label}: the .jsonl file does not end with a newline")
            case.metric(f"{label}_jsonl_vs_npy", parse_json_lines(case, label, text, npy, pooled, lengths))
            leftovers = sorted(f for f in os.listdir(folder) if f.startswith(os.path.basename(jsonl)) and
                               f != os.path.basename(jsonl))
            case.check(not leftovers, f"{label}: temporary files left next to the .jsonl: {leftovers}")
    suite.run_case("jsonl_output_equals_npy", body)


def error_cases(suite: Suite) -> None:
    def unknown_model_type(case: Case, folder: str) -> None:
        model_dir = os.path.join(folder, "model")
        config, _ = mc.make_checkpoint(model_dir, seed=80, **BERT_SMALL)
        config["model_type"] = "gpt2"
        with open(os.path.join(model_dir, "config.json"), "w") as f:
            json.dump(config, f)
        token_path = os.path.join(folder, "tokens.txt")
        with open(token_path, "w") as f:
            f.write("1 2 3\n")
        message = suite.expect_error(case, ["--model", model_dir, "--input", token_path],
                                     ["config.json", "gpt2"] + list(SUPPORTED_TYPES))
        case.check("\n" not in message, "the message is one line")

    def two_pooling_modes(case: Case, folder: str) -> None:
        model_dir = os.path.join(folder, "st")
        mc.make_sentence_transformers(model_dir, pooling=("mean", "max"), seed=81, **BERT_SMALL)
        token_path = os.path.join(folder, "tokens.txt")
        with open(token_path, "w") as f:
            f.write("1 2 3\n")
        suite.expect_error(case, ["--model", model_dir, "--input", token_path],
                           [os.path.join("1_Pooling", "config.json")])

    def pooling_config_edit(edit, expected):
        def check(case: Case, folder: str) -> None:
            model_dir = os.path.join(folder, "st")
            mc.make_sentence_transformers(model_dir, pooling="mean", seed=82, **BERT_SMALL)
            path = os.path.join(model_dir, "1_Pooling", "config.json")
            with open(path) as f:
                pooling = json.load(f)
            pooling.update(edit)
            with open(path, "w") as f:
                json.dump(pooling, f)
            token_path = os.path.join(folder, "tokens.txt")
            with open(token_path, "w") as f:
                f.write("1 2 3\n")
            suite.expect_error(case, ["--model", model_dir, "--input", token_path],
                               [os.path.join("1_Pooling", "config.json")] + expected)
        return check

    suite.run_case("error_unknown_model_type", unknown_model_type)
    suite.run_case("error_st_two_pooling_modes", two_pooling_modes)
    # sentence-transformers would concatenate a second pooling: refusing beats silently dropping it.
    suite.run_case("error_st_unsupported_pooling_mode",
                   pooling_config_edit({"pooling_mode_weightedmean_tokens": True},
                                       ["pooling_mode_weightedmean_tokens"]))
    suite.run_case("error_st_pooling_dimension",
                   pooling_config_edit({"word_embedding_dimension": 99}, ["word_embedding_dimension"]))


def binary_cases(suite: Suite) -> None:
    # RoBERTa: positions from pad_token_id + 1; the longest sequence is max_position_embeddings - 2.
    model_case(suite, "roberta_pad1", (1, 32, 7, 19, 2, 13),
               dict(family="roberta", hidden_size=48, num_attention_heads=4, intermediate_size=96,
                    num_hidden_layers=2, vocab_size=300, max_position_embeddings=34, pad_token_id=1, seed=50))
    model_case(suite, "roberta_prefix", (18, 5, 1, 11),
               dict(family="roberta", prefix="roberta.", hidden_size=32, num_attention_heads=2,
                    intermediate_size=80, num_hidden_layers=3, hidden_act="gelu_new", vocab_size=250,
                    max_position_embeddings=20, seed=51))
    model_case(suite, "xlm_roberta_pad3_bf16", (20, 3, 9, 1),
               dict(family="xlm-roberta", prefix="roberta.", pad_token_id=3, hidden_size=40,
                    num_attention_heads=5, intermediate_size=64, num_hidden_layers=2, vocab_size=150,
                    max_position_embeddings=24, dtype="BF16", seed=52))
    too_long_case(suite, "roberta_too_long",
                  dict(family="roberta", hidden_size=16, num_attention_heads=2, intermediate_size=32,
                       num_hidden_layers=1, vocab_size=50, max_position_embeddings=34, seed=53))
    # DistilBERT: its own names and config keys; max length = max_position_embeddings.
    model_case(suite, "distilbert_gelu_prefix_sinusoidal", (40, 1, 13, 6, 27),
               dict(family="distilbert", prefix="distilbert.", hidden_size=48, num_attention_heads=3,
                    intermediate_size=128, num_hidden_layers=2, hidden_act="gelu", vocab_size=300,
                    max_position_embeddings=40, sinusoidal_pos_embds=True, seed=54))
    model_case(suite, "distilbert_relu_learned", (3, 24, 1, 10),
               dict(family="distilbert", hidden_size=32, num_attention_heads=4, intermediate_size=64,
                    num_hidden_layers=3, hidden_act="relu", vocab_size=200, max_position_embeddings=24,
                    sinusoidal_pos_embds=False, seed=55))
    model_case(suite, "distilbert_relu_prefix_sinusoidal_f16", (16, 2, 9),
               dict(family="distilbert", prefix="distilbert.", hidden_size=32, num_attention_heads=2,
                    intermediate_size=64, num_hidden_layers=2, hidden_act="relu", vocab_size=100,
                    max_position_embeddings=16, sinusoidal_pos_embds=True, dtype="F16", seed=56))
    too_long_case(suite, "distilbert_too_long",
                  dict(family="distilbert", hidden_size=16, num_attention_heads=2, intermediate_size=32,
                       num_hidden_layers=1, vocab_size=50, max_position_embeddings=12, seed=57))

    # sentence-transformers folders: every pooling mode with and without Normalize.
    lengths = (5, 1, 30, 12, 2, 17)
    bert = dict(BERT_SMALL)
    roberta = dict(BERT_SMALL, family="roberta", type_vocab_size=1, max_position_embeddings=34)
    distil = dict(BERT_SMALL, family="distilbert", type_vocab_size=None)
    st_case(suite, "st_cls", "cls", False, "", lengths, dict(bert, prefix="bert.", seed=90))
    st_case(suite, "st_cls_normalize", "cls", True, "0_Transformer", lengths, dict(roberta, seed=91))
    st_case(suite, "st_mean", "mean", False, "", lengths, dict(distil, seed=92))
    st_case(suite, "st_mean_normalize_f16", "mean", True, "", lengths, dict(bert, dtype="F16", seed=93))
    st_case(suite, "st_max", "max", False, "0_Transformer", lengths, dict(bert, seed=94))
    st_case(suite, "st_max_normalize", "max", True, "", lengths,
            dict(distil, prefix="distilbert.", hidden_act="relu", seed=95))
    st_case(suite, "st_mean_sqrt_len", "mean_sqrt_len", False, "", lengths,
            dict(roberta, prefix="roberta.", seed=96))
    st_case(suite, "st_mean_sqrt_len_normalize", "mean_sqrt_len", True, "0_Transformer", lengths,
            dict(bert, seed=97))

    cli_override_cases(suite)
    jsonl_cases(suite)
    error_cases(suite)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", help="path to the vecformer executable")
    parser.add_argument("--reference-only", action="store_true",
                        help="only check the float64 reference against the independent formulations")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not args.reference_only:
        if not args.binary:
            parser.error("--binary is required (or --reference-only)")
        args.binary = executable_or_none("test_families", args.binary)
        if args.binary is None:
            return 1

    with scratch_folder("vecformer_families_", args.keep) as workdir:
        suite = Suite(args.binary, workdir)
        xref_roberta(suite, 1)
        xref_roberta(suite, 3)
        for activation, sinusoidal in (("gelu", True), ("relu", False), ("gelu", False)):
            xref_distilbert(suite, activation, sinusoidal)
        xref_pooling(suite)
        if not args.reference_only:
            binary_cases(suite)

    print(f"\nsummary (max abs errors against the float64 reference; tolerances: reference "
          f"{REFERENCE_TOLERANCE:g}, optimized {OPTIMIZED_TOLERANCE:g}, JSON {JSON_TOLERANCE:g} relative, "
          f"cross-checks {MODULE_TOLERANCE:g}):")
    for case in suite.cases:
        status = "PASS" if not case.problems else "FAIL"
        print(f"  {status} {case.name}: " + " ".join(f"{k}={v}" for k, v in case.metrics.items()))
    problems = [f"{case.name}: {problem}" for case in suite.cases for problem in case.problems]
    return report("test_families", problems, f"{len(suite.cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
