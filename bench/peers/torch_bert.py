#!/usr/bin/python3
"""A float32 PyTorch BERT encoder (embeddings + layers) for the peer benchmarks, loading a vecformer /
Hugging Face model folder (config.json + model.safetensors), and a worker that times it.

The module mirrors Hugging Face's BertModel (transformers 4.x) op for op and name for name -- the same
padded-batch computation with an additive attention mask, (1 - mask) * -10000 -- so the ONNX graph that
`export` writes is the one ONNX Runtime's BERT fusions were written against. Only what the benchmark
models use is supported: post-norm BERT, learned absolute positions, gelu / gelu_new / relu.

    /usr/bin/python3 bench/peers/torch_bert.py export MODEL_DIR OUT.onnx   # torch.onnx.export, opset 12
    /usr/bin/python3 bench/peers/torch_bert.py export --head MODEL_DIR OUT.onnx  # with its task head
    /usr/bin/python3 bench/peers/torch_bert.py matmul --threads 2          # one fp32 GEMM, GFLOP/s
    /usr/bin/python3 bench/peers/torch_bert.py serve                       # JSON Lines on stdin/stdout

`serve` answers one JSON object per request line (see `Worker`); bench/peers/peers.py drives it. Which BLAS
PyTorch's float32 GEMMs use is the process's libblas.so.3 (Debian's python3-torch is built against the
generic BLAS interface); peers.py points LD_LIBRARY_PATH at OpenBLAS.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Any, Dict, List

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import make_checkpoint  # noqa: E402  (safetensors reader and family naming helpers)


def _activation(name: str):
    if name == "gelu":
        return lambda t: F.gelu(t)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda t: F.gelu(t, approximate="tanh")
    if name == "relu":
        return F.relu
    raise ValueError(f"hidden_act {name!r} is not supported by the peer benchmark")


class Linear(nn.Linear):
    """nn.Linear; for export, written as MatMul then Add(product, bias), the operand order ONNX Runtime's
    in-session AttentionFusion / SkipLayerNormFusion match (torch 1.13 exports F.linear on 3-D input as
    Add(bias, product), which they skip)."""

    export_form = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if Linear.export_form:
            return torch.matmul(x, self.weight.t()) + self.bias
        return F.linear(x, self.weight, self.bias)


class BertEmbeddings(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], H)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], H)
        self.has_types = c.get("type_vocab_size", 2) > 0
        if self.has_types:
            self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], H)
        self.LayerNorm = nn.LayerNorm(H, eps=float(c["layer_norm_eps"]))
        P = c["max_position_embeddings"]
        self.register_buffer("position_ids", torch.arange(P).unsqueeze(0), persistent=False)
        self.register_buffer("token_type_ids", torch.zeros(1, P, dtype=torch.long), persistent=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        seq = input_ids.size(1)
        x = self.word_embeddings(input_ids)
        if self.has_types:
            x = x + self.token_type_embeddings(self.token_type_ids[:, :seq])
        x = x + self.position_embeddings(self.position_ids[:, :seq])
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.head_dim = H // self.heads
        self.all_head_size = H
        self.query = Linear(H, H)
        self.key = Linear(H, H)
        self.value = Linear(H, H)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(x.size()[:-1] + (self.heads, self.head_dim))
        return x.permute(0, 2, 1, 3)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + mask, dim=-1)
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (self.all_head_size,))


class BertSelfOutput(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.dense = Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=float(c["layer_norm_eps"]))

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(h) + x)


class BertAttention(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.dense = Linear(c["hidden_size"], c["intermediate_size"])
        self.act = _activation(c["hidden_act"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.dense = Linear(c["intermediate_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=float(c["layer_norm_eps"]))

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(h) + x)


class BertLayer(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)


class BertEncoderStack(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])


class BertModel(nn.Module):
    """input_ids [B, S] int64, attention_mask [B, S] int64 (1 real, 0 padding) -> [B, S, H] float32."""

    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoderStack(c)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(1).unsqueeze(2).to(torch.float32)
        mask = (1.0 - mask) * -10000.0
        x = self.embeddings(input_ids)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


HEAD_TENSORS = ("pooler.", "classifier.", "cls.")  # BertFor... task heads, beside the encoder


class BertForSequenceClassification(nn.Module):
    """Hugging Face's BertForSequenceClassification: classifier(tanh(pooler(h[:, 0]))) -> [B, labels]."""

    def __init__(self, c: Dict[str, Any], num_labels: int):
        super().__init__()
        self.bert = BertModel(c)
        self.pooler = Linear(c["hidden_size"], c["hidden_size"])
        self.classifier = Linear(c["hidden_size"], num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids, attention_mask)
        return self.classifier(torch.tanh(self.pooler(h[:, 0])))


