#!/usr/bin/python3
"""Random BERT-family checkpoints for vecformer's tests, and a float64 PyTorch reference forward pass.

Run with Debian's interpreter (/usr/bin/python3): it needs numpy, and torch for `reference_forward`.

    /usr/bin/python3 tools/make_checkpoint.py OUT_DIR --hidden 64 --heads 4 --layers 2 \
        --intermediate 128 --vocab 1000 --max-positions 128 --seed 0

writes OUT_DIR/config.json and OUT_DIR/model.safetensors in the Hugging Face `BertModel` layout. From
Python, `make_checkpoint(out_dir, **options)` does the same and returns `(config, weights)`: the config.json
dict, and every tensor as a float64 numpy array holding exactly the value stored in the file (so an F16 or
BF16 checkpoint's weights are the rounded ones), keyed by its name without the optional "bert." prefix.

Tensors (H = hidden_size, I = intermediate_size, V = vocab_size, P = max_position_embeddings, N = layer)
-----------------------------------------------------------------------------------------------------
    embeddings.word_embeddings.weight                  [V, H]
    embeddings.position_embeddings.weight              [P, H]   position_embedding_type "absolute" only
    embeddings.token_type_embeddings.weight            [type_vocab_size, H]   when type_vocab_size > 0
    embeddings.LayerNorm.weight / .bias                [H]      optional (embedding_norm)
    encoder.layer.N.attention.self.query.weight        [H, H]   and .bias [H]; key, value likewise
    encoder.layer.N.attention.output.dense.weight      [H, H]   and .bias [H]
    encoder.layer.N.attention.output.LayerNorm.weight  [H]      and .bias [H]
    encoder.layer.N.intermediate.dense.weight          [I, H]   and .bias [I]
    encoder.layer.N.output.dense.weight                [H, I]   and .bias [H]
    encoder.layer.N.output.LayerNorm.weight            [H]      and .bias [H]
    encoder.LayerNorm.weight / .bias                   [H]      optional (final_norm; for norm_first)
    pooler.dense.weight [H, H] / .bias [H]                      optional (pooler; vecformer ignores it)

Every name may carry the prefix "bert." (as BertForX checkpoints do). Linear weights are in PyTorch's
[out, in] layout: y = x · Wᵀ + b. Data types: F32, F16 or BF16 (round to nearest even), little-endian.

Semantics vecformer implements (and `reference_forward` computes)
-----------------------------------------------------------------
Sequences are independent: attention runs within each sequence only, with no padding and no mask.

Embeddings, for token p (0-based position in its sequence) with id w and type id t (0 when not given):
    x[p] = word[w] + pos[p] + type[t]      (type term only when type_vocab_size > 0)
    x    = LN_emb(x)                       (only when embeddings.LayerNorm is present)
  where pos is the learned table for "absolute" and, for "sinusoidal" (no table in the checkpoint),
    PE[p, 2i]   = sin(p / 10000^(2i/H))
    PE[p, 2i+1] = cos(p / 10000^(2i/H))

Attention, per head h with head_dim = H / num_attention_heads:
    Q = x Wqᵀ + bq, K = x Wkᵀ + bk, V = x Wvᵀ + bv, split into heads along the feature axis;
    head_h = softmax(Q_h K_hᵀ / sqrt(head_dim)) V_h;  attn(x) = concat_h(head_h) Woᵀ + bo
    (Wo, bo = attention.output.dense).
Feed-forward: ffn(x) = act(x W1ᵀ + b1) W2ᵀ + b2 (W1 = intermediate.dense, W2 = output.dense), with
    act = "gelu": exact erf GELU; "gelu_new" / "gelu_pytorch_tanh": tanh-approximate GELU; "relu".
LayerNorm: LN(x) = (x - mean) / sqrt(var + layer_norm_eps) * gamma + beta, biased variance over H.
LN_att = attention.output.LayerNorm, LN_out = output.LayerNorm.

Post-norm (norm_first false, standard BERT), per layer:
    x = LN_att(x + attn(x))
    x = LN_out(x + ffn(x))
Pre-norm (norm_first true), per layer:
    x = x + attn(LN_att(x))
    x = x + ffn(LN_out(x))
  then encoder.LayerNorm after the last layer when present.
The output is x: the last hidden state, [L, H] per sequence.

Random weights are drawn from a seeded numpy Generator and scaled so activations stay O(1) and every part
of the computation matters: linear weights ~ N(0, 1/fan_in) (query/key a little larger, so attention is
far from uniform), biases ~ N(0, 0.05²), LayerNorm gammas ~ 1 + N(0, 0.1²) and betas ~ N(0, 0.05²).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import numpy as np

ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
POSITION_TYPES = ("absolute", "sinusoidal")
DTYPES = ("F32", "F16", "BF16")
_DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2}
_TORCH_DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}

# ---------------------------------------------------------------------------------------------------
# safetensors, by hand


def _bf16_bits(values: np.ndarray) -> np.ndarray:
    """float → bfloat16 bit patterns (uint16), rounding to nearest even (values are finite)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = ((bits >> 16) & 1) + 0x7FFF
    return ((bits + rounding) >> 16).astype(np.uint16)


