#!/usr/bin/python3
"""Convert a PyTorch `nn.TransformerEncoder` + `nn.Embedding` into a vecformer model folder.

Run with Debian's interpreter (/usr/bin/python3): it needs torch and numpy.

    import sys; sys.path.insert(0, "tools")
    import torch.nn as nn
    from convert_torch import save_torch_encoder

    layer = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, activation="gelu",
                                       batch_first=True, norm_first=True)
    encoder = nn.TransformerEncoder(layer, num_layers=4, norm=nn.LayerNorm(256))
    embedding = nn.Embedding(30000, 256)
    ...  # train
    save_torch_encoder("my-model", encoder, embedding, positional="sinusoidal", max_positions=512)

then `vecformer run --model my-model --input ids.txt --output hidden.npy` computes, for every sequence of
token ids of length L (1 <= L <= max_positions),

    encoder(embedding(ids) + PE[:L], src_key_padding_mask=padding)      (the rows of the real tokens)

in eval mode (no dropout). PE depends on `positional`:

    "sinusoidal"  PE[p, 2i] = sin(p / 10000^(2i/d_model)), PE[p, 2i+1] = cos(p / 10000^(2i/d_model)),
                  p counted from 0 in each sequence: the table of PyTorch's transformer tutorial
                  (`PositionalEncoding`, without its dropout). vecformer computes it; nothing is stored.
    "learned"     PE = position_table, a [max_positions, d_model] tensor (or an nn.Embedding holding one),
                  stored as embeddings.position_embeddings.weight.
    None          PE = 0: no positional information.

The embedding output is not scaled: a model that feeds `embedding(ids) * sqrt(d_model)` to its encoder is
not what this function describes.

Command line: `/usr/bin/python3 tools/convert_torch.py --demo OUT_DIR [--seed N]` builds a random
pre-norm encoder (2 layers, d_model 64, 4 heads, GELU, final norm, vocabulary 1000, sinusoidal positions up
to 128) and saves it, for documentation and smoke tests.

What is accepted
----------------
- `encoder`: an nn.TransformerEncoder of nn.TransformerEncoderLayer, with or without its final norm
  `encoder.norm`. All layers must agree on d_model, nhead, dim_feedforward, activation and norm_first.
  `batch_first` may be True or False: it only sets the layout of the module's inputs, not its weights, so
  the converter ignores it.
- activation: "relu" or "gelu" (erf GELU), given as the string, F.relu / F.gelu, nn.ReLU() or nn.GELU().
  Anything else (including nn.GELU(approximate="tanh")) is a ValueError.
- every Linear and attention projection with its bias, the attention's keys and values of width d_model
  (no kdim / vdim), no add_bias_kv / add_zero_attn, every LayerNorm over [d_model] with elementwise affine
  weight and bias, and one eps shared by all LayerNorms (norm1, norm2 and encoder.norm).
- `encoder.norm` with either norm placement: vecformer applies encoder.LayerNorm after the last layer
  whenever the checkpoint has it, as nn.TransformerEncoder applies its norm.
- `embedding`: an nn.Embedding of width d_model, without max_norm (its lookup would rewrite the table).
Everything is checked before anything is written; a configuration vecformer cannot reproduce raises
ValueError (a wrong argument type raises TypeError) naming the layer and module at fault.

What is written (config.json in Hugging Face BertConfig keys, model.safetensors in F32)
--------------------------------------------------------------------------------------
    model_type "bert", hidden_size = d_model, num_attention_heads = nhead,
    intermediate_size = dim_feedforward, num_hidden_layers = len(encoder.layers),
    hidden_act "gelu" | "relu", layer_norm_eps = the LayerNorms' eps, vocab_size = num_embeddings,
    max_position_embeddings = max_positions, type_vocab_size 0,
    position_embedding_type "sinusoidal" | "absolute" (learned) | "none", norm_first

    embeddings.word_embeddings.weight                     embedding.weight
    embeddings.position_embeddings.weight                 position_table             ("learned" only)
    encoder.layer.N.attention.self.query.weight / .bias   self_attn.in_proj_weight[0:H] / in_proj_bias[0:H]
    encoder.layer.N.attention.self.key.weight / .bias     ... [H:2H]
    encoder.layer.N.attention.self.value.weight / .bias   ... [2H:3H]
    encoder.layer.N.attention.output.dense.weight / .bias self_attn.out_proj
    encoder.layer.N.attention.output.LayerNorm.*          norm1
    encoder.layer.N.intermediate.dense.*                  linear1
    encoder.layer.N.output.dense.*                        linear2
    encoder.layer.N.output.LayerNorm.*                    norm2
    encoder.LayerNorm.weight / .bias                      encoder.norm                (when present)

There is no embeddings.LayerNorm and no token type table. The mapping holds because vecformer's layers
compute what nn.TransformerEncoderLayer computes (see docs/FORMAT.md):
    post-norm  x = norm1(x + self_attn(x));  x = norm2(x + linear2(act(linear1(x))))
    pre-norm   x = x + self_attn(norm1(x));  x = x + linear2(act(linear1(norm2(x))))
with attention softmax(Q Kᵀ / sqrt(d_model / nhead)) V per head and the heads side by side in feature order.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

if __name__ == "__main__":
    sys.dont_write_bytecode = True  # keep tools/ free of __pycache__ when run as a script

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

_TOOLS = os.path.dirname(os.path.abspath(__file__))
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)
from make_checkpoint import write_safetensors  # noqa: E402

POSITIONAL_KINDS = ("sinusoidal", "learned", None)
_POSITION_EMBEDDING_TYPE = {"sinusoidal": "sinusoidal", "learned": "absolute", None: "none"}

# ---------------------------------------------------------------------------------------------------
# checks


def _activation_name(activation: Any, where: str) -> str:
    """vecformer's hidden_act for a TransformerEncoderLayer activation, or ValueError."""
    if isinstance(activation, str):
        if activation in ("relu", "gelu"):
            return activation
    elif activation is F.relu or type(activation) is nn.ReLU:
        return "relu"
    elif activation is F.gelu:
        return "gelu"
    elif type(activation) is nn.GELU and getattr(activation, "approximate", "none") == "none":
        return "gelu"
    raise ValueError(f"{where}: activation {activation!r} is not supported; vecformer converts only relu "
                     "and gelu (erf): \"relu\", \"gelu\", F.relu, F.gelu, nn.ReLU() or nn.GELU()")


