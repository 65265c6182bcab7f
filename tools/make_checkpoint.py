#!/usr/bin/python3
"""Random BERT-family checkpoints for vecformer's tests, and a float64 PyTorch reference forward pass.

Run with Debian's interpreter (/usr/bin/python3): it needs numpy, and torch for `reference_forward`.

    /usr/bin/python3 tools/make_checkpoint.py OUT_DIR --hidden 64 --heads 4 --layers 2 \
        --intermediate 128 --vocab 1000 --max-positions 128 --seed 0

writes OUT_DIR/config.json and OUT_DIR/model.safetensors in the Hugging Face `BertModel` layout. From
Python, `make_checkpoint(out_dir, **options)` does the same and returns `(config, weights)`: the config.json
dict, and every tensor as a float64 numpy array holding exactly the value stored in the file (so an F16 or
BF16 checkpoint's weights are the rounded ones), keyed by its name without the optional "bert." prefix.

Other families (`family=` / `--family`; the size options keep their BERT names for every family):

    --family roberta [--pad-token-id 1]      RobertaModel (or "xlm-roberta": XLMRobertaModel), see below
    --family distilbert [--sinusoidal-pos-embds]   DistilBertModel, see below
    --family modernbert | nomic_bert | new | jina  [--set KEY=JSON ...]
        ModernBertModel, NomicBertModel, NewModel (GTE v1.5), JinaBertModel (model_type bert with ALiBi
        and GEGLU): real config keys and tensor names, written by tools/modern_checkpoint.py, whose
        docstring documents them and the float64 reference; --set overrides a config.json key by its
        real name (e.g. --set local_attention=16 --set rotary_scaling_factor=2.0). The sizes come from
        --hidden --heads --layers --intermediate --vocab --max-positions.

and a sentence-transformers folder (modules.json, the Transformer module at the root or in a subfolder,
1_Pooling/config.json, optionally 2_Normalize), `make_sentence_transformers(out_dir, pooling=...,
normalize=..., transformer_subdir=..., **make_checkpoint options)`:

    /usr/bin/python3 tools/make_checkpoint.py OUT_DIR --sentence-transformers mean --normalize \
        [--transformer-subdir 0_Transformer] [other options as above]

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
    encoder.LayerNorm.weight / .bias                   [H]      optional (final_norm), after the last layer
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
    act = "gelu": exact erf GELU; "gelu_new" / "gelu_pytorch_tanh": tanh-approximate GELU; "relu";
    "silu": x·sigmoid(x).
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

RoBERTa / XLM-RoBERTa (model_type "roberta" / "xlm-roberta")
------------------------------------------------------------
config.json has BERT's keys (RobertaConfig) plus pad_token_id (default 1; here also bos 0, eos 2), and
usually type_vocab_size 1 and layer_norm_eps 1e-5 (this tool's defaults for the family). Tensors have
exactly BERT's names, with the optional prefix "roberta." (RobertaForX and XLMRobertaForX checkpoints).
The one semantic difference: positions are numbered from pad_token_id + 1, as Hugging Face's
create_position_ids_from_input_ids does for an unpadded sequence, so token p (0-based) adds
    pos[pad_token_id + 1 + p]
and the longest sequence is max_position_embeddings - pad_token_id - 1 (rows 0..pad_token_id of the
table are never used; this tool leaves them random, so an off-by-one shows).

DistilBERT (model_type "distilbert")
------------------------------------
config.json keys (DistilBertConfig): dim (= H), n_heads, hidden_dim (= I), n_layers, activation ("gelu"
or "relu"), vocab_size, max_position_embeddings, sinusoidal_pos_embds; layer_norm_eps is fixed at 1e-12
and there are no token types. The computation is post-norm BERT; the tensors are renamed:
    embeddings.word_embeddings.weight, embeddings.position_embeddings.weight, embeddings.LayerNorm.*
    transformer.layer.N.attention.q_lin / k_lin / v_lin / out_lin .weight/.bias   (query/key/value/output)
    transformer.layer.N.sa_layer_norm.weight/.bias                               (attention.output.LayerNorm)
    transformer.layer.N.ffn.lin1 / ffn.lin2 .weight/.bias                        (intermediate / output.dense)
    transformer.layer.N.output_layer_norm.weight/.bias                           (output.LayerNorm)
with the optional prefix "distilbert.". The position table is always in the checkpoint; with
sinusoidal_pos_embds it holds Hugging Face's create_sinusoidal_embeddings values, which equal PE above.

sentence-transformers folders, pooling and normalization
--------------------------------------------------------
modules.json lists sentence_transformers.models.Transformer (path "" or a subfolder holding config.json
and model.safetensors), Pooling (path "1_Pooling", whose config.json has exactly one of
pooling_mode_{cls_token, mean_tokens, max_tokens, mean_sqrt_len_tokens} true) and optionally Normalize
("2_Normalize"). For a sequence's last hidden state x [L, H] (`reference_pool`, `reference_normalize`):
    cls            x[0]
    mean           sum_p x[p] / L
    max            max_p x[p]          (element-wise)
    mean_sqrt_len  sum_p x[p] / sqrt(L)
    Normalize      v / max(||v||_2, 1e-12)  (applied to each token's vector when there is no pooling)

Task heads (`make_task_checkpoint(out_dir, architecture=..., ...)`, or `--architecture NAME`)
--------------------------------------------------------------------------------------------
A Hugging Face task checkpoint: config.json's `architectures` names the head; the encoder's tensors carry
the family prefix ("bert.", "roberta.", "distilbert.") unless `prefix=""` is asked for, the head's tensors
never do (except BERT's pooler, which belongs to the encoder). `labels` (id2label, label2id),
`problem_type` and `tied` (the masked-LM decoder left out and tied to the word embeddings, as Hugging Face
saves it, or stored) are options. `reference_head` computes the head in float64 from last hidden states:
    BertForSequenceClassification        classifier(tanh(pooler.dense(h[0])))
    (XLM)RobertaForSequenceClassification classifier.out_proj(tanh(classifier.dense(h[0])))
    DistilBertForSequenceClassification  classifier(relu(pre_classifier(h[0])))
    *ForTokenClassification              classifier(h[t]) for every token t
    BertForMaskedLM        decoder(LN(act(cls.predictions.transform.dense(h[t])))) + cls.predictions.bias
    (XLM)RobertaForMaskedLM decoder(LN(gelu(lm_head.dense(h[t])))) + lm_head.bias
    DistilBertForMaskedLM  vocab_projector(LN(act(vocab_transform(h[t]))))  (vocab_projector has the bias)
with act the encoder's activation (erf GELU for RoBERTa whatever hidden_act), LN the head's LayerNorm
(cls.predictions.transform.LayerNorm, lm_head.layer_norm with layer_norm_eps; vocab_layer_norm with 1e-12),
and the decoder weight the word embeddings when tied.
ModernBERT (encoder prefix "model."; config options by their real names, e.g. classifier_pooling="mean",
classifier_activation, classifier_bias, norm_bias, decoder_bias), with
head(x) = head.norm(act(head.dense(x))) (ModernBertPredictionHead: act = classifier_activation, head.dense's
bias per classifier_bias, head.norm's per norm_bias, eps norm_eps):
    ModernBertForSequenceClassification  classifier(head(pool(h))), pool per classifier_pooling:
                                         "cls" h[0], "mean" the mean over the sequence's tokens
    ModernBertForTokenClassification     classifier(head(h[t])) for every token t
    ModernBertForMaskedLM                decoder(head(h[t])) + decoder.bias (decoder_bias), the decoder
                                         weight model.embeddings.tok_embeddings when tied

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

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__ when run as a script
import modern_checkpoint as modern  # noqa: E402  (tools/ is on sys.path wherever this module is)

ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu")
POSITION_TYPES = ("absolute", "sinusoidal")
DTYPES = ("F32", "F16", "BF16")
FAMILIES = ("bert", "roberta", "xlm-roberta", "distilbert")
# The prefix Hugging Face's task models (BertForX, RobertaForX, ...) put in front of every tensor name.
FAMILY_PREFIX = {"bert": "bert.", "roberta": "roberta.", "xlm-roberta": "roberta.",
                 "distilbert": "distilbert.", "modernbert": "model.", "new": "new.", "nomic_bert": "bert."}
DISTILBERT_ACTIVATIONS = ("gelu", "relu")
POOLING_MODES = ("cls", "mean", "max", "mean_sqrt_len")
_POOLING_KEYS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens",
                 "max": "pooling_mode_max_tokens", "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens"}
_ST_PREFIX = "sentence_transformers.models."
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


def make_config(*, family: str = "bert", hidden_size: int = 64, num_attention_heads: int = 4,
                intermediate_size: int = 128, num_hidden_layers: int = 2, hidden_act: str = "gelu",
                layer_norm_eps: float | None = None, vocab_size: int = 1000,
                max_position_embeddings: int = 128, type_vocab_size: int | None = None,
                position_embedding_type: str = "absolute", norm_first: bool = False,
                pad_token_id: int | None = None, sinusoidal_pos_embds: bool = False,
                torch_dtype: str = "float32") -> Dict[str, Any]:
    """The config.json dict of `family`, validated.

    "bert": BertConfig keys plus vecformer's norm_first. "roberta" / "xlm-roberta": the same keys plus
    pad_token_id (default 1), bos/eos ids; type_vocab_size defaults to 1 and layer_norm_eps to 1e-5.
    "distilbert": DistilBertConfig keys (dim, n_heads, hidden_dim, n_layers, activation,
    sinusoidal_pos_embds, ...) from the same arguments; layer_norm_eps must be 1e-12 (or None), there are
    no token types, no norm_first, and position_embedding_type must be "absolute" (the table is always in
    the checkpoint). None means the family's default.
    """
    if family not in FAMILIES:
        raise ValueError(f"family {family!r} not in {FAMILIES}")
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
    if sinusoidal_pos_embds and family != "distilbert":
        raise ValueError("sinusoidal_pos_embds is a distilbert option (use position_embedding_type "
                         "\"sinusoidal\" for bert)")

    if family == "distilbert":
        if hidden_act not in DISTILBERT_ACTIVATIONS:
            raise ValueError(f"distilbert activation {hidden_act!r} not in {DISTILBERT_ACTIVATIONS}")
        if layer_norm_eps not in (None, 1e-12):
            raise ValueError(f"distilbert's layer_norm_eps is fixed at 1e-12, got {layer_norm_eps}")
        if type_vocab_size not in (None, 0):
            raise ValueError(f"distilbert has no token types, got type_vocab_size {type_vocab_size}")
        if norm_first:
            raise ValueError("distilbert layers are post-norm (norm_first must be false)")
        if position_embedding_type != "absolute":
            raise ValueError("distilbert always stores its position table: use sinusoidal_pos_embds "
                             "instead of position_embedding_type")
        return {
            "architectures": ["DistilBertModel"],
            "model_type": "distilbert",
            "activation": hidden_act,
            "dim": hidden_size,
            "n_heads": num_attention_heads,
            "hidden_dim": intermediate_size,
            "n_layers": num_hidden_layers,
            "vocab_size": vocab_size,
            "max_position_embeddings": max_position_embeddings,
            "sinusoidal_pos_embds": bool(sinusoidal_pos_embds),
            "dropout": 0.0,
            "attention_dropout": 0.0,
            "initializer_range": 0.02,
            "pad_token_id": 0 if pad_token_id is None else pad_token_id,
            "tie_weights_": True,
            "torch_dtype": torch_dtype,
        }

    roberta = family in ("roberta", "xlm-roberta")
    if type_vocab_size is None:
        type_vocab_size = 1 if roberta else 2
    if layer_norm_eps is None:
        layer_norm_eps = 1e-5 if roberta else 1e-12
    if pad_token_id is None:
        pad_token_id = 1 if roberta else 0
    if type_vocab_size < 0:
        raise ValueError(f"type_vocab_size must be >= 0, got {type_vocab_size}")
    if pad_token_id < 0:
        raise ValueError(f"pad_token_id must be >= 0, got {pad_token_id}")
    if roberta and max_position_embeddings <= pad_token_id + 1:
        raise ValueError(f"max_position_embeddings {max_position_embeddings} leaves no positions after "
                         f"pad_token_id + 1 = {pad_token_id + 1}")
    config: Dict[str, Any] = {
        "architectures": [{"bert": "BertModel", "roberta": "RobertaModel",
                           "xlm-roberta": "XLMRobertaModel"}[family]],
        "model_type": family,
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
        "pad_token_id": pad_token_id,
        "torch_dtype": torch_dtype,
    }
    if roberta:
        config["bos_token_id"] = 0
        config["eos_token_id"] = 2
        if not norm_first:  # a real RobertaConfig has no norm_first; vecformer's default applies
            del config["norm_first"]
    return config


def make_checkpoint(out_dir: str, *, seed: int = 0, dtype: str = "F32", prefix: str = "",
                    embedding_norm: bool = True, final_norm: bool = False, pooler: bool = False,
                    family: str = "bert", **config_options: Any) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """Writes out_dir/config.json and out_dir/model.safetensors; returns (config, weights).

    config_options are make_config's keyword arguments (hidden_size, num_attention_heads, ...,
    pad_token_id for roberta, sinusoidal_pos_embds for distilbert); `family` picks the config keys and
    tensor names (see the module docstring). weights maps each tensor name *without* `prefix` to a float64
    array equal to the stored value. The same seed and sizes give the same values in every family.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} not in {DTYPES}")
    if family in modern.MODERN_FAMILIES:
        return modern.make_modern_checkpoint(out_dir, family, seed=seed, dtype=dtype, prefix=prefix,
                                             **config_options)
    config = make_config(family=family, torch_dtype=_TORCH_DTYPE_NAME[dtype], **config_options)
    rng = np.random.default_rng(seed)
    if family == "distilbert":
        if final_norm or pooler:
            raise ValueError("distilbert checkpoints have no encoder.LayerNorm and no pooler")
        raw = distilbert_names(_random_weights(bert_config(config), rng, embedding_norm, False, False))
        if config["sinusoidal_pos_embds"]:
            raw["embeddings.position_embeddings.weight"] = sinusoidal_table(
                config["max_position_embeddings"], config["dim"])
    else:
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


