#!/usr/bin/python3
"""Random checkpoints of the modern encoder families, and their float64 PyTorch reference forward passes.

Used through tools/make_checkpoint.py (`--family modernbert|nomic_bert|new|jina`, or
`make_checkpoint(out_dir, family=...)` / `reference_forward(weights, config, sequences)`, which dispatch
here), or directly:

    make_modern_checkpoint(out_dir, family, seed=0, dtype="F32", prefix="", **options) -> (config, weights)
    modern_reference_forward(weights, config, sequences) -> [float64 [L, H] per sequence]

Families (the model's own source is the specification; each name below is what its real folders hold)
------------------------------------------------------------------------------------------------------
modernbert   transformers models/modernbert (ModernBertModel; ModernBertForMaskedLM prefixes "model.").
             config: hidden_size, num_attention_heads, intermediate_size, num_hidden_layers, vocab_size,
             max_position_embeddings, hidden_activation, norm_eps, norm_bias, attention_bias, mlp_bias,
             global_rope_theta, local_rope_theta, global_attn_every_n_layers, local_attention.
             tensors: embeddings.tok_embeddings.weight [V, H]; embeddings.norm.weight (+.bias);
             layers.N.attn_norm (N > 0 only), layers.N.attn.Wqkv [3H, H], layers.N.attn.Wo [H, H],
             layers.N.mlp_norm, layers.N.mlp.Wi [2I, H], layers.N.mlp.Wo [H, I]; final_norm.
             x = norm(tok[ids]); per layer x += Wo(attn(attn_norm(x))) (identity on layer 0);
             x += mlp.Wo(act(a) * g) with a, g = Wi(mlp_norm(x)).chunk(2); x = final_norm(x).
             Layer l is global when l % global_attn_every_n_layers == 0 (rotary θ = global_rope_theta),
             else local: query i sees keys |i - j| <= local_attention // 2 (θ = local_rope_theta).
             Task checkpoints (ModernBertForSequenceClassification / ForTokenClassification / ForMaskedLM:
             head.dense, head.norm, classifier or decoder + decoder.bias) and their float64 heads:
             make_checkpoint.make_task_checkpoint and make_checkpoint.reference_head.
nomic_bert   contrastors modeling_hf_nomic_bert.py (NomicBertModel; NomicBertForPreTraining: "bert.").
             config (GPT2Config keys): n_embd, n_head, n_layer, n_inner, n_positions, vocab_size,
             layer_norm_epsilon, activation_function (swiglu | geglu | gelu...), rotary_emb_fraction,
             rotary_emb_base, rotary_emb_interleaved, rotary_scaling_factor, max_trained_positions,
             qkv_proj_bias, mlp_fc1_bias, mlp_fc2_bias, type_vocab_size, prenorm (false).
             tensors: embeddings.word_embeddings.weight, embeddings.token_type_embeddings.weight, emb_ln,
             encoder.layers.N.attn.Wqkv [3H, H], attn.out_proj, mlp.fc11 / mlp.fc12 [I', H], mlp.fc2,
             norm1, norm2 (I' = n_inner rounded up to a multiple of 256, as NomciBertGatedMLP does).
             x = emb_ln(word + type); per layer x = norm1(x + out_proj(attn(x))),
             x = norm2(x + fc2(fc11(x) * act(fc12(x)))).  Rotary on the first head_dim * fraction
             features of q and k; with rotary_scaling_factor f, a sequence of L > max_trained_positions M
             tokens uses base * (f L / M - (f - 1)) ** (d / (d - 2)) (dynamic NTK).
new          Alibaba-NLP new-impl modeling.py (NewModel, "gte-*-v1.5"; NewForMaskedLM: "new.").
             config: hidden_size, num_attention_heads, intermediate_size, num_hidden_layers, vocab_size,
             max_position_embeddings, type_vocab_size (0 in gte-v1.5), hidden_act, layer_norm_eps,
             layer_norm_type, position_embedding_type "rope", rope_theta, rope_scaling {type ntk,
             factor}, pack_qkv.
             tensors: embeddings.word_embeddings.weight, (embeddings.token_type_embeddings.weight),
             embeddings.LayerNorm, encoder.layer.N.attention.qkv_proj [3H, H] (+bias),
             attention.o_proj (+bias), attn_ln, mlp.up_gate_proj [2I, H] (no bias), mlp.down_proj
             (+bias), mlp_ln.
             per layer x = attn_ln(x + o_proj(attn(x))); up, gate = split(up_gate_proj(x), I);
             x = mlp_ln(x + down_proj(act(gate) * up)).  NTK: base * f, inverse frequencies / f^(2/d).
jina         jina-bert-implementation (JinaBertModel, jina-embeddings-v2; model_type "bert",
             position_embedding_type "alibi", feed_forward_type "geglu"; JinaBertForMaskedLM: "bert.").
             BERT's tensors without the position table; per layer the FFN is mlp.gated_layers [2I, H]
             (no bias), mlp.wo (+bias), mlp.layernorm: x = layernorm(x + wo(gelu(h[:I]) * h[I:])).
             ALiBi: score(i, j) -= slope_h * |i - j| with the reference slopes for any head count.

Rotary tables: computed exactly as each source does, in float32 (inverse frequencies from a Python-float
base raised to float32 exponents, float32 positions times float32 inverse frequencies, float32 cos and
sin), then widened to float64 and applied in float64 (NeoX rotate-half pairs (i, i + d/2); interleaved
pairs (2i, 2i+1) for nomic's rotary_emb_interleaved). ALiBi biases likewise: float32 slopes times integer
distances in float32 (torch.Tensor(slopes) * relative_position), widened. Everything else is float64.

Sequences are independent (one at a time: no padding, no mask), so nomic's dynamic NTK table is chosen per
sequence by its own length (Hugging Face picks it by the padded batch length).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import numpy as np

MODERN_FAMILIES = ("modernbert", "nomic_bert", "new", "jina")
MODEL_TYPE = {"modernbert": "modernbert", "nomic_bert": "nomic_bert", "new": "new", "jina": "bert"}
ARCHITECTURE = {"modernbert": "ModernBertModel", "nomic_bert": "NomicBertModel", "new": "NewModel",
                "jina": "JinaBertModel"}
# The prefix of each family's task models (ModernBertForMaskedLM, NomicBertForPreTraining, ...).
PREFIX = {"modernbert": "model.", "nomic_bert": "bert.", "new": "new.", "jina": "bert."}


def modern_family(config: Dict[str, Any]) -> str | None:
    """The modern family of a config.json dict, or None for the BERT-like families."""
    model_type = config.get("model_type", "bert")
    if model_type in ("modernbert", "nomic_bert", "new"):
        return model_type
    if model_type == "bert" and (config.get("position_embedding_type") == "alibi" or
                                 config.get("feed_forward_type", "original") != "original"):
        return "jina"
    return None


def make_modern_config(family: str, *, hidden_size: int = 64, num_attention_heads: int = 4,
                       intermediate_size: int = 96, num_hidden_layers: int = 3, vocab_size: int = 500,
                       max_position_embeddings: int = 64, torch_dtype: str = "float32",
                       **options: Any) -> Dict[str, Any]:
    """config.json of `family` with the real keys; `options` override (or add) keys by their real names."""
    if family not in MODERN_FAMILIES:
        raise ValueError(f"family {family!r} not in {MODERN_FAMILIES}")
    H, heads, I, L, V, P = (hidden_size, num_attention_heads, intermediate_size, num_hidden_layers,
                            vocab_size, max_position_embeddings)
    if family == "modernbert":
        config: Dict[str, Any] = {
            "architectures": ["ModernBertModel"], "model_type": "modernbert",
            "hidden_size": H, "num_attention_heads": heads, "intermediate_size": I,
            "num_hidden_layers": L, "vocab_size": V, "max_position_embeddings": P,
            "hidden_activation": "gelu", "norm_eps": 1e-5, "norm_bias": False, "attention_bias": False,
            "mlp_bias": False, "global_rope_theta": 160000.0, "local_rope_theta": 10000.0,
            "global_attn_every_n_layers": 3, "local_attention": 8, "pad_token_id": 0,
            "bos_token_id": 1, "eos_token_id": 2, "cls_token_id": 1, "sep_token_id": 2,
            "classifier_pooling": "mean", "embedding_dropout": 0.0, "attention_dropout": 0.0,
            "mlp_dropout": 0.0, "decoder_bias": True, "torch_dtype": torch_dtype,
        }
    elif family == "nomic_bert":
        config = {
            "architectures": ["NomicBertModel"], "model_type": "nomic_bert",
            "n_embd": H, "n_head": heads, "n_inner": I, "n_layer": L, "vocab_size": V, "n_positions": P,
            "activation_function": "swiglu", "layer_norm_epsilon": 1e-12, "type_vocab_size": 2,
            "rotary_emb_fraction": 1.0, "rotary_emb_base": 1000, "rotary_emb_interleaved": False,
            "rotary_emb_scale_base": None, "rotary_scaling_factor": None, "max_trained_positions": 2048,
            "qkv_proj_bias": False, "mlp_fc1_bias": False, "mlp_fc2_bias": False, "prenorm": False,
            "causal": False, "parallel_block": False, "use_rms_norm": False, "pad_vocab_size_multiple": 1,
            "fused_bias_fc": True, "use_flash_attn": True, "attn_pdrop": 0.0, "resid_pdrop": 0.0,
            "embd_pdrop": 0.0, "torch_dtype": torch_dtype,
        }
    elif family == "new":
        config = {
            "architectures": ["NewModel"], "model_type": "new",
            "hidden_size": H, "num_attention_heads": heads, "intermediate_size": I,
            "num_hidden_layers": L, "vocab_size": V, "max_position_embeddings": P,
            "hidden_act": "gelu", "layer_norm_eps": 1e-12, "layer_norm_type": "layer_norm",
            "type_vocab_size": 0, "position_embedding_type": "rope", "rope_theta": 10000.0,
            "rope_scaling": {"type": "ntk", "factor": 2.0}, "pack_qkv": True, "unpad_inputs": False,
            "use_memory_efficient_attention": False, "logn_attention_scale": False,
            "logn_attention_clip1": False, "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0, "pad_token_id": 0, "torch_dtype": torch_dtype,
        }
    else:
        config = {
            "architectures": ["JinaBertModel"], "model_type": "bert",
            "hidden_size": H, "num_attention_heads": heads, "intermediate_size": I,
            "num_hidden_layers": L, "vocab_size": V, "max_position_embeddings": P,
            "hidden_act": "gelu", "layer_norm_eps": 1e-12, "type_vocab_size": 2,
            "position_embedding_type": "alibi", "feed_forward_type": "geglu", "emb_pooler": "mean",
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "pad_token_id": 0,
            "torch_dtype": torch_dtype,
        }
    config.update(options)
    return config


def nomic_inner(config: Dict[str, Any]) -> int:
    """The width of nomic's MLP: NomciBertGatedMLP rounds n_inner (default 8 H / 3) up to 256."""
    H = config["n_embd"]
    gated = config.get("activation_function", "gelu_new") in ("swiglu", "geglu", "glu")
    inner = config.get("n_inner")
    if not gated:
        return inner if inner is not None else 4 * H
    inner = inner if inner is not None else int(8 * H / 3)
    return (inner + 255) // 256 * 256