class BertForMaskedLM(nn.Module):
    """Hugging Face's BertForMaskedLM: decoder(LN(act(dense(h)))) + bias at every position -> [B, S, vocab],
    as its exported graph computes it (all positions, all of the vocabulary)."""

    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H = c["hidden_size"]
        self.bert = BertModel(c)
        self.dense = Linear(H, H)
        self.act = _activation(c["hidden_act"])
        self.LayerNorm = nn.LayerNorm(H, eps=float(c["layer_norm_eps"]))
        self.decoder = Linear(H, c["vocab_size"])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.bert(input_ids, attention_mask)
        return self.decoder(self.LayerNorm(self.act(self.dense(h))))


def _as_tensor(v: Any) -> torch.Tensor:
    return torch.from_numpy(np.asarray(v, dtype=np.float32))


def load_task_model(model_dir: str) -> nn.Module:
    """A BertForSequenceClassification or BertForMaskedLM folder as its float32 module in eval mode."""
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    architecture = (config.get("architectures") or [""])[0]
    raw, _, _ = make_checkpoint.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    named = make_checkpoint.strip_prefix(raw, "bert.")
    encoder = load_model(model_dir)
    c = make_checkpoint.bert_config(config)
    if architecture == "BertForSequenceClassification":
        model: nn.Module = BertForSequenceClassification(c, named["classifier.weight"].shape[0])
        state = {"pooler.weight": named["pooler.dense.weight"], "pooler.bias": named["pooler.dense.bias"],
                 "classifier.weight": named["classifier.weight"], "classifier.bias": named["classifier.bias"]}
    elif architecture == "BertForMaskedLM":
        model = BertForMaskedLM(c)
        p = "cls.predictions."
        decoder = named.get(p + "decoder.weight", named["embeddings.word_embeddings.weight"])  # tied
        state = {"dense.weight": named[p + "transform.dense.weight"], "dense.bias": named[p + "transform.dense.bias"],
                 "LayerNorm.weight": named[p + "transform.LayerNorm.weight"],
                 "LayerNorm.bias": named[p + "transform.LayerNorm.bias"],
                 "decoder.weight": decoder, "decoder.bias": named[p + "bias"]}
    else:
        raise ValueError(f"{model_dir}: architecture {architecture!r} is not one the peer benchmark exports")
    model.bert = encoder
    missing, unexpected = model.load_state_dict({k: _as_tensor(v) for k, v in state.items()}, strict=False)
    missing = [k for k in missing if not k.startswith("bert.")]
    if missing or unexpected:
        raise ValueError(f"{model_dir}: missing head tensors {missing}, unexpected {unexpected}")
    return model.eval()


def load_model(model_dir: str) -> BertModel:
    """The folder's encoder weights (any stored dtype) as a float32 BertModel in eval mode; a task head's
    tensors are left out."""
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    c = make_checkpoint.bert_config(config)
    if c.get("norm_first") or c.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(f"{model_dir}: only post-norm BERT with absolute positions is supported here")
    if make_checkpoint.position_offset(config) != 0:
        raise ValueError(f"{model_dir}: RoBERTa position offsets are not supported here")
    raw, _, _ = make_checkpoint.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    weights = make_checkpoint.bert_weights(raw, config)
    model = BertModel(c)
    state = {k: _as_tensor(v) for k, v in weights.items() if not k.startswith(HEAD_TENSORS)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{model_dir}: missing tensors {missing}, unexpected tensors {unexpected}")
    return model.eval()


# Opset 12: ONNX Runtime's in-session AttentionFusion matches Unsqueeze and Softmax only up to version 11
# (from opset 13 Unsqueeze takes its axes as an input), so with opset 13+ the CPU session runs attention
# as separate MatMul / Softmax / Transpose kernels instead of its fused Attention kernel.
ONNX_OPSET = 12


def export_onnx(model_dir: str, out_path: str, opset: int = ONNX_OPSET, head: bool = False) -> None:
    """ONNX of the folder's encoder (output last_hidden_state [B, S, H]) or, with `head`, of its task model
    (output logits: [B, labels] or [B, S, vocab])."""
    model = load_task_model(model_dir) if head else load_model(model_dir)
    output = "logits" if head else "last_hidden_state"
    output_axes = {0: "batch"} if isinstance(model, BertForSequenceClassification) else {0: "batch", 1: "sequence"}
    ids = torch.randint(0, 100, (2, 16), dtype=torch.long)
    mask = torch.ones(2, 16, dtype=torch.long)
    tmp = out_path + ".tmp"
    Linear.export_form = True
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), tmp, opset_version=opset, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask"],
                          output_names=[output],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        output: output_axes})
    Linear.export_form = False
    os.replace(tmp, out_path)


def _summary(times_ms: List[float], tokens: int) -> Dict[str, Any]:
    times_ms = sorted(times_ms)
    median = float(np.median(times_ms))
    return {"median_ms": median, "min_ms": times_ms[0], "tokens": tokens,
            "tokens_per_s": tokens / (median / 1000.0), "iters": len(times_ms)}