def make_sentence_transformers(out_dir: str, *, pooling: str | Sequence[str] = "mean",
                               normalize: bool = False, transformer_subdir: str = "",
                               **checkpoint_options: Any) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """Writes a sentence-transformers folder; returns make_checkpoint's (config, weights).

    out_dir/modules.json lists the Transformer module (path `transformer_subdir`, "" = out_dir itself,
    which then holds config.json + model.safetensors written by make_checkpoint(**checkpoint_options)),
    the Pooling module (out_dir/1_Pooling/config.json with `pooling`'s mode true, every other mode false;
    a sequence of modes sets several true, which sentence-transformers concatenates and vecformer
    rejects) and, when `normalize`, the Normalize module (an empty out_dir/2_Normalize, as
    sentence-transformers saves it).
    """
    modes = [pooling] if isinstance(pooling, str) else list(pooling)
    for mode in modes:
        if mode not in POOLING_MODES:
            raise ValueError(f"pooling {mode!r} not in {POOLING_MODES}")
    if os.path.isabs(transformer_subdir) or ".." in transformer_subdir.split("/"):
        raise ValueError(f"transformer_subdir {transformer_subdir!r} must be a relative path inside out_dir")
    transformer_dir = os.path.join(out_dir, transformer_subdir) if transformer_subdir else out_dir
    config, weights = make_checkpoint(transformer_dir, **checkpoint_options)
    hidden = config["n_embd"] if "n_embd" in config else bert_config(config)["hidden_size"]

    with open(os.path.join(transformer_dir, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": max_sequence_length(config), "do_lower_case": False}, f, indent=2)
        f.write("\n")
    modules = [{"idx": 0, "name": "0", "path": transformer_subdir, "type": _ST_PREFIX + "Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": _ST_PREFIX + "Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": _ST_PREFIX + "Normalize"})
        os.makedirs(os.path.join(out_dir, "2_Normalize"), exist_ok=True)
    with open(os.path.join(out_dir, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
        f.write("\n")
    # Every key sentence-transformers 2.x writes; the ones vecformer does not support stay false.
    pooling_config: Dict[str, Any] = {"word_embedding_dimension": hidden}
    for mode, key in _POOLING_KEYS.items():
        pooling_config[key] = mode in modes
    pooling_config.update({"pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False,
                           "include_prompt": True})
    os.makedirs(os.path.join(out_dir, "1_Pooling"), exist_ok=True)
    with open(os.path.join(out_dir, "1_Pooling", "config.json"), "w") as f:
        json.dump(pooling_config, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "config_sentence_transformers.json"), "w") as f:
        json.dump({"__version__": {"sentence_transformers": "2.2.2"}}, f, indent=2)
        f.write("\n")
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


def model_family(config: Dict[str, Any]) -> str:
    family = config.get("model_type", "bert")
    if family not in FAMILIES + ("modernbert", "nomic_bert", "new"):
        raise ValueError(f"model_type {family!r} not in {FAMILIES}")
    return family


# DistilBERT's per-layer tensor names and their BERT equivalents (suffixes after the layer prefix).
_DISTILBERT_LAYER_NAMES = (
    ("attention.q_lin", "attention.self.query"),
    ("attention.k_lin", "attention.self.key"),
    ("attention.v_lin", "attention.self.value"),
    ("attention.out_lin", "attention.output.dense"),
    ("sa_layer_norm", "attention.output.LayerNorm"),
    ("ffn.lin1", "intermediate.dense"),
    ("ffn.lin2", "output.dense"),
    ("output_layer_norm", "output.LayerNorm"),
)


def _rename_layers(weights: Dict[str, np.ndarray], source_prefix: str, target_prefix: str,
                   pairs: Sequence[Tuple[str, str]]) -> Dict[str, np.ndarray]:
    out: Dict[str, np.ndarray] = {}
    for name, value in weights.items():
        new_name = name
        if name.startswith(source_prefix):
            n, rest = name[len(source_prefix):].split(".", 1)
            for source, target in pairs:
                if rest.startswith(source + "."):
                    new_name = f"{target_prefix}{n}.{target}{rest[len(source):]}"
                    break
            else:
                raise ValueError(f"tensor {name!r} has no counterpart in the other layout")
        out[new_name] = value
    return out


def distilbert_names(weights: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """BERT-named (unprefixed) tensors renamed to DistilBERT's names; embeddings keep theirs."""
    if "embeddings.token_type_embeddings.weight" in weights or "encoder.LayerNorm.weight" in weights:
        raise ValueError("distilbert has no token-type table and no encoder.LayerNorm")
    return _rename_layers(weights, "encoder.layer.", "transformer.layer.",
                          [(bert, distilbert) for distilbert, bert in _DISTILBERT_LAYER_NAMES])


def bert_names(weights: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Inverse of distilbert_names."""
    return _rename_layers(weights, "transformer.layer.", "encoder.layer.", _DISTILBERT_LAYER_NAMES)


def bert_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """Any family's config.json dict as the BERT keys reference_forward computes with (a copy).

    DistilBERT's keys are translated (layer_norm_eps 1e-12, type_vocab_size 0, a learned table, which
    holds the sinusoids when sinusoidal_pos_embds); BERT's and RoBERTa's are already BERT keys.
    """
    if model_family(config) != "distilbert":
        return dict(config)
    return {
        "model_type": "distilbert",
        "hidden_size": config["dim"],
        "num_attention_heads": config["n_heads"],
        "intermediate_size": config["hidden_dim"],
        "num_hidden_layers": config["n_layers"],
        "hidden_act": config.get("activation", "gelu"),
        "layer_norm_eps": 1e-12,
        "vocab_size": config["vocab_size"],
        "max_position_embeddings": config["max_position_embeddings"],
        "type_vocab_size": 0,
        "position_embedding_type": "absolute",
        "norm_first": False,
    }


def position_offset(config: Dict[str, Any]) -> int:
    """Row of the position table used by a sequence's first token: pad_token_id + 1 for RoBERTa."""
    if modern.modern_family(config):
        return 0
    if model_family(config) in ("roberta", "xlm-roberta"):
        return int(config.get("pad_token_id", 1)) + 1
    return 0


def max_sequence_length(config: Dict[str, Any]) -> int:
    """The longest sequence the model takes: max_position_embeddings - position_offset(config)."""
    positions = config["n_positions"] if "n_positions" in config else config["max_position_embeddings"]
    return int(positions) - position_offset(config)


def bert_weights(weights: Dict[str, np.ndarray], config: Dict[str, Any]) -> Dict[str, np.ndarray]:
    """Any family's tensors (family prefix tolerated) under BERT's unprefixed names."""
    family = model_family(config)
    unprefixed = strip_prefix(weights, FAMILY_PREFIX[family])
    return bert_names(unprefixed) if family == "distilbert" else unprefixed


def reference_forward(weights: Dict[str, np.ndarray], config: Dict[str, Any],
                      sequences: Iterable[Any]) -> List[np.ndarray]:
    """The last hidden state of each sequence as a float64 [L, H] numpy array.

    Plain torch float64 ops, one sequence at a time (so no padding and no mask); see the module docstring
    for the semantics. `weights` and `config` as returned by make_checkpoint for any family (the family's
    prefix, e.g. "bert.", is tolerated); the family is config["model_type"] (default "bert").
    """
    if modern.modern_family(config):
        return modern.modern_reference_forward(weights, config, sequences)
    import torch
    import torch.nn.functional as F

    w = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in bert_weights(weights, config).items()}
    offset = position_offset(config)
    longest = max_sequence_length(config)
    config = bert_config(config)
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
    elif act_name in ("silu", "swish"):
        act = F.silu
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
        if L == 0 or L > longest:
            raise ValueError(f"sequence length {L} outside 1..{longest}")
        x = w["embeddings.word_embeddings.weight"][torch.as_tensor(ids, dtype=torch.long)]
        x = x + positions[offset:offset + L]
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
        if "encoder.LayerNorm.weight" in w:
            x = norm(x, "encoder.LayerNorm")
        outputs.append(x.numpy())
    return outputs


# ---------------------------------------------------------------------------------------------------
# task heads

HEAD_ARCHITECTURES = {
    "BertForSequenceClassification": ("bert", "sequence"),
    "BertForTokenClassification": ("bert", "token"),
    "BertForMaskedLM": ("bert", "masked_lm"),
    "RobertaForSequenceClassification": ("roberta", "sequence"),
    "RobertaForTokenClassification": ("roberta", "token"),
    "RobertaForMaskedLM": ("roberta", "masked_lm"),
    "XLMRobertaForSequenceClassification": ("xlm-roberta", "sequence"),
    "XLMRobertaForTokenClassification": ("xlm-roberta", "token"),
    "XLMRobertaForMaskedLM": ("xlm-roberta", "masked_lm"),
    "DistilBertForSequenceClassification": ("distilbert", "sequence"),
    "DistilBertForTokenClassification": ("distilbert", "token"),
    "DistilBertForMaskedLM": ("distilbert", "masked_lm"),
    "ModernBertForSequenceClassification": ("modernbert", "sequence"),
    "ModernBertForTokenClassification": ("modernbert", "token"),
    "ModernBertForMaskedLM": ("modernbert", "masked_lm"),
    # BERT's pooler (dense + tanh on the first token) and classifier under the family's prefix.
    "NewForSequenceClassification": ("new", "sequence"),
    "NewForTokenClassification": ("new", "token"),
    "NomicBertForSequenceClassification": ("nomic_bert", "sequence"),
}
POOLER_FAMILIES = ("bert", "new", "nomic_bert")  # sequence heads of BertPooler + classifier


def _head_weights(architecture: str, config: Dict[str, Any], num_labels: int, tied: bool,
                  rng: np.random.Generator, encoder_prefix: str) -> Dict[str, np.ndarray]:
    """The head's tensors under their stored names (the pooler under the encoder prefix)."""
    family, kind = HEAD_ARCHITECTURES[architecture]
    H = {"distilbert": "dim", "nomic_bert": "n_embd"}.get(family, "hidden_size")
    H = config[H]
    V = config["vocab_size"]
    w: Dict[str, np.ndarray] = {}

    def linear(name, out_features, in_features, gain=1.0, bias=True):
        w[name + ".weight"] = rng.normal(0.0, gain / math.sqrt(in_features), size=(out_features, in_features))
        if bias:
            w[name + ".bias"] = rng.normal(0.0, 0.05, size=(out_features,))

    def norm(name, bias=True):
        w[name + ".weight"] = 1.0 + rng.normal(0.0, 0.1, size=(H,))
        if bias:
            w[name + ".bias"] = rng.normal(0.0, 0.05, size=(H,))

    if family == "modernbert":
        # ModernBertPredictionHead, then classifier (nn.Linear: always a bias) or decoder.
        linear("head.dense", H, H, gain=1.5, bias=config.get("classifier_bias", False))
        norm("head.norm", bias=config.get("norm_bias", False))
        if kind == "masked_lm":
            if not tied:
                w["decoder.weight"] = rng.normal(0.0, 1.0 / math.sqrt(H), size=(V, H))
            if config.get("decoder_bias", True):
                w["decoder.bias"] = rng.normal(0.0, 0.5, size=(V,))
        else:
            linear("classifier", num_labels, H, gain=2.0)
    elif kind == "sequence":
        if family in POOLER_FAMILIES:
            linear(encoder_prefix + "pooler.dense", H, H, gain=1.5)
            linear("classifier", num_labels, H, gain=2.0)
        elif family == "distilbert":
            linear("pre_classifier", H, H, gain=1.5)
            linear("classifier", num_labels, H, gain=2.0)
        else:
            linear("classifier.dense", H, H, gain=1.5)
            linear("classifier.out_proj", num_labels, H, gain=2.0)
    elif kind == "token":
        linear("classifier", num_labels, H, gain=2.0)
    else:
        dense, ln, decoder, bias = {
            "bert": ("cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm",
                     "cls.predictions.decoder", "cls.predictions.bias"),
            "roberta": ("lm_head.dense", "lm_head.layer_norm", "lm_head.decoder", "lm_head.bias"),
            "xlm-roberta": ("lm_head.dense", "lm_head.layer_norm", "lm_head.decoder", "lm_head.bias"),
            "distilbert": ("vocab_transform", "vocab_layer_norm", "vocab_projector",
                           "vocab_projector.bias"),
        }[family]
        linear(dense, H, H, gain=1.5)
        norm(ln)
        if not tied:
            w[decoder + ".weight"] = rng.normal(0.0, 1.0 / math.sqrt(H), size=(V, H))
        w[bias] = rng.normal(0.0, 0.5, size=(V,))
    return w


def make_task_checkpoint(out_dir: str, *, architecture: str, seed: int = 0, dtype: str = "F32",
                         prefix: str | None = None, num_labels: int = 3,
                         labels: Dict[int, str] | None = None, problem_type: str | None = None,
                         tied: bool = True, **options: Any) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """A Hugging Face task checkpoint of `architecture` (see HEAD_ARCHITECTURES) in out_dir.

    prefix: the encoder's tensor prefix (None: the family's, e.g. "bert."; "" for none). labels:
    id2label as written (None: LABEL_0 ... for num_labels; {} leaves id2label out). Returns (config,
    weights): weights holds the encoder's tensors without prefix and the head's under their stored names
    (the pooler as "pooler.dense.*"), each as stored."""
    family, kind = HEAD_ARCHITECTURES[architecture]
    if prefix is None:
        prefix = FAMILY_PREFIX[family]
    if labels:
        num_labels = len(labels)
    config, weights = make_checkpoint(out_dir, seed=seed, dtype=dtype, prefix=prefix, family=family,
                                      **options)
    rng = np.random.default_rng(seed + 7919)
    head = {name: round_to_dtype(values, dtype)
            for name, values in _head_weights(architecture, config, num_labels, tied, rng, prefix).items()}
    config["architectures"] = [architecture]
    if kind != "masked_lm":
        if labels is None:
            labels = {i: f"LABEL_{i}" for i in range(num_labels)}
        if labels:
            config["id2label"] = {str(i): name for i, name in labels.items()}
            config["label2id"] = {name: i for i, name in labels.items()}
        if problem_type is not None:
            config["problem_type"] = problem_type
    if kind == "masked_lm" and not tied:
        config["tie_word_embeddings"] = False
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    stored = {prefix + name: (values, dtype) for name, values in weights.items()}
    stored.update({name: (values, dtype) for name, values in head.items()})
    write_safetensors(os.path.join(out_dir, "model.safetensors"), stored, metadata={"format": "pt"})
    all_weights = dict(weights)
    all_weights.update({(name[len(prefix):] if prefix and name.startswith(prefix) else name): values
                        for name, values in head.items()})
    return config, all_weights


def reference_head(weights: Dict[str, np.ndarray], config: Dict[str, Any], hidden: np.ndarray,
                   positions: Sequence[int] | None = None) -> np.ndarray:
    """The float64 logits of config's head (architectures[0]) on one sequence's last hidden states
    [L, H]: [labels] for sequence classification, [L, labels] for token classification, [len(positions),
    vocab] for masked LM (positions: the rows to decode)."""
    import torch
    import torch.nn.functional as F

    architecture = config["architectures"][0]
    family, kind = HEAD_ARCHITECTURES[architecture]
    w = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in weights.items()}
    h = torch.as_tensor(hidden, dtype=torch.float64)

    def linear(x, name):
        return F.linear(x, w[name + ".weight"], w[name + ".bias"] if name + ".bias" in w else None)

    if family == "modernbert":
        return _reference_modernbert_head(w, config, kind, h, positions)
    if kind == "sequence":
        x = h[0]
        if family in POOLER_FAMILIES:
            return linear(torch.tanh(linear(x, "pooler.dense")), "classifier").numpy()
        if family == "distilbert":
            return linear(F.relu(linear(x, "pre_classifier")), "classifier").numpy()
        return linear(torch.tanh(linear(x, "classifier.dense")), "classifier.out_proj").numpy()
    if kind == "token":
        return linear(h, "classifier").numpy()
    x = h[list(positions)]
    act_name = config.get("activation" if family == "distilbert" else "hidden_act", "gelu")
    if family in ("roberta", "xlm-roberta") or act_name == "gelu":
        act = lambda t: F.gelu(t, approximate="none")  # noqa: E731
    elif act_name in ("gelu_new", "gelu_pytorch_tanh"):
        act = lambda t: F.gelu(t, approximate="tanh")  # noqa: E731
    else:
        act = F.relu
    H = x.shape[-1]
    word = w["embeddings.word_embeddings.weight"]
    if family == "bert":
        x = act(linear(x, "cls.predictions.transform.dense"))
        x = F.layer_norm(x, (H,), w["cls.predictions.transform.LayerNorm.weight"],
                         w["cls.predictions.transform.LayerNorm.bias"], float(config["layer_norm_eps"]))
        decoder = w.get("cls.predictions.decoder.weight", word)
        return (x @ decoder.T + w["cls.predictions.bias"]).numpy()
    if family == "distilbert":
        x = act(linear(x, "vocab_transform"))
        x = F.layer_norm(x, (H,), w["vocab_layer_norm.weight"], w["vocab_layer_norm.bias"], 1e-12)
        decoder = w.get("vocab_projector.weight", word)
        return (x @ decoder.T + w["vocab_projector.bias"]).numpy()
    x = act(linear(x, "lm_head.dense"))
    x = F.layer_norm(x, (H,), w["lm_head.layer_norm.weight"], w["lm_head.layer_norm.bias"],
                     float(config["layer_norm_eps"]))
    decoder = w.get("lm_head.decoder.weight", word)
    return (x @ decoder.T + w["lm_head.bias"]).numpy()


def _reference_modernbert_head(w, config: Dict[str, Any], kind: str, h, positions) -> np.ndarray:
    """ModernBertFor{SequenceClassification, TokenClassification, MaskedLM} on [L, H] float64 states
    (transformers models/modernbert/modeling_modernbert.py): head = norm(act(dense(x))) with
    ModernBertPredictionHead's head.dense (bias: classifier_bias), ACT2FN[classifier_activation] and
    head.norm (norm_eps, bias: norm_bias); sequence classification pools first (classifier_pooling "cls":
    h[0]; "mean": the mean over the sequence's tokens), then classifier(head(x)); token classification
    classifier(head(h[t])); masked LM decoder(head(h[t])) + decoder.bias, the decoder weight
    model.embeddings.tok_embeddings when tied."""
    import torch
    import torch.nn.functional as F

    name = config.get("classifier_activation", "gelu")
    if name is None:
        name = config.get("hidden_activation", "gelu")
    act = torch.tanh if name == "tanh" else modern._activation(name)
    H = h.shape[-1]

    def head(x):
        x = act(F.linear(x, w["head.dense.weight"], w.get("head.dense.bias")))
        return F.layer_norm(x, (H,), w["head.norm.weight"], w.get("head.norm.bias"),
                            float(config.get("norm_eps", 1e-5)))

    if kind == "sequence":
        pooling = config.get("classifier_pooling", "cls")
        x = h[0] if pooling == "cls" else h.sum(dim=0) / h.shape[0]
        return F.linear(head(x), w["classifier.weight"], w["classifier.bias"]).numpy()
    if kind == "token":
        return F.linear(head(h), w["classifier.weight"], w["classifier.bias"]).numpy()
    decoder = w.get("decoder.weight", w["embeddings.tok_embeddings.weight"])
    return F.linear(head(h[list(positions)]), decoder, w.get("decoder.bias")).numpy()


def reference_normalize(x: np.ndarray) -> np.ndarray:
    """Each row (last axis) divided by max(its L2 norm, 1e-12), in float64."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def reference_pool(hidden_states: Sequence[np.ndarray], pooling: str) -> np.ndarray:
    """[N, H] float64: each [L, H] hidden state pooled by `pooling` (one of POOLING_MODES)."""
    pooled = []
    for x in hidden_states:
        x = np.asarray(x, dtype=np.float64)
        if pooling == "cls":
            pooled.append(x[0])
        elif pooling == "mean":
            pooled.append(x.sum(axis=0) / x.shape[0])
        elif pooling == "max":
            pooled.append(x.max(axis=0))
        elif pooling == "mean_sqrt_len":
            pooled.append(x.sum(axis=0) / math.sqrt(x.shape[0]))
        else:
            raise ValueError(f"pooling {pooling!r} not in {POOLING_MODES}")
    return np.stack(pooled)


def reference_embed(weights: Dict[str, np.ndarray], config: Dict[str, Any], sequences: Iterable[Any],
                    pooling: str = "none", normalize: bool = False) -> np.ndarray | List[np.ndarray]:
    """reference_forward followed by pooling and normalization, as `vecformer run` does.

    pooling "none": the list of [L, H] hidden states (each token's vector normalized when `normalize`);
    otherwise the pooled [N, H] array (each row normalized when `normalize`).
    """
    hidden = reference_forward(weights, config, sequences)
    if pooling == "none":
        return [reference_normalize(h) for h in hidden] if normalize else hidden
    pooled = reference_pool(hidden, pooling)
    return reference_normalize(pooled) if normalize else pooled


# ---------------------------------------------------------------------------------------------------
# command line


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a random BertModel checkpoint folder "
                                                 "(config.json + model.safetensors), or a RoBERTa / "
                                                 "DistilBERT one, or a sentence-transformers folder.")
    parser.add_argument("out_dir")
    parser.add_argument("--family", choices=FAMILIES + modern.MODERN_FAMILIES, default="bert",
                        help="config keys and tensor names (the size options keep their BERT names)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="modern families (and their --architecture): set config.json's KEY to "
                             "the JSON value")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--intermediate", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=1000)
    parser.add_argument("--max-positions", type=int, default=128)
    parser.add_argument("--type-vocab", type=int, default=None,
                        help="type_vocab_size (default 2; roberta 1; distilbert has none)")
    parser.add_argument("--act", choices=ACTIVATIONS, default="gelu")
    parser.add_argument("--eps", type=float, default=None,
                        help="layer_norm_eps (default 1e-12; roberta 1e-5; fixed for distilbert)")
    parser.add_argument("--position", choices=POSITION_TYPES, default="absolute",
                        help="position_embedding_type")
    parser.add_argument("--norm-first", action="store_true", help="pre-norm layers")
    parser.add_argument("--no-embedding-norm", action="store_true",
                        help="leave out embeddings.LayerNorm")
    parser.add_argument("--final-norm", action="store_true", help="add encoder.LayerNorm")
    parser.add_argument("--pooler", action="store_true", help="add pooler.dense (ignored by vecformer)")
    parser.add_argument("--prefix", default="", help='prefix every tensor name, e.g. "bert."')
    parser.add_argument("--pad-token-id", type=int, default=None,
                        help="pad_token_id (roberta: positions start at pad_token_id + 1; default 1)")
    parser.add_argument("--sinusoidal-pos-embds", action="store_true",
                        help="distilbert: fill the position table with sinusoids")
    parser.add_argument("--sentence-transformers", choices=POOLING_MODES, metavar="POOLING",
                        help="write a sentence-transformers folder with this pooling mode "
                             f"({', '.join(POOLING_MODES)})")
    parser.add_argument("--normalize", action="store_true",
                        help="with --sentence-transformers: add the Normalize module")
    parser.add_argument("--transformer-subdir", default="",
                        help="with --sentence-transformers: the Transformer module's subfolder "
                             "(default: the folder itself)")
    parser.add_argument("--dtype", choices=DTYPES, default="F32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--architecture", choices=sorted(HEAD_ARCHITECTURES),
                        help="write a task checkpoint with this head (implies its family; the encoder "
                             "prefix is the family's unless --prefix is given)")
    parser.add_argument("--num-labels", type=int, default=3, help="with --architecture: classifier outputs")
    parser.add_argument("--labels", default=None,
                        help="with --architecture: id2label as comma-separated names in id order")
    parser.add_argument("--untied", action="store_true",
                        help="with a masked-LM --architecture: store the decoder (tie_word_embeddings false)")
    args = parser.parse_args(argv)
    if (args.normalize or args.transformer_subdir) and not args.sentence_transformers:
        parser.error("--normalize and --transformer-subdir need --sentence-transformers")
    options: Dict[str, Any] = dict(
        seed=args.seed, dtype=args.dtype, prefix=args.prefix, family=args.family,
        embedding_norm=not args.no_embedding_norm, final_norm=args.final_norm, pooler=args.pooler,
        hidden_size=args.hidden, num_attention_heads=args.heads, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, hidden_act=args.act, layer_norm_eps=args.eps,
        vocab_size=args.vocab, max_position_embeddings=args.max_positions,
        type_vocab_size=args.type_vocab, position_embedding_type=args.position,
        norm_first=args.norm_first, pad_token_id=args.pad_token_id,
        sinusoidal_pos_embds=args.sinusoidal_pos_embds)
    transformer_dir = args.out_dir
    try:
        if args.family in modern.MODERN_FAMILIES:
            overrides: Dict[str, Any] = {}
            for item in args.set:
                key, _, value = item.partition("=")
                overrides[key] = json.loads(value)
            config, weights = modern.make_modern_checkpoint(
                args.out_dir, args.family, seed=args.seed, dtype=args.dtype, prefix=args.prefix,
                hidden_size=args.hidden, num_attention_heads=args.heads,
                intermediate_size=args.intermediate, num_hidden_layers=args.layers,
                vocab_size=args.vocab, max_position_embeddings=args.max_positions, **overrides)
        elif args.architecture and HEAD_ARCHITECTURES[args.architecture][0] in modern.MODERN_FAMILIES:
            overrides = {}
            for item in args.set:
                key, _, value = item.partition("=")
                overrides[key] = json.loads(value)
            labels = dict(enumerate(args.labels.split(","))) if args.labels else None
            config, weights = make_task_checkpoint(
                args.out_dir, architecture=args.architecture, num_labels=args.num_labels, labels=labels,
                tied=not args.untied, seed=args.seed, dtype=args.dtype,
                **({"prefix": args.prefix} if args.prefix else {}),
                hidden_size=args.hidden, num_attention_heads=args.heads,
                intermediate_size=args.intermediate, num_hidden_layers=args.layers,
                vocab_size=args.vocab, max_position_embeddings=args.max_positions, **overrides)
        elif args.architecture:
            options.pop("family")
            if not args.prefix:
                options.pop("prefix")
            labels = dict(enumerate(args.labels.split(","))) if args.labels else None
            config, weights = make_task_checkpoint(args.out_dir, architecture=args.architecture,
                                                   num_labels=args.num_labels, labels=labels,
                                                   tied=not args.untied, **options)
        elif args.sentence_transformers:
            config, weights = make_sentence_transformers(
                args.out_dir, pooling=args.sentence_transformers, normalize=args.normalize,
                transformer_subdir=args.transformer_subdir, **options)
            transformer_dir = os.path.join(args.out_dir, args.transformer_subdir)
        else:
            config, weights = make_checkpoint(args.out_dir, **options)
    except ValueError as e:
        print(f"make_checkpoint.py: error: {e}", file=sys.stderr)
        return 2
    size = os.path.getsize(os.path.join(transformer_dir, "model.safetensors"))
    what = f"{config['model_type']}"
    if args.sentence_transformers:
        what += f", sentence-transformers {args.sentence_transformers} pooling" + \
            (" + Normalize" if args.normalize else "")
    print(f"wrote {args.out_dir} ({what}): {len(weights)} tensors, {size} bytes of safetensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