def _random_weights(family: str, config: Dict[str, Any], rng: np.random.Generator) -> Dict[str, np.ndarray]:
    w: Dict[str, np.ndarray] = {}

    def normal(shape, std):
        return rng.normal(0.0, std, size=shape)

    def linear(name, out_features, in_features, bias, gain=1.0):
        w[name + ".weight"] = normal((out_features, in_features), gain / math.sqrt(in_features))
        if bias:
            w[name + ".bias"] = normal((out_features,), 0.05)

    def norm(name, size, bias=True):
        w[name + ".weight"] = 1.0 + normal((size,), 0.1)
        if bias:
            w[name + ".bias"] = normal((size,), 0.05)

    if family == "modernbert":
        H, I = config["hidden_size"], config["intermediate_size"]
        nb, ab, mb = config["norm_bias"], config["attention_bias"], config["mlp_bias"]
        w["embeddings.tok_embeddings.weight"] = normal((config["vocab_size"], H), 0.5)
        norm("embeddings.norm", H, nb)
        for n in range(config["num_hidden_layers"]):
            p = f"layers.{n}."
            if n > 0:
                norm(p + "attn_norm", H, nb)
            linear(p + "attn.Wqkv", 3 * H, H, ab, gain=1.4)
            linear(p + "attn.Wo", H, H, ab)
            norm(p + "mlp_norm", H, nb)
            linear(p + "mlp.Wi", 2 * I, H, mb, gain=1.5)
            linear(p + "mlp.Wo", H, I, mb)
        norm("final_norm", H, nb)
    elif family == "nomic_bert":
        H, I = config["n_embd"], nomic_inner(config)
        gated = config["activation_function"] in ("swiglu", "geglu")
        qb, b1, b2 = config["qkv_proj_bias"], config["mlp_fc1_bias"], config["mlp_fc2_bias"]
        # NomicBertModel pads the vocabulary to pad_vocab_size_multiple (the table has the padded rows).
        multiple = config.get("pad_vocab_size_multiple", 1)
        V = (config["vocab_size"] + multiple - 1) // multiple * multiple
        w["embeddings.word_embeddings.weight"] = normal((V, H), 0.5)
        if config.get("type_vocab_size", 2) > 0:
            w["embeddings.token_type_embeddings.weight"] = normal((config["type_vocab_size"], H), 0.3)
        if config.get("rotary_emb_fraction", 0.0) <= 0:
            w["embeddings.position_embeddings.weight"] = normal((config["n_positions"], H), 0.3)
        norm("emb_ln", H)
        for n in range(config["n_layer"]):
            p = f"encoder.layers.{n}."
            linear(p + "attn.Wqkv", 3 * H, H, qb, gain=1.4)
            linear(p + "attn.out_proj", H, H, qb)
            norm(p + "norm1", H)
            if gated:
                linear(p + "mlp.fc11", I, H, b1, gain=1.5)
                linear(p + "mlp.fc12", I, H, b1, gain=1.5)
            else:
                linear(p + "mlp.fc1", I, H, b1, gain=1.5)
            linear(p + "mlp.fc2", H, I, b2)
            norm(p + "norm2", H)
    elif family == "new":
        H, I = config["hidden_size"], config["intermediate_size"]
        w["embeddings.word_embeddings.weight"] = normal((config["vocab_size"], H), 0.5)
        if config["type_vocab_size"] > 0:
            w["embeddings.token_type_embeddings.weight"] = normal((config["type_vocab_size"], H), 0.3)
        if config["position_embedding_type"] == "absolute":
            w["embeddings.position_embeddings.weight"] = normal((config["max_position_embeddings"], H), 0.3)
        norm("embeddings.LayerNorm", H)
        for n in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{n}."
            if config.get("pack_qkv", True):
                linear(p + "attention.qkv_proj", 3 * H, H, True, gain=1.4)
            else:
                for part in ("q_proj", "k_proj", "v_proj"):
                    linear(p + "attention." + part, H, H, True, gain=1.4)
            linear(p + "attention.o_proj", H, H, True)
            norm(p + "attn_ln", H)
            linear(p + "mlp.up_gate_proj", 2 * I, H, False, gain=1.5)
            linear(p + "mlp.down_proj", H, I, True)
            norm(p + "mlp_ln", H)
    else:
        H, I = config["hidden_size"], config["intermediate_size"]
        w["embeddings.word_embeddings.weight"] = normal((config["vocab_size"], H), 0.5)
        w["embeddings.token_type_embeddings.weight"] = normal((config["type_vocab_size"], H), 0.3)
        norm("embeddings.LayerNorm", H)
        for n in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{n}."
            linear(p + "attention.self.query", H, H, True, gain=1.4)
            linear(p + "attention.self.key", H, H, True, gain=1.4)
            linear(p + "attention.self.value", H, H, True)
            linear(p + "attention.output.dense", H, H, True)
            norm(p + "attention.output.LayerNorm", H)
            linear(p + "mlp.gated_layers", 2 * I, H, False, gain=1.5)
            linear(p + "mlp.wo", H, I, True)
            norm(p + "mlp.layernorm", H)
    return w