def _bf16_to_float(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def encode_tensor(values: np.ndarray, dtype: str) -> bytes:
    """The little-endian bytes of `values` stored as `dtype` ("F32", "F16" or "BF16")."""
    if dtype == "F32":
        return np.ascontiguousarray(values, dtype="<f4").tobytes()
    if dtype == "F16":
        return np.ascontiguousarray(values, dtype="<f2").tobytes()
    if dtype == "BF16":
        return _bf16_bits(values).astype("<u2").tobytes()
    raise ValueError(f"unsupported dtype {dtype!r}; expected one of {DTYPES}")


def decode_tensor(data: bytes, dtype: str, shape: Sequence[int]) -> np.ndarray:
    """Inverse of `encode_tensor`, widened to float64."""
    if dtype == "F32":
        values = np.frombuffer(data, dtype="<f4")
    elif dtype == "F16":
        values = np.frombuffer(data, dtype="<f2")
    elif dtype == "BF16":
        values = _bf16_to_float(np.frombuffer(data, dtype="<u2"))
    else:
        raise ValueError(f"unsupported dtype {dtype!r}")
    return values.astype(np.float64).reshape(tuple(shape))


def round_to_dtype(values: np.ndarray, dtype: str) -> np.ndarray:
    """The float64 values a reader gets back after storing `values` as `dtype`."""
    return decode_tensor(encode_tensor(values, dtype), dtype, values.shape)


def write_safetensors(path: str, tensors: Dict[str, Tuple[np.ndarray, str]],
                      metadata: Dict[str, str] | None = None) -> None:
    """Writes {name: (values, dtype)} in insertion order, data contiguous, header padded to 8 bytes."""
    header: Dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    blobs: List[bytes] = []
    offset = 0
    for name, (values, dtype) in tensors.items():
        blob = encode_tensor(values, dtype)
        header[name] = {"dtype": dtype, "shape": [int(d) for d in values.shape],
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str], Dict[str, str]]:
    """Reads a safetensors file: ({name: float64 array}, {name: dtype}, metadata). Checks the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", raw[:8])
    if 8 + header_len > len(raw):
        raise ValueError(f"{path}: header length {header_len} exceeds the file")
    header = json.loads(raw[8:8 + header_len].decode("utf-8"))
    data = raw[8 + header_len:]
    metadata = header.pop("__metadata__", {})
    tensors: Dict[str, np.ndarray] = {}
    dtypes: Dict[str, str] = {}
    spans = []
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = entry["dtype"]
        count = math.prod(entry["shape"])
        if end - begin != count * _DTYPE_SIZE[dtype] or end > len(data) or begin < 0:
            raise ValueError(f"{path}: tensor {name}: bad data_offsets {entry['data_offsets']}")
        spans.append((begin, end))
        tensors[name] = decode_tensor(data[begin:end], dtype, entry["shape"])
        dtypes[name] = dtype
    spans.sort()
    position = 0
    for begin, end in spans:
        if begin != position:
            raise ValueError(f"{path}: data is not contiguous at byte {begin}")
        position = end
    if position != len(data):
        raise ValueError(f"{path}: {len(data) - position} trailing bytes after the last tensor")
    return tensors, dtypes, metadata


# ---------------------------------------------------------------------------------------------------
# random checkpoints


def layer_prefix(n: int) -> str:
    return f"encoder.layer.{n}."


def _random_weights(config: Dict[str, Any], rng: np.random.Generator, embedding_norm: bool,
                    final_norm: bool, pooler: bool) -> Dict[str, np.ndarray]:
    H = config["hidden_size"]
    I = config["intermediate_size"]
    w: Dict[str, np.ndarray] = {}

    def normal(shape, std):
        return rng.normal(0.0, std, size=shape)

    def linear(name, out_features, in_features, gain=1.0):
        w[name + ".weight"] = normal((out_features, in_features), gain / math.sqrt(in_features))
        w[name + ".bias"] = normal((out_features,), 0.05)

    def norm(name):
        w[name + ".weight"] = 1.0 + normal((H,), 0.1)
        w[name + ".bias"] = normal((H,), 0.05)

    w["embeddings.word_embeddings.weight"] = normal((config["vocab_size"], H), 0.5)
    if config["position_embedding_type"] == "absolute":
        w["embeddings.position_embeddings.weight"] = normal((config["max_position_embeddings"], H), 0.3)
    if config["type_vocab_size"] > 0:
        w["embeddings.token_type_embeddings.weight"] = normal((config["type_vocab_size"], H), 0.3)
    if embedding_norm:
        norm("embeddings.LayerNorm")
    for n in range(config["num_hidden_layers"]):
        p = layer_prefix(n)
        # Query and key a little larger than 1/sqrt(fan_in) so the softmax is clearly non-uniform.
        linear(p + "attention.self.query", H, H, gain=1.4)
        linear(p + "attention.self.key", H, H, gain=1.4)
        linear(p + "attention.self.value", H, H)
        linear(p + "attention.output.dense", H, H)
        norm(p + "attention.output.LayerNorm")
        linear(p + "intermediate.dense", I, H, gain=1.5)
        linear(p + "output.dense", H, I)
        norm(p + "output.LayerNorm")
    if final_norm:
        norm("encoder.LayerNorm")
    if pooler:
        linear("pooler.dense", H, H)
    return w


def make_config(*, hidden_size: int = 64, num_attention_heads: int = 4, intermediate_size: int = 128,
                num_hidden_layers: int = 2, hidden_act: str = "gelu", layer_norm_eps: float = 1e-12,
                vocab_size: int = 1000, max_position_embeddings: int = 128, type_vocab_size: int = 2,
                position_embedding_type: str = "absolute", norm_first: bool = False,
                torch_dtype: str = "float32") -> Dict[str, Any]:
    """A BertConfig-style config.json dict (plus vecformer's norm_first), validated."""
    if hidden_act not in ACTIVATIONS:
        raise ValueError(f"hidden_act {hidden_act!r} not in {ACTIVATIONS}")
    if position_embedding_type not in POSITION_TYPES:
        raise ValueError(f"position_embedding_type {position_embedding_type!r} not in {POSITION_TYPES}")
    if hidden_size <= 0 or num_attention_heads <= 0 or hidden_size % num_attention_heads:
        raise ValueError(f"hidden_size {hidden_size} is not a positive multiple of "
                         f"num_attention_heads {num_attention_heads}")
    for key, value in (("intermediate_size", intermediate_size), ("num_hidden_layers", num_hidden_layers),
                       ("vocab_size", vocab_size), ("max_position_embeddings", max_position_embeddings)):
        if value <= 0:
            raise ValueError(f"{key} must be positive, got {value}")
    if type_vocab_size < 0:
        raise ValueError(f"type_vocab_size must be >= 0, got {type_vocab_size}")
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": hidden_size,
        "num_attention_heads": num_attention_heads,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": num_hidden_layers,
        "hidden_act": hidden_act,
        "layer_norm_eps": layer_norm_eps,
        "vocab_size": vocab_size,
        "max_position_embeddings": max_position_embeddings,
        "type_vocab_size": type_vocab_size,
        "position_embedding_type": position_embedding_type,
        "norm_first": norm_first,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "pad_token_id": 0,
        "torch_dtype": torch_dtype,
    }