def _tensor(value: Optional[torch.Tensor], name: str) -> np.ndarray:
    """A detached float32 numpy copy; ValueError when the values do not fit float32 or are not finite."""
    array = value.detach().to(device="cpu", dtype=torch.float32).numpy().copy()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or Inf values (as float32); vecformer rejects such weights")
    return array


def _check_linear(module: Any, where: str, in_features: int, out_features: int) -> None:
    if not isinstance(module, nn.Linear):
        raise ValueError(f"{where} is a {type(module).__name__}, expected nn.Linear")
    if module.bias is None:
        raise ValueError(f"{where} has no bias (bias=False); vecformer's layers always add a bias "
                         "(a zero bias would be exact, but the converter does not invent tensors)")
    if (module.in_features, module.out_features) != (in_features, out_features):
        raise ValueError(f"{where} maps {module.in_features} -> {module.out_features} features, expected "
                         f"{in_features} -> {out_features}")


def _check_layer_norm(module: Any, where: str, d_model: int) -> float:
    """Checks an affine LayerNorm over [d_model]; returns its eps."""
    if not isinstance(module, nn.LayerNorm):
        raise ValueError(f"{where} is a {type(module).__name__}, expected nn.LayerNorm")
    if tuple(module.normalized_shape) != (d_model,):
        raise ValueError(f"{where} normalizes over {tuple(module.normalized_shape)}, expected ({d_model},)")
    if not module.elementwise_affine or module.weight is None or module.bias is None:
        raise ValueError(f"{where} has no elementwise affine weight and bias "
                         "(elementwise_affine=False or bias=False); vecformer's LayerNorms need both")
    return float(module.eps)