def make_modern_checkpoint(out_dir: str, family: str, *, seed: int = 0, dtype: str = "F32",
                           prefix: str = "", **options: Any) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """Writes out_dir/config.json and model.safetensors of `family`; returns (config, weights) with the
    weights unprefixed, as stored (rounded to dtype). Options: make_modern_config's."""
    import json
    import os

    import make_checkpoint as mc

    config = make_modern_config(family, torch_dtype=mc._TORCH_DTYPE_NAME[dtype], **options)
    rng = np.random.default_rng(seed)
    weights = {name: mc.round_to_dtype(values, dtype)
               for name, values in _random_weights(family, config, rng).items()}
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    mc.write_safetensors(os.path.join(out_dir, "model.safetensors"),
                         {prefix + name: (values, dtype) for name, values in weights.items()},
                         metadata={"format": "pt"})
    return config, weights


# ---------------------------------------------------------------------------------------------------
# float64 reference


def alibi_slopes(heads: int) -> List[float]:
    """JinaBERT's _get_alibi_head_slopes (Python floats)."""
    def power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]

    if math.log2(heads).is_integer():
        return power_of_2(heads)
    closest = 2 ** math.floor(math.log2(heads))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][: heads - closest]


def rotary_cos_sin(family: str, config: Dict[str, Any], dim: Any, base: float, length: int):
    """float32 cos, sin [length, dim / 2] as the family's source computes them (then used in float64)."""
    import torch

    f32 = torch.float32
    if family == "modernbert":
        # ModernBertRotaryEmbedding.compute_default_rope_parameters and forward.
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=f32) / dim))
        positions = torch.arange(length).float()
        freqs = (inv_freq[:, None].float() @ positions[None, :].float()).transpose(0, 1)
    elif family == "new":
        # RotaryEmbedding / NTKScalingRotaryEmbedding (mixed_b None).
        scaling = config.get("rope_scaling")
        if scaling:
            factor = scaling["factor"]
            inv_freq = 1.0 / ((base * factor) ** (torch.arange(0, dim, 2).float() / dim))
            inv_freq = inv_freq / factor ** (2 / dim)
        else:
            inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        t = torch.arange(length, dtype=f32)
        freqs = torch.einsum("i,j->ij", t, inv_freq)
    else:
        # NomicBertRotaryEmbedding / NomicBertDynamicNTKRotaryEmbedding, for one sequence of `length`.
        factor = config.get("rotary_scaling_factor")
        trained = config.get("max_trained_positions", 2048)
        if factor and length > trained:
            base = base * ((factor * length / trained) - (factor - 1)) ** (dim / (dim - 2))
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=f32) / dim))
        t = torch.arange(length, dtype=f32)
        freqs = torch.outer(t, inv_freq)
    assert freqs.dtype == f32
    return torch.cos(freqs).double(), torch.sin(freqs).double()


