#!/usr/bin/python3
"""Float32 PyTorch ModernBERT and NomicBERT encoders for the peer benchmarks: a model folder
(config.json + model.safetensors, as tools/make_checkpoint.py --family modernbert|nomic_bert writes it)
loaded into an nn.Module with the real tensor names, computing a padded batch the way Hugging Face's
eager attention does, and exported to ONNX for ONNX Runtime.

    /usr/bin/python3 bench/peers/modern_torch.py export MODEL_DIR OUT.onnx [--opset 17]
    /usr/bin/python3 bench/peers/modern_torch.py check MODEL_DIR     # float32 module vs float64 reference

forward(input_ids [B, S] int64, attention_mask [B, S] int64: 1 real, 0 padding) -> last_hidden_state
[B, S, H] float32. Sequences are right-padded: a real token's position is its index.

The computation is the one tools/modern_checkpoint.py's float64 reference (modern_reference_forward)
writes out from each model's source, in float32 and batched:
- rotary: the float32 cos / sin tables of modern_checkpoint.rotary_cos_sin (the source's own float32
  computation), built once for every position up to the model's maximum and sliced to S; NeoX
  rotate-half, or interleaved pairs for nomic's rotary_emb_interleaved; only the first
  head_dim * rotary_emb_fraction features of q and k rotate.
- masks: additive, (1 - attention_mask) * finfo(float32).min on the keys (as Hugging Face's
  get_extended_attention_mask); ModernBERT's local layers also fill finfo.min where |i - j| >
  local_attention // 2 (ModernBertModel._update_attention_mask's sliding-window mask). A padding query
  whose window holds only padding gets a uniform softmax, never NaN; its output is padding anyway.
- ModernBERT: embeddings.norm(tok_embeddings(ids)); pre-norm layers (layer 0 without attn_norm: identity),
  GeGLU MLP (Wi's first half activated), final_norm; global layers every global_attn_every_n_layers with
  global_rope_theta, local ones with local_rope_theta. Norms without bias get a zero bias buffer (same
  values; LayerNormalization wants one).
- NomicBERT: emb_ln(word + token_type(0)); post-norm layers, fc11(x) * act(fc12(x)), act silu for swiglu.
  Dynamic NTK (rotary_scaling_factor) changes the base only for sequences longer than
  max_trained_positions; the module and its ONNX graph use the unscaled base for every length, so with a
  scaling factor they are exact up to max_trained_positions tokens only (the peers script stays there).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any, Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import make_checkpoint  # noqa: E402  (safetensors reader)
import modern_checkpoint as modern  # noqa: E402  (rotary tables, nomic_inner, the float64 reference)

NEG = torch.finfo(torch.float32).min
# LayerNormalization is an ONNX operator from opset 17 on (ONNX Runtime runs it as one kernel); the
# dynamic batch / sequence axes need nothing newer than 14.
ONNX_OPSET = 17


def _activation(name: str):
    if name == "gelu":
        return lambda t: F.gelu(t)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda t: F.gelu(t, approximate="tanh")
    if name in ("silu", "swish", "swiglu"):
        return F.silu
    if name == "relu":
        return F.relu
    raise ValueError(f"activation {name!r} is not supported by the peer benchmark")


class Norm(nn.Module):
    """LayerNorm over the last axis; a norm stored without bias gets a zero (non-persistent) bias."""

    def __init__(self, size: int, eps: float, bias: bool):
        super().__init__()
        self.eps = eps
        self.size = size
        self.weight = nn.Parameter(torch.ones(size))
        if bias:
            self.bias = nn.Parameter(torch.zeros(size))
        else:
            self.register_buffer("bias", torch.zeros(size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (self.size,), self.weight, self.bias, self.eps)


class Rotary(nn.Module):
    """cos / sin [P, r] float32 tables (r = rotated features), built from rotary_cos_sin's [P, r/2]."""

    def __init__(self, family: str, config: Dict[str, Any], head_dim: int, dim: int, base: float,
                 positions: int, interleaved: bool):
        super().__init__()
        self.head_dim = head_dim
        cos, sin = modern.rotary_cos_sin(family, config, dim, base, positions)
        cos, sin = cos.float(), sin.float()  # float32 values widened by rotary_cos_sin: exact
        widen = (lambda t: t.repeat_interleave(2, dim=-1)) if interleaved else (lambda t: torch.cat((t, t), -1))
        self.interleaved = interleaved
        self.rotated = 2 * cos.shape[1]
        self.register_buffer("cos", widen(cos), persistent=False)
        self.register_buffer("sin", widen(sin), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, S, heads, d] -> rotated on its first self.rotated features."""
        S, r, partial = x.shape[1], self.rotated, self.rotated < self.head_dim
        c = self.cos[:S][None, :, None, :]
        s = self.sin[:S][None, :, None, :]
        part = x[..., :r] if partial else x
        if self.interleaved:
            x1, x2 = part[..., 0::2], part[..., 1::2]
            half = torch.stack((-x2, x1), dim=-1).flatten(-2)
        else:
            x1, x2 = part[..., : r // 2], part[..., r // 2:]
            half = torch.cat((-x2, x1), dim=-1)
        out = part * c + half * s
        return torch.cat((out, x[..., r:]), dim=-1) if partial else out


def attend(qkv: torch.Tensor, heads: int, rotary: Rotary, mask: torch.Tensor) -> torch.Tensor:
    """qkv [B, S, 3H] (q, k, v each heads x d) -> context [B, S, H]; mask additive, [B, 1, 1 or S, S]."""
    B, S, d = qkv.shape[0], qkv.shape[1], rotary.head_dim
    qkv = qkv.view(B, S, 3, heads, d)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    q, k = rotary(q), rotary(k)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, heads, S, d]
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d)) + mask
    context = torch.matmul(torch.softmax(scores, dim=-1), v)
    return context.transpose(1, 2).reshape(B, S, heads * d)


def key_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """[B, S] 1/0 -> additive [B, 1, 1, S]: 0 on real keys, finfo.min on padding."""
    return (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * NEG


# ---------------------------------------------------------------------------------------------------
# ModernBERT (transformers models/modernbert: ModernBertModel)


class ModernBertEmbeddings(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.tok_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.norm = Norm(c["hidden_size"], float(c.get("norm_eps", 1e-5)), c.get("norm_bias", False))


class ModernBertAttention(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H, bias = c["hidden_size"], c.get("attention_bias", False)
        self.Wqkv = nn.Linear(H, 3 * H, bias=bias)
        self.Wo = nn.Linear(H, H, bias=bias)


class ModernBertMLP(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H, I, bias = c["hidden_size"], c["intermediate_size"], c.get("mlp_bias", False)
        self.Wi = nn.Linear(H, 2 * I, bias=bias)
        self.Wo = nn.Linear(I, H, bias=bias)
        self.act = _activation(c.get("hidden_activation", "gelu"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, g = self.Wi(x).chunk(2, dim=-1)
        return self.Wo(self.act(a) * g)


class ModernBertLayer(nn.Module):
    def __init__(self, c: Dict[str, Any], n: int):
        super().__init__()
        eps, bias = float(c.get("norm_eps", 1e-5)), c.get("norm_bias", False)
        self.attn_norm = nn.Identity() if n == 0 else Norm(c["hidden_size"], eps, bias)
        self.attn = ModernBertAttention(c)
        self.mlp_norm = Norm(c["hidden_size"], eps, bias)
        self.mlp = ModernBertMLP(c)
        self.is_global = n % c.get("global_attn_every_n_layers", 3) == 0


class ModernBertModel(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H, heads = c["hidden_size"], c["num_attention_heads"]
        self.heads = heads
        self.window = c["local_attention"] // 2
        self.embeddings = ModernBertEmbeddings(c)
        self.layers = nn.ModuleList([ModernBertLayer(c, n) for n in range(c["num_hidden_layers"])])
        self.final_norm = Norm(H, float(c.get("norm_eps", 1e-5)), c.get("norm_bias", False))
        P, d = c["max_position_embeddings"], H // heads
        thetas = (float(c.get("global_rope_theta", 160000.0)), float(c.get("local_rope_theta", 10000.0)))
        self.global_rotary = Rotary("modernbert", c, d, d, thetas[0], P, False)
        self.local_rotary = Rotary("modernbert", c, d, d, thetas[1], P, False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        S = input_ids.shape[1]
        global_mask = key_mask(attention_mask)
        positions = torch.arange(S, device=input_ids.device)
        outside = (positions[:, None] - positions[None, :]).abs() > self.window
        local_mask = global_mask.masked_fill(outside[None, None], NEG)  # [B, 1, S, S]
        x = self.embeddings.norm(self.embeddings.tok_embeddings(input_ids))
        for layer in self.layers:
            rotary, mask = ((self.global_rotary, global_mask) if layer.is_global
                            else (self.local_rotary, local_mask))
            context = attend(layer.attn.Wqkv(layer.attn_norm(x)), self.heads, rotary, mask)
            x = x + layer.attn.Wo(context)
            x = x + layer.mlp(layer.mlp_norm(x))
        return self.final_norm(x)


# ---------------------------------------------------------------------------------------------------
# NomicBERT (nomic-ai contrastors modeling_hf_nomic_bert.py: NomicBertModel)


class NomicEmbeddings(nn.Module):
    def __init__(self, c: Dict[str, Any], vocab: int):
        super().__init__()
        H = c["n_embd"]
        self.word_embeddings = nn.Embedding(vocab, H)
        self.has_types = c.get("type_vocab_size", 2) > 0
        if self.has_types:
            self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], H)


class NomicAttention(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H, bias = c["n_embd"], c.get("qkv_proj_bias", True)
        self.Wqkv = nn.Linear(H, 3 * H, bias=bias)
        self.out_proj = nn.Linear(H, H, bias=bias)


class NomicGatedMLP(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        H, I = c["n_embd"], modern.nomic_inner(c)
        self.fc11 = nn.Linear(H, I, bias=c.get("mlp_fc1_bias", True))
        self.fc12 = nn.Linear(H, I, bias=c.get("mlp_fc1_bias", True))
        self.fc2 = nn.Linear(I, H, bias=c.get("mlp_fc2_bias", True))
        self.act = _activation(c["activation_function"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc11(x) * self.act(self.fc12(x)))


class NomicLayer(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        eps = float(c.get("layer_norm_epsilon", 1e-5))
        self.attn = NomicAttention(c)
        self.mlp = NomicGatedMLP(c)
        self.norm1 = Norm(c["n_embd"], eps, True)
        self.norm2 = Norm(c["n_embd"], eps, True)


class NomicEncoder(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        self.layers = nn.ModuleList([NomicLayer(c) for _ in range(c["n_layer"])])


class NomicBertModel(nn.Module):
    def __init__(self, c: Dict[str, Any]):
        super().__init__()
        if c.get("prenorm", False):
            raise ValueError("nomic_bert: prenorm is not supported by the peer benchmark")
        if c.get("activation_function") not in ("swiglu", "geglu"):
            raise ValueError("nomic_bert: only the gated MLPs (swiglu, geglu) are supported here")
        if c.get("rotary_emb_fraction", 0.0) <= 0:
            raise ValueError("nomic_bert: only rotary positions are supported here")
        H, heads = c["n_embd"], c["n_head"]
        self.heads = heads
        multiple = c.get("pad_vocab_size_multiple", 1)
        vocab = (c["vocab_size"] + multiple - 1) // multiple * multiple
        self.embeddings = NomicEmbeddings(c, vocab)
        self.emb_ln = Norm(H, float(c.get("layer_norm_epsilon", 1e-5)), True)
        self.encoder = NomicEncoder(c)
        d = H // heads
        unscaled = dict(c, rotary_scaling_factor=None)  # see the module docstring
        self.rotary = Rotary("nomic_bert", unscaled, d, int(d * c["rotary_emb_fraction"]),
                             float(c.get("rotary_emb_base", 10000)), c["n_positions"],
                             c.get("rotary_emb_interleaved", False))
        if c["activation_function"] == "geglu":
            for layer in self.encoder.layers:
                layer.mlp.act = lambda t: F.gelu(t)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = key_mask(attention_mask)
        x = self.embeddings.word_embeddings(input_ids)
        if self.embeddings.has_types:
            x = x + self.embeddings.token_type_embeddings.weight[0]
        x = self.emb_ln(x)
        for layer in self.encoder.layers:
            x = layer.norm1(x + layer.attn.out_proj(attend(layer.attn.Wqkv(x), self.heads, self.rotary, mask)))
            x = layer.norm2(x + layer.mlp(x))
        return x


# ---------------------------------------------------------------------------------------------------
# loading, export, self-check


def read_folder(model_dir: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """(config, weights without the family's task prefix) of a model folder."""
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    raw, _, _ = make_checkpoint.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    return config, raw


def load_model(model_dir: str) -> nn.Module:
    """The folder's encoder as a float32 module in eval mode; every tensor must be used (strict)."""
    config, raw = read_folder(model_dir)
    family = modern.modern_family(config)
    if family == "modernbert":
        model: nn.Module = ModernBertModel(config)
    elif family == "nomic_bert":
        model = NomicBertModel(config)
    else:
        raise ValueError(f"{model_dir}: family {family!r} is not one the modern peer benchmark exports")
    prefix = modern.PREFIX[family]
    state = {(k[len(prefix):] if k.startswith(prefix) else k): torch.from_numpy(np.asarray(v, np.float32))
             for k, v in raw.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{model_dir}: missing tensors {missing}, unexpected tensors {unexpected}")
    return model.eval()


def export_onnx(model_dir: str, out_path: str, opset: int = ONNX_OPSET) -> None:
    """ONNX with inputs input_ids, attention_mask [batch, sequence] int64 and output last_hidden_state."""
    model = load_model(model_dir)
    ids = torch.randint(0, 100, (2, 16), dtype=torch.long)
    mask = torch.ones(2, 16, dtype=torch.long)
    tmp = out_path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), tmp, opset_version=opset, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        "last_hidden_state": {0: "batch", 1: "sequence"}})
    os.replace(tmp, out_path)