def _check_attention(attn: Any, where: str, d_model: int, nhead: int) -> None:
    if not isinstance(attn, nn.MultiheadAttention):
        raise ValueError(f"{where} is a {type(attn).__name__}, expected nn.MultiheadAttention")
    if (attn.kdim != attn.embed_dim or attn.vdim != attn.embed_dim or not attn._qkv_same_embed_dim
            or attn.in_proj_weight is None):
        raise ValueError(f"{where} has kdim={attn.kdim}, vdim={attn.vdim} (separate q/k/v projections) but "
                         f"embed_dim={attn.embed_dim}; vecformer's self-attention needs kdim = vdim = "
                         "d_model")
    if attn.in_proj_bias is None:
        raise ValueError(f"{where} has no in_proj_bias (bias=False); vecformer's query, key and value "
                         "projections need biases")
    if attn.bias_k is not None or attn.bias_v is not None:
        raise ValueError(f"{where} has add_bias_kv=True (extra learned key/value rows), which vecformer does "
                         "not implement")
    if attn.add_zero_attn:
        raise ValueError(f"{where} has add_zero_attn=True, which vecformer does not implement")
    if (attn.embed_dim, attn.num_heads) != (d_model, nhead):
        raise ValueError(f"{where} has embed_dim={attn.embed_dim}, num_heads={attn.num_heads}; expected "
                         f"{d_model}, {nhead} like layer 0")
    _check_linear(attn.out_proj, where + ".out_proj", d_model, d_model)


def _check_max_positions(max_positions: Any) -> int:
    if isinstance(max_positions, bool) or not isinstance(max_positions, int) or max_positions <= 0:
        raise ValueError(f"max_positions must be a positive int, got {max_positions!r}")
    return max_positions


def _position_tensor(positional: Any, position_table: Any, max_positions: int,
                     d_model: int) -> Optional[np.ndarray]:
    """The learned table to store (for "learned"), None otherwise; checks the combination."""
    if positional is not None and not (isinstance(positional, str) and positional in POSITIONAL_KINDS):
        raise ValueError(f"positional must be \"sinusoidal\", \"learned\" or None, got {positional!r}")
    if positional != "learned":
        if position_table is not None:
            raise ValueError(f"position_table is only used with positional=\"learned\", not {positional!r}")
        return None
    if position_table is None:
        raise ValueError("positional=\"learned\" needs position_table, a [max_positions, d_model] tensor")
    if isinstance(position_table, nn.Embedding):
        position_table = position_table.weight
    if not isinstance(position_table, torch.Tensor):
        position_table = torch.as_tensor(np.asarray(position_table))
    if tuple(position_table.shape) != (max_positions, d_model):
        raise ValueError(f"position_table has shape {tuple(position_table.shape)}, expected "
                         f"[max_positions, d_model] = [{max_positions}, {d_model}]")
    return _tensor(position_table, "position_table")


# ---------------------------------------------------------------------------------------------------
# conversion