def apply_rotary(x, cos, sin, interleaved: bool = False):
    """x [L, heads, d]: its first 2 * cos.shape[1] features rotated (rotate-half or interleaved pairs)."""
    import torch

    rotated = 2 * cos.shape[1]
    part, rest = x[..., :rotated], x[..., rotated:]
    if interleaved:
        c = cos.repeat_interleave(2, dim=-1)[:, None, :]
        s = sin.repeat_interleave(2, dim=-1)[:, None, :]
        x1, x2 = part[..., ::2], part[..., 1::2]
        half = torch.stack((-x2, x1), dim=-1).flatten(-2)
    else:
        c = torch.cat((cos, cos), dim=-1)[:, None, :]
        s = torch.cat((sin, sin), dim=-1)[:, None, :]
        x1, x2 = part.chunk(2, dim=-1)
        half = torch.cat((-x2, x1), dim=-1)
    return torch.cat((part * c + half * s, rest), dim=-1)


def _activation(name: str):
    import torch.nn.functional as F

    if name == "gelu":
        return lambda t: F.gelu(t, approximate="none")
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda t: F.gelu(t, approximate="tanh")
    if name == "relu":
        return F.relu
    if name in ("silu", "swish"):
        return F.silu
    raise ValueError(f"unknown activation {name!r}")