def padded(seqs: List[List[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
    L = max(len(s) for s in seqs)
    ids = torch.tensor([s + [0] * (L - len(s)) for s in seqs], dtype=torch.long)
    mask = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs], dtype=torch.long)
    return ids, mask


def check(model_dir: str, lengths: List[int], seed: int = 3) -> float:
    """Max abs difference between the float32 module on one padded batch and the float64 reference on
    each sequence alone (real tokens only)."""
    config, raw = read_folder(model_dir)
    vocab = config.get("vocab_size")
    rng = np.random.default_rng(seed)
    seqs = [rng.integers(0, vocab, size=n).tolist() for n in lengths]
    ids, mask = padded(seqs)
    with torch.inference_mode():
        out = load_model(model_dir)(ids, mask).numpy()
    ref = modern.modern_reference_forward(raw, config, seqs)
    return max(float(np.abs(out[i, :n] - ref[i]).max()) for i, n in enumerate(lengths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write MODEL_DIR as ONNX (dynamic batch and sequence)")
    e.add_argument("model_dir")
    e.add_argument("out")
    e.add_argument("--opset", type=int, default=ONNX_OPSET)
    c = sub.add_parser("check", help="the float32 module on a padded batch against the float64 reference")
    c.add_argument("model_dir")
    c.add_argument("--lengths", default="40,17,5")
    args = parser.parse_args()
    if args.cmd == "export":
        export_onnx(args.model_dir, args.out, args.opset)
    else:
        lengths = [int(x) for x in args.lengths.split(",")]
        print(json.dumps({"lengths": lengths, "max_abs_vs_float64": check(args.model_dir, lengths)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