def convert_torch_encoder(encoder: nn.TransformerEncoder, embedding: nn.Embedding,
                          positional: Optional[str] = "sinusoidal", max_positions: int = 512,
                          position_table: Any = None) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """Checks the modules and returns (config.json dict, {tensor name: float32 array}); writes nothing.

    See the module docstring for what is accepted and how tensors are named.
    """
    if not isinstance(encoder, nn.TransformerEncoder):
        raise TypeError(f"encoder must be a torch.nn.TransformerEncoder, got {type(encoder).__name__}")
    if not isinstance(embedding, nn.Embedding):
        raise TypeError(f"embedding must be a torch.nn.Embedding, got {type(embedding).__name__}")
    max_positions = _check_max_positions(max_positions)
    layers = list(encoder.layers)
    if not layers:
        raise ValueError("encoder has no layers")

    first = layers[0]
    if not isinstance(first, nn.TransformerEncoderLayer):
        raise ValueError(f"encoder.layers.0 is a {type(first).__name__}, expected nn.TransformerEncoderLayer")
    if not isinstance(first.self_attn, nn.MultiheadAttention) or not isinstance(first.linear1, nn.Linear):
        raise ValueError("encoder.layers.0 must hold an nn.MultiheadAttention self_attn and nn.Linear "
                         "linear1 / linear2")
    d_model = first.self_attn.embed_dim
    nhead = first.self_attn.num_heads
    dim_feedforward = first.linear1.out_features
    norm_first = bool(first.norm_first)
    hidden_act = _activation_name(first.activation, "encoder.layers.0")

    eps_values: List[Tuple[str, float]] = []
    for n, layer in enumerate(layers):
        where = f"encoder.layers.{n}"
        if not isinstance(layer, nn.TransformerEncoderLayer):
            raise ValueError(f"{where} is a {type(layer).__name__}, expected nn.TransformerEncoderLayer")
        _check_attention(layer.self_attn, where + ".self_attn", d_model, nhead)
        _check_linear(layer.linear1, where + ".linear1", d_model, dim_feedforward)
        _check_linear(layer.linear2, where + ".linear2", dim_feedforward, d_model)
        for name in ("norm1", "norm2"):
            eps_values.append((f"{where}.{name}", _check_layer_norm(getattr(layer, name), f"{where}.{name}",
                                                                    d_model)))
        act = _activation_name(layer.activation, where)
        if act != hidden_act:
            raise ValueError(f"{where} uses activation {act!r} but encoder.layers.0 uses {hidden_act!r}; "
                             "vecformer has one hidden_act for all layers")
        if bool(layer.norm_first) != norm_first:
            raise ValueError(f"{where} has norm_first={bool(layer.norm_first)} but encoder.layers.0 has "
                             f"norm_first={norm_first}; vecformer has one norm_first for all layers")

    final_norm = getattr(encoder, "norm", None)
    if final_norm is not None:
        eps_values.append(("encoder.norm", _check_layer_norm(final_norm, "encoder.norm", d_model)))
    eps = eps_values[0][1]
    for where, value in eps_values:
        if value != eps:
            raise ValueError(f"{where} has eps={value!r} but {eps_values[0][0]} has eps={eps!r}; vecformer uses "
                             "one layer_norm_eps for every LayerNorm")

    if embedding.embedding_dim != d_model:
        raise ValueError(f"embedding has embedding_dim={embedding.embedding_dim}, expected d_model={d_model}")
    if embedding.max_norm is not None:
        raise ValueError(f"embedding has max_norm={embedding.max_norm}: its lookups renormalize rows, which "
                         "vecformer does not do")
    positions = _position_tensor(positional, position_table, max_positions, d_model)

    tensors: Dict[str, np.ndarray] = {}
    tensors["embeddings.word_embeddings.weight"] = _tensor(embedding.weight, "embedding.weight")
    if positions is not None:
        tensors["embeddings.position_embeddings.weight"] = positions
    H = d_model
    for n, layer in enumerate(layers):
        where = f"encoder.layers.{n}"
        p = f"encoder.layer.{n}."
        in_weight = _tensor(layer.self_attn.in_proj_weight, where + ".self_attn.in_proj_weight")
        in_bias = _tensor(layer.self_attn.in_proj_bias, where + ".self_attn.in_proj_bias")
        for k, name in enumerate(("query", "key", "value")):  # PyTorch stacks q, k, v in this order
            tensors[p + f"attention.self.{name}.weight"] = in_weight[k * H:(k + 1) * H].copy()
            tensors[p + f"attention.self.{name}.bias"] = in_bias[k * H:(k + 1) * H].copy()
        for module, source, target in ((layer.self_attn.out_proj, "self_attn.out_proj", "attention.output.dense"),
                                       (layer.norm1, "norm1", "attention.output.LayerNorm"),
                                       (layer.linear1, "linear1", "intermediate.dense"),
                                       (layer.linear2, "linear2", "output.dense"),
                                       (layer.norm2, "norm2", "output.LayerNorm")):
            tensors[p + target + ".weight"] = _tensor(module.weight, f"{where}.{source}.weight")
            tensors[p + target + ".bias"] = _tensor(module.bias, f"{where}.{source}.bias")
    if final_norm is not None:
        tensors["encoder.LayerNorm.weight"] = _tensor(final_norm.weight, "encoder.norm.weight")
        tensors["encoder.LayerNorm.bias"] = _tensor(final_norm.bias, "encoder.norm.bias")

    config = {
        "model_type": "bert",
        "hidden_size": d_model,
        "num_attention_heads": nhead,
        "intermediate_size": dim_feedforward,
        "num_hidden_layers": len(layers),
        "hidden_act": hidden_act,
        "layer_norm_eps": eps,
        "vocab_size": embedding.num_embeddings,
        "max_position_embeddings": max_positions,
        "type_vocab_size": 0,
        "position_embedding_type": _POSITION_EMBEDDING_TYPE[positional],
        "norm_first": norm_first,
        "torch_dtype": "float32",
        "converted_from": "torch.nn.TransformerEncoder (tools/convert_torch.py)",
    }
    return config, tensors