def make_checkpoint(out_dir: str, *, seed: int = 0, dtype: str = "F32", prefix: str = "",
                    embedding_norm: bool = True, final_norm: bool = False, pooler: bool = False,
                    **config_options: Any) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """Writes out_dir/config.json and out_dir/model.safetensors; returns (config, weights).

    config_options are make_config's keyword arguments (hidden_size, num_attention_heads, ...).
    weights maps each tensor name *without* `prefix` to a float64 array equal to the stored value.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} not in {DTYPES}")
    config = make_config(torch_dtype=_TORCH_DTYPE_NAME[dtype], **config_options)
    rng = np.random.default_rng(seed)
    raw = _random_weights(config, rng, embedding_norm, final_norm, pooler)
    weights = {name: round_to_dtype(values, dtype) for name, values in raw.items()}

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out_dir, "model.safetensors"),
                      {prefix + name: (values, dtype) for name, values in weights.items()},
                      metadata={"format": "pt"})
    return config, weights


# ---------------------------------------------------------------------------------------------------
# float64 reference


def sinusoidal_table(positions: int, hidden: int) -> np.ndarray:
    """PE[p, 2i] = sin(p / 10000^(2i/H)), PE[p, 2i+1] = cos(p / 10000^(2i/H)), in float64."""
    p = np.arange(positions, dtype=np.float64)[:, None]
    even = np.arange(0, hidden, 2, dtype=np.float64)
    angles = p / np.power(10000.0, even / hidden)[None, :]
    table = np.zeros((positions, hidden), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : hidden // 2])
    return table


def _sequence_ids(sequence: Any) -> Tuple[List[int], List[int] | None]:
    """Accepts a list of ids, an (ids, type_ids) pair, or {"input_ids": ..., "token_type_ids": ...}."""
    if isinstance(sequence, dict):
        return list(sequence["input_ids"]), sequence.get("token_type_ids")
    if isinstance(sequence, tuple) and len(sequence) == 2 and not isinstance(sequence[0], int):
        return list(sequence[0]), sequence[1]
    return list(sequence), None


def strip_prefix(weights: Dict[str, np.ndarray], prefix: str = "bert.") -> Dict[str, np.ndarray]:
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in weights.items()}


def reference_forward(weights: Dict[str, np.ndarray], config: Dict[str, Any],
                      sequences: Iterable[Any]) -> List[np.ndarray]:
    """The last hidden state of each sequence as a float64 [L, H] numpy array.

    Plain torch float64 ops, one sequence at a time (so no padding and no mask); see the module docstring
    for the semantics. `weights` as returned by make_checkpoint (a "bert." prefix is tolerated).
    """
    import torch
    import torch.nn.functional as F

    w = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in strip_prefix(weights).items()}
    H = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = H // heads
    eps = float(config["layer_norm_eps"])
    act_name = config["hidden_act"]
    if act_name == "gelu":
        def act(t): return F.gelu(t, approximate="none")
    elif act_name in ("gelu_new", "gelu_pytorch_tanh"):
        def act(t): return F.gelu(t, approximate="tanh")
    elif act_name == "relu":
        act = F.relu
    else:
        raise ValueError(f"unknown hidden_act {act_name!r}")

    def norm(x, name):
        return F.layer_norm(x, (H,), w[name + ".weight"], w[name + ".bias"], eps)

    def linear(x, name):
        return F.linear(x, w[name + ".weight"], w[name + ".bias"])

    def attention(x, p):
        L = x.shape[0]
        q = linear(x, p + "attention.self.query").view(L, heads, head_dim).transpose(0, 1)
        k = linear(x, p + "attention.self.key").view(L, heads, head_dim).transpose(0, 1)
        v = linear(x, p + "attention.self.value").view(L, heads, head_dim).transpose(0, 1)
        scores = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(head_dim)  # [heads, L, L]
        probs = torch.softmax(scores, dim=-1)
        context = torch.matmul(probs, v).transpose(0, 1).reshape(L, H)
        return linear(context, p + "attention.output.dense")

    def ffn(x, p):
        return linear(act(linear(x, p + "intermediate.dense")), p + "output.dense")

    if config["position_embedding_type"] == "sinusoidal":
        positions = torch.as_tensor(sinusoidal_table(config["max_position_embeddings"], H))
    else:
        positions = w["embeddings.position_embeddings.weight"]

    outputs = []
    for sequence in sequences:
        ids, type_ids = _sequence_ids(sequence)
        L = len(ids)
        if L == 0 or L > config["max_position_embeddings"]:
            raise ValueError(f"sequence length {L} outside 1..{config['max_position_embeddings']}")
        x = w["embeddings.word_embeddings.weight"][torch.as_tensor(ids, dtype=torch.long)]
        x = x + positions[:L]
        if config["type_vocab_size"] > 0:
            t = torch.as_tensor(type_ids if type_ids else [0] * L, dtype=torch.long)
            x = x + w["embeddings.token_type_embeddings.weight"][t]
        if "embeddings.LayerNorm.weight" in w:
            x = norm(x, "embeddings.LayerNorm")
        for n in range(config["num_hidden_layers"]):
            p = layer_prefix(n)
            if config.get("norm_first", False):
                x = x + attention(norm(x, p + "attention.output.LayerNorm"), p)
                x = x + ffn(norm(x, p + "output.LayerNorm"), p)
            else:
                x = norm(x + attention(x, p), p + "attention.output.LayerNorm")
                x = norm(x + ffn(x, p), p + "output.LayerNorm")
        if config.get("norm_first", False) and "encoder.LayerNorm.weight" in w:
            x = norm(x, "encoder.LayerNorm")
        outputs.append(x.numpy())
    return outputs


# ---------------------------------------------------------------------------------------------------
# command line


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a random BertModel checkpoint folder "
                                                 "(config.json + model.safetensors).")
    parser.add_argument("out_dir")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--intermediate", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=1000)
    parser.add_argument("--max-positions", type=int, default=128)
    parser.add_argument("--type-vocab", type=int, default=2)
    parser.add_argument("--act", choices=ACTIVATIONS, default="gelu")
    parser.add_argument("--eps", type=float, default=1e-12, help="layer_norm_eps")
    parser.add_argument("--position", choices=POSITION_TYPES, default="absolute",
                        help="position_embedding_type")
    parser.add_argument("--norm-first", action="store_true", help="pre-norm layers")
    parser.add_argument("--no-embedding-norm", action="store_true",
                        help="leave out embeddings.LayerNorm")
    parser.add_argument("--final-norm", action="store_true", help="add encoder.LayerNorm")
    parser.add_argument("--pooler", action="store_true", help="add pooler.dense (ignored by vecformer)")
    parser.add_argument("--prefix", default="", help='prefix every tensor name, e.g. "bert."')
    parser.add_argument("--dtype", choices=DTYPES, default="F32")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        config, weights = make_checkpoint(
            args.out_dir, seed=args.seed, dtype=args.dtype, prefix=args.prefix,
            embedding_norm=not args.no_embedding_norm, final_norm=args.final_norm, pooler=args.pooler,
            hidden_size=args.hidden, num_attention_heads=args.heads, intermediate_size=args.intermediate,
            num_hidden_layers=args.layers, hidden_act=args.act, layer_norm_eps=args.eps,
            vocab_size=args.vocab, max_position_embeddings=args.max_positions,
            type_vocab_size=args.type_vocab, position_embedding_type=args.position,
            norm_first=args.norm_first)
    except ValueError as e:
        print(f"make_checkpoint.py: error: {e}", file=sys.stderr)
        return 2
    size = os.path.getsize(os.path.join(args.out_dir, "model.safetensors"))
    print(f"wrote {args.out_dir}: {len(weights)} tensors, {size} bytes of safetensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