def time_calls(fn, iters: int, warmup: int) -> List[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def matmul_peak(m: int, k: int, n: int, threads: int, iters: int) -> Dict[str, Any]:
    """fp32 [m,k]x[k,n]: torch.matmul (the process's BLAS) and torch's oneDNN linear (mkldnn_linear)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    flop = 2.0 * m * k * n
    out: Dict[str, Any] = {}
    with torch.inference_mode():
        t = time_calls(lambda: torch.matmul(a, b), iters, max(3, iters // 10))
        out["blas_median_ms"] = float(np.median(t))
        out["blas_gflops"] = flop / (out["blas_median_ms"] / 1000.0) / 1e9
        try:
            from torch.utils import mkldnn as mkldnn_utils
            linear = nn.Linear(k, n, bias=False)
            dnnl = mkldnn_utils.to_mkldnn(nn.Sequential(linear))
            t = time_calls(lambda: dnnl(a), iters, max(3, iters // 10))
            out["onednn_median_ms"] = float(np.median(t))
            out["onednn_gflops"] = flop / (out["onednn_median_ms"] / 1000.0) / 1e9
        except (RuntimeError, AttributeError) as e:  # torch without mkldnn
            out["onednn_error"] = str(e)
    out.update({"m": m, "k": k, "n": n, "threads": threads, "iters": iters})
    return out


class Worker:
    """Requests (one JSON object per line) and their answers:

    {"op": "info"} -> versions and the BLAS library this process loaded
    {"op": "forward", "model": DIR, "input_ids": [[..]], "attention_mask": [[..]], "out": F.npy}
        -> writes the float32 [B, S, H] output to F.npy
    {"op": "bench", "model": DIR, "input_ids": [[..]], "attention_mask": [[..]], "threads": T,
     "iters": N} -> {"median_ms", "min_ms", "tokens" (real tokens), "tokens_per_s", "iters"}
    {"op": "matmul", "m", "k", "n", "threads", "iters"} -> matmul_peak(...)
    Errors answer {"error": "..."}.
    """

    def __init__(self) -> None:
        self.models: Dict[str, BertModel] = {}

    def model(self, model_dir: str) -> BertModel:
        if model_dir not in self.models:
            self.models[model_dir] = load_model(model_dir)
            # First calls allocate; keep them out of every timed measurement.
            with torch.inference_mode():
                ids = torch.zeros(1, 8, dtype=torch.long)
                for _ in range(2):
                    self.models[model_dir](ids, torch.ones_like(ids))
        return self.models[model_dir]

    def handle(self, r: Dict[str, Any]) -> Dict[str, Any]:
        op = r["op"]
        if op == "info":
            with open("/proc/self/maps") as f:
                libs = {line.split()[-1] for line in f if ".so" in line}
            blas = next(iter(sorted(lib for lib in libs if "libblas" in lib or "openblas" in lib)), "")
            return {"torch": torch.__version__, "numpy": np.__version__, "blas": blas,
                    "parallel": torch.__config__.parallel_info().splitlines()[-1]}
        if op == "matmul":
            return matmul_peak(r["m"], r["k"], r["n"], r["threads"], r["iters"])
        model = self.model(r["model"])
        ids = torch.tensor(r["input_ids"], dtype=torch.long)
        mask = torch.tensor(r["attention_mask"], dtype=torch.long)
        if op == "forward":
            torch.set_num_threads(int(r.get("threads", 2)))
            with torch.inference_mode():
                np.save(r["out"], model(ids, mask).numpy())
            return {"ok": True}
        if op == "bench":
            torch.set_num_threads(r["threads"])
            iters = int(r["iters"])
            with torch.inference_mode():
                times = time_calls(lambda: model(ids, mask), iters, max(2, iters // 10))
            return _summary(times, int(mask.sum()))
        raise ValueError(f"unknown op {op!r}")

    def serve(self) -> None:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                answer = self.handle(json.loads(line))
            except Exception as e:  # report and keep serving; the driver decides
                answer = {"error": f"{type(e).__name__}: {e}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write MODEL_DIR as ONNX (dynamic batch and sequence)")
    e.add_argument("model_dir")
    e.add_argument("out")
    e.add_argument("--opset", type=int, default=ONNX_OPSET)
    e.add_argument("--head", action="store_true", help="the folder's task model (BertForSequenceClassification "
                   "or BertForMaskedLM) with its head, output logits")
    m = sub.add_parser("matmul", help="fp32 GEMM GFLOP/s")
    m.add_argument("--m", type=int, default=128)
    m.add_argument("--k", type=int, default=768)
    m.add_argument("--n", type=int, default=3072)
    m.add_argument("--threads", type=int, default=2)
    m.add_argument("--iters", type=int, default=50)
    sub.add_parser("serve", help="answer JSON Lines requests on stdin")
    args = parser.parse_args()
    if args.cmd == "export":
        export_onnx(args.model_dir, args.out, args.opset, args.head)
    elif args.cmd == "matmul":
        print(json.dumps(matmul_peak(args.m, args.k, args.n, args.threads, args.iters)))
    else:
        Worker().serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