def save_torch_encoder(out_dir: str, encoder: nn.TransformerEncoder, embedding: nn.Embedding,
                       positional: Optional[str] = "sinusoidal", max_positions: int = 512,
                       position_table: Any = None) -> Dict[str, Any]:
    """Writes out_dir/config.json and out_dir/model.safetensors (F32) for vecformer; returns the config.

    `vecformer run` on token ids then equals encoder(embedding(ids) + PE[:L], src_key_padding_mask=...) on
    the real tokens, in eval mode; see the module docstring. Raises ValueError (TypeError for arguments of
    the wrong type) before writing anything when the modules cannot be converted exactly.
    """
    config, tensors = convert_torch_encoder(encoder, embedding, positional, max_positions, position_table)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out_dir, "model.safetensors"),
                      {name: (values, "F32") for name, values in tensors.items()},
                      metadata={"format": "pt"})
    return config


# ---------------------------------------------------------------------------------------------------
# command line


def demo_modules(seed: int = 0) -> Tuple[nn.TransformerEncoder, nn.Embedding]:
    """A random pre-norm GELU encoder with a final norm (PyTorch's own initialisation), in eval mode."""
    torch.manual_seed(seed)
    d_model = 64
    layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=128, dropout=0.1, activation="gelu",
                                       batch_first=True, norm_first=True)
    encoder = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(d_model))
    for module in encoder.modules():  # clones start equal; give each LayerNorm its own affine values
        if isinstance(module, nn.LayerNorm):
            nn.init.normal_(module.weight, 1.0, 0.1)
            nn.init.normal_(module.bias, 0.0, 0.05)
    embedding = nn.Embedding(1000, d_model)
    return encoder.eval(), embedding


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Convert a torch.nn.TransformerEncoder + nn.Embedding to a vecformer model folder. "
                    "From Python: convert_torch.save_torch_encoder(out_dir, encoder, embedding, ...). "
                    "From the command line: --demo OUT_DIR saves a random encoder.")
    parser.add_argument("--demo", metavar="OUT_DIR", required=True,
                        help="build a random nn.TransformerEncoder (2 pre-norm GELU layers, d_model 64, 4 "
                             "heads, final norm) + nn.Embedding(1000, 64) and save it to OUT_DIR")
    parser.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the demo weights")
    args = parser.parse_args(argv)
    encoder, embedding = demo_modules(args.seed)
    config = save_torch_encoder(args.demo, encoder, embedding, positional="sinusoidal", max_positions=128)
    size = os.path.getsize(os.path.join(args.demo, "model.safetensors"))
    print(f"wrote {args.demo}: {config['num_hidden_layers']} layers, hidden {config['hidden_size']}, "
          f"{config['num_attention_heads']} heads, vocab {config['vocab_size']}, "
          f"{config['position_embedding_type']} positions up to {config['max_position_embeddings']}; "
          f"{size} bytes of safetensors")
    print(f"try: echo '1 2 3 4' | vecformer run --model {args.demo} --input -")
    return 0


if __name__ == "__main__":
    sys.exit(main())