def _sequence_ids(sequence: Any):
    if isinstance(sequence, dict):
        return list(sequence["input_ids"]), sequence.get("token_type_ids")
    return list(sequence), None


def modern_reference_forward(weights: Dict[str, np.ndarray], config: Dict[str, Any],
                             sequences: Iterable[Any]) -> List[np.ndarray]:
    """Each sequence's last hidden state, float64 [L, H], one sequence at a time (see the docstring)."""
    import torch
    import torch.nn.functional as F

    family = modern_family(config)
    prefix = PREFIX[family]  # tolerated, as the loaders do
    w = {(k[len(prefix):] if k.startswith(prefix) else k): torch.as_tensor(v, dtype=torch.float64)
         for k, v in weights.items()}

    def linear(x, name):
        return F.linear(x, w[name + ".weight"], w.get(name + ".bias"))

    def norm(x, name, eps):
        return F.layer_norm(x, (x.shape[-1],), w[name + ".weight"], w.get(name + ".bias"), eps)

    def attend(q, k, v, bias=None):
        """q, k, v [L, heads, d]; bias [heads, L, L] or None (-inf: masked); returns [L, heads * d]."""
        L, heads, d = q.shape
        scores = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(d)
        if bias is not None:
            scores = scores + bias
        probs = torch.softmax(scores, dim=-1)
        return torch.einsum("hij,jhd->ihd", probs, v).reshape(L, heads * d)

    outputs = []
    for sequence in sequences:
        ids, type_ids = _sequence_ids(sequence)
        L = len(ids)
        ids_t = torch.as_tensor(ids, dtype=torch.long)
        types_t = torch.as_tensor(type_ids if type_ids else [0] * L, dtype=torch.long)
        if family == "modernbert":
            H, heads = config["hidden_size"], config["num_attention_heads"]
            d = H // heads
            eps = float(config.get("norm_eps", 1e-5))
            act = _activation(config.get("hidden_activation", "gelu"))
            every = config.get("global_attn_every_n_layers", 3)
            distance = (torch.arange(L)[:, None] - torch.arange(L)[None, :]).abs()
            window = torch.zeros(L, L, dtype=torch.float64)
            window[distance > config["local_attention"] // 2] = -math.inf
            tables = {True: rotary_cos_sin(family, config, d, config.get("global_rope_theta", 160000.0), L),
                      False: rotary_cos_sin(family, config, d, config.get("local_rope_theta", 10000.0), L)}
            x = norm(w["embeddings.tok_embeddings.weight"][ids_t], "embeddings.norm", eps)
            for n in range(config["num_hidden_layers"]):
                p = f"layers.{n}."
                is_global = n % every == 0
                h = x if n == 0 else norm(x, p + "attn_norm", eps)
                qkv = linear(h, p + "attn.Wqkv").view(L, 3, heads, d)
                cos, sin = tables[is_global]
                q, k = apply_rotary(qkv[:, 0], cos, sin), apply_rotary(qkv[:, 1], cos, sin)
                context = attend(q, k, qkv[:, 2], None if is_global else window[None])
                x = x + linear(context, p + "attn.Wo")
                a, g = linear(norm(x, p + "mlp_norm", eps), p + "mlp.Wi").chunk(2, dim=-1)
                x = x + linear(act(a) * g, p + "mlp.Wo")
            x = norm(x, "final_norm", eps)
        elif family == "nomic_bert":
            H, heads = config["n_embd"], config["n_head"]
            d = H // heads
            eps = float(config.get("layer_norm_epsilon", 1e-5))
            name = config.get("activation_function", "gelu_new")
            gated = name in ("swiglu", "geglu")
            act = F.silu if name == "swiglu" else (lambda t: F.gelu(t, approximate="none"))
            fraction = config.get("rotary_emb_fraction", 0.0)
            x = w["embeddings.word_embeddings.weight"][ids_t]
            if config.get("type_vocab_size", 2) > 0:
                x = x + w["embeddings.token_type_embeddings.weight"][types_t]
            if fraction <= 0:
                x = x + w["embeddings.position_embeddings.weight"][:L]
            else:
                base = float(config.get("rotary_emb_base", 10000))
                cos, sin = rotary_cos_sin(family, config, d * fraction, base, L)
            interleaved = config.get("rotary_emb_interleaved", False)
            x = norm(x, "emb_ln", eps)
            for n in range(config["n_layer"]):
                p = f"encoder.layers.{n}."
                qkv = linear(x, p + "attn.Wqkv").view(L, 3, heads, d)
                q, k = qkv[:, 0], qkv[:, 1]
                if fraction > 0:
                    q, k = apply_rotary(q, cos, sin, interleaved), apply_rotary(k, cos, sin, interleaved)
                x = norm(x + linear(attend(q, k, qkv[:, 2]), p + "attn.out_proj"), p + "norm1", eps)
                if gated:
                    y = linear(x, p + "mlp.fc11") * act(linear(x, p + "mlp.fc12"))
                else:
                    y = act(linear(x, p + "mlp.fc1"))
                x = norm(x + linear(y, p + "mlp.fc2"), p + "norm2", eps)
        elif family == "new":
            H, heads, I = config["hidden_size"], config["num_attention_heads"], config["intermediate_size"]
            d = H // heads
            eps = float(config.get("layer_norm_eps", 1e-12))
            act = _activation(config.get("hidden_act", "gelu"))
            rope = config.get("position_embedding_type", "rope") == "rope"
            x = w["embeddings.word_embeddings.weight"][ids_t]
            if config.get("type_vocab_size", 1) > 0:
                x = x + w["embeddings.token_type_embeddings.weight"][types_t]
            if rope:
                cos, sin = rotary_cos_sin(family, config, d, float(config.get("rope_theta", 10000.0)), L)
            else:
                x = x + w["embeddings.position_embeddings.weight"][:L]
            x = norm(x, "embeddings.LayerNorm", eps)
            for n in range(config["num_hidden_layers"]):
                p = f"encoder.layer.{n}.attention."
                if config.get("pack_qkv", True):
                    q, k, v = linear(x, p + "qkv_proj").split(H, dim=-1)
                else:
                    q, k, v = (linear(x, p + part) for part in ("q_proj", "k_proj", "v_proj"))
                q, k, v = (t.view(L, heads, d) for t in (q, k, v))
                if rope:
                    q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
                p = f"encoder.layer.{n}."
                x = norm(x + linear(attend(q, k, v), p + "attention.o_proj"), p + "attn_ln", eps)
                up, gate = linear(x, p + "mlp.up_gate_proj").split(I, dim=-1)
                x = norm(x + linear(act(gate) * up, p + "mlp.down_proj"), p + "mlp_ln", eps)
        else:  # jina
            H, heads, I = config["hidden_size"], config["num_attention_heads"], config["intermediate_size"]
            d = H // heads
            eps = float(config.get("layer_norm_eps", 1e-12))
            reglu = config.get("feed_forward_type") == "reglu"
            act = F.relu if reglu else (lambda t: F.gelu(t, approximate="none"))
            alibi = config.get("position_embedding_type") == "alibi"
            bias = None
            if alibi:
                relative = (torch.arange(L)[None, :] - torch.arange(L)[:, None]).abs()
                slopes = torch.Tensor(alibi_slopes(heads)) * -1  # float32, as JinaBertEncoder
                bias = (slopes[:, None, None] * relative[None]).double()
            x = (w["embeddings.word_embeddings.weight"][ids_t] +
                 w["embeddings.token_type_embeddings.weight"][types_t])
            if not alibi:
                x = x + w["embeddings.position_embeddings.weight"][:L]
            x = norm(x, "embeddings.LayerNorm", eps)
            for n in range(config["num_hidden_layers"]):
                p = f"encoder.layer.{n}."
                q, k, v = (linear(x, p + "attention.self." + part).view(L, heads, d)
                           for part in ("query", "key", "value"))
                x = norm(x + linear(attend(q, k, v, bias), p + "attention.output.dense"),
                         p + "attention.output.LayerNorm", eps)
                h = linear(x, p + "mlp.gated_layers")
                x = norm(x + linear(act(h[:, :I]) * h[:, I:], p + "mlp.wo"), p + "mlp.layernorm", eps)
        outputs.append(x.numpy())
    return outputs
