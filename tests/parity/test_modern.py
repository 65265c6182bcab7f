#!/usr/bin/python3
"""ModernBERT, NomicBERT, GTE "new" and JinaBERT v2 folders: the vecformer CLI against float64 PyTorch
references written from each model's own source (tools/modern_checkpoint.py).

    /usr/bin/python3 tests/parity/test_modern.py --binary build/vecformer [--keep]

(ctest runs it from the repository root.) Steps:

1. Hand-worked values for the details that are easy to get wrong, on the reference code itself: JinaBERT's
   ALiBi slopes for 8 and 12 heads (2^-1..2^-8; then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5), rotate-half and
   interleaved rotation of a 4-vector by 90 degrees, nomic's dynamic-NTK base for a long sequence, and the
   GLU half each family activates (a checkpoint whose "other" half is zero must give act(0)·x = 0 in the
   FFN for exactly the half that is not activated: checked by swapping halves and seeing the output change).
2. Random checkpoints of each family with the real config keys and tensor names (small: hidden 64, 4
   heads, 2-4 layers; ModernBERT with global and local layers and sequences longer than its window, also
   700 tokens with ModernBERT-base's window of 128 on 1 and 3 threads;
   nomic with sequences past max_trained_positions (dynamic NTK); Jina with 12 heads, whose ALiBi slopes
   are not a power-of-two set), token files of mixed lengths (1 up to max_position_embeddings), and
   `vecformer run --backend reference|optimized [--dtype bf16|int8]` compared with the reference.
   sentence-transformers folders around nomic, GTE and ModernBERT models (pooling and Normalize from the
   folder), and text in (`run --text` with a byte-level BPE and a WordPiece tokenizer.json).
3. Bad folders: each must fail with one line naming the key or the tensor.

Tolerances, absolute, on hidden states of size O(1) (every family ends its layers in a LayerNorm, or
ModernBERT in its final norm):
  reference backend 3e-5, optimized 3e-4 (the issue's bars: float32 loops, resp. blocked GEMMs and
    vectorised exp / erf / sin-free rotary; rotary tables are float32 in both the engine and the models'
    sources, so they add no error of their own);
  bf16 / int8 (optimized): the project's accuracy bars (docs/PERFORMANCE.md, test_cli_commands.py):
    mean-pooled cosine with the float64 reference >= 0.999 (bf16), >= 0.99 (int8), worst sequence.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Sequence

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
import modern_checkpoint as modern  # noqa: E402
from script_support import report, scratch_folder, script_arguments  # noqa: E402

TOLERANCE = {"reference": 3e-5, "optimized": 3e-4}
COSINE_BAR = {"bf16": 0.999, "int8": 0.99}
HAND_TOLERANCE = 1e-12
RUN_TIMEOUT_S = 120
ERROR_PREFIX = "vecformer: error: "

problems: List[str] = []
summary: List[str] = []


def check(condition: bool, message: str) -> bool:
    if not condition:
        problems.append(message)
        print(f"  FAIL: {message}", flush=True)
    return bool(condition)


# ---------------------------------------------------------------------------------------------------
# 1. hand-worked values


def hand_worked() -> None:
    import torch

    slopes8 = modern.alibi_slopes(8)
    check(max(abs(a - 2.0 ** -(i + 1)) for i, a in enumerate(slopes8)) <= HAND_TOLERANCE,
          f"ALiBi slopes for 8 heads {slopes8}")
    slopes12 = modern.alibi_slopes(12)
    want12 = [2.0 ** -(i + 1) for i in range(8)] + [2.0 ** -0.5, 2.0 ** -1.5, 2.0 ** -2.5, 2.0 ** -3.5]
    check(max(abs(a - b) for a, b in zip(slopes12, want12)) <= HAND_TOLERANCE and len(slopes12) == 12,
          f"ALiBi slopes for 12 heads {slopes12}")
    # A quarter turn (cos 0, sin 1) of x = (1, 2, 3, 4): rotate-half pairs (0, 2), (1, 3) give
    # (-3, -4, 1, 2); interleaved pairs (0, 1), (2, 3) give (-2, 1, -4, 3).
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0]]], dtype=torch.float64)
    cos = torch.zeros(1, 2, dtype=torch.float64)
    sin = torch.ones(1, 2, dtype=torch.float64)
    check(modern.apply_rotary(x, cos, sin).flatten().tolist() == [-3.0, -4.0, 1.0, 2.0],
          "rotate-half quarter turn")
    check(modern.apply_rotary(x, cos, sin, interleaved=True).flatten().tolist() == [-2.0, 1.0, -4.0, 3.0],
          "interleaved quarter turn")
    # Partial rotation (nomic's rotary_emb_fraction): features past the rotated ones stay.
    check(modern.apply_rotary(x, cos[:, :1], sin[:, :1]).flatten().tolist() == [-2.0, 1.0, 3.0, 4.0],
          "partial rotation leaves the rest")
    # Random vectors: rotation as complex multiplication by e^(i·angle) (an independent formulation),
    # with pairs (j, j + r/2) for rotate-half and (2j, 2j + 1) interleaved; features past r unchanged.
    rng = np.random.default_rng(1)
    x = torch.as_tensor(rng.normal(size=(5, 3, 12)))
    angles = torch.as_tensor(rng.uniform(-4, 4, size=(5, 4)))
    cos, sin = torch.cos(angles), torch.sin(angles)
    turn = torch.polar(torch.ones_like(angles), angles)[:, None, :]
    neox = torch.view_as_real(torch.complex(x[..., :4], x[..., 4:8]) * turn)
    want = torch.cat((neox[..., 0], neox[..., 1], x[..., 8:]), dim=-1)
    check(float((modern.apply_rotary(x, cos, sin) - want).abs().max()) <= 1e-12, "rotate-half vs complex")
    pairs = torch.view_as_complex(x[..., :8].reshape(5, 3, 4, 2).contiguous()) * turn
    want = torch.cat((torch.view_as_real(pairs).reshape(5, 3, 8), x[..., 8:]), dim=-1)
    check(float((modern.apply_rotary(x, cos, sin, interleaved=True) - want).abs().max()) <= 1e-12,
          "interleaved vs complex")
    # nomic dynamic NTK, dim 4, base 10000, factor 2, trained 8, length 16: base·(2·16/8 − 1)^(4/2) = 9·base,
    # so inv_freq[1] = 1 / (90000^(2/4)) = 1/300.
    config = {"rotary_scaling_factor": 2.0, "max_trained_positions": 8}
    cos, sin = modern.rotary_cos_sin("nomic_bert", config, 4.0, 10000.0, 16)
    angle = math.atan2(float(sin[3, 1]), float(cos[3, 1]))
    check(abs(angle - 3 / 300) <= 1e-7, f"dynamic NTK angle at position 3: {angle} vs {3 / 300}")
    cos, sin = modern.rotary_cos_sin("nomic_bert", config, 4.0, 10000.0, 8)  # within: unscaled
    check(abs(math.atan2(float(sin[3, 1]), float(cos[3, 1])) - 3 / 100) <= 1e-7, "unscaled angle at 8")
    # GTE NTK, dim 4, base 10000, factor 4: inv_freq[1] = 1/(40000^(1/2)) / 4^(1/2) = 1/400.
    cos, sin = modern.rotary_cos_sin("new", {"rope_scaling": {"type": "ntk", "factor": 4.0}}, 4, 10000.0, 5)
    check(abs(math.atan2(float(sin[4, 1]), float(cos[4, 1])) - 4 / 400) <= 1e-7, "NTK angle at 4")
    summary.append("hand-worked: ALiBi 8/12 heads, rotate-half / interleaved / partial (and against "
                   "complex multiplication), NTK and dynamic NTK angles")


# ---------------------------------------------------------------------------------------------------
# 2. parity runs


CASES: List[Dict[str, Any]] = [
    # 4 layers: 0 and 3 global, 1 and 2 local (window 8: |i - j| <= 4), sequences up to 64 >> 8.
    dict(name="modernbert", family="modernbert", prefix="",
         options=dict(num_hidden_layers=4, local_attention=8), lengths=[1, 5, 9, 64, 20, 33, 2]),
    # Long sequences, ModernBERT-base's window (128) and θs: local layers read only the key blocks
    # within reach; 3 threads on the optimized backend as well.
    dict(name="modernbert_long_window128", family="modernbert", prefix="",
         options=dict(num_hidden_layers=3, local_attention=128, max_position_embeddings=1024),
         lengths=[700, 129, 1, 300], threads=[1, 3]),
    # Biases on, tanh GELU, every second layer global, the "model." prefix of ModernBertForMaskedLM.
    dict(name="modernbert_biases_prefix", family="modernbert", prefix="model.",
         options=dict(num_hidden_layers=3, local_attention=6, global_attn_every_n_layers=2,
                      norm_bias=True, attention_bias=True, mlp_bias=True,
                      hidden_activation="gelu_pytorch_tanh", global_rope_theta=500.0,
                      architectures=["ModernBertForMaskedLM"]),
         lengths=[7, 64, 1, 13]),
    # nomic-embed-text-v1.5's shape: swiglu, no biases, full rotary, dynamic NTK past 16 positions.
    dict(name="nomic_swiglu_dynamic_ntk", family="nomic_bert", prefix="",
         options=dict(num_hidden_layers=2, rotary_scaling_factor=2.0, max_trained_positions=16),
         lengths=[3, 16, 17, 64, 1, 40], types=True),
    # geglu, biases, half the head rotated, interleaved pairs, "bert." prefix, vocabulary 500 padded
    # to 512 rows.
    dict(name="nomic_geglu_partial_interleaved", family="nomic_bert", prefix="bert.",
         options=dict(num_hidden_layers=2, activation_function="geglu", rotary_emb_fraction=0.5,
                      rotary_emb_interleaved=True, qkv_proj_bias=True, mlp_fc1_bias=True,
                      mlp_fc2_bias=True, rotary_emb_base=10000, layer_norm_epsilon=1e-5,
                      pad_vocab_size_multiple=64),
         lengths=[9, 1, 30, 64]),
    # gte-base-en-v1.5's shape: type_vocab_size 0, rope with NTK factor 2.
    dict(name="gte_ntk", family="new", prefix="",
         options=dict(num_hidden_layers=2, rope_theta=10000.0), lengths=[1, 12, 64, 5, 31]),
    # Separate q/k/v, one token type, silu, no scaling, the "new." prefix, BF16 storage (the fused
    # up_gate_proj is then converted and its halves copied, not viewed).
    dict(name="gte_unpacked_silu_bf16", family="new", prefix="new.",
         options=dict(num_hidden_layers=2, pack_qkv=False, type_vocab_size=1, hidden_act="silu",
                      rope_scaling=None, rope_theta=500.0, dtype="BF16"),
         lengths=[4, 64, 17]),
    # SiLU is now an activation of every family: a plain BERT FFN with hidden_act "silu".
    dict(name="bert_silu", family="bert", prefix="bert.",
         options=dict(hidden_act="silu", num_hidden_layers=2, max_position_embeddings=64),
         lengths=[1, 33, 64]),
    # jina-embeddings-v2's shape with 12 heads (slopes not a power-of-two set), "bert." prefix.
    dict(name="jina_alibi_geglu_12heads", family="jina", prefix="bert.",
         options=dict(hidden_size=96, num_attention_heads=12, num_hidden_layers=2,
                      architectures=["JinaBertForMaskedLM"]),
         lengths=[1, 8, 64, 23], types=True),
]


def run(binary: str, args: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "run", *args], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)


def make_sequences(rng: np.random.Generator, vocab: int, lengths: Sequence[int], types: bool):
    sequences = []
    for length in lengths:
        ids = rng.integers(0, vocab, length).tolist()
        type_ids = rng.integers(0, 2, length).tolist() if types else None
        sequences.append({"input_ids": ids, "token_type_ids": type_ids})
    return sequences


def write_tokens(path: str, sequences) -> None:
    with open(path, "w") as f:
        for s in sequences:
            if s["token_type_ids"] is not None:
                f.write(json.dumps({"input_ids": s["input_ids"], "token_type_ids": s["token_type_ids"]}) + "\n")
            else:
                f.write(" ".join(map(str, s["input_ids"])) + "\n")


def parity_case(binary: str, workdir: str, case: Dict[str, Any], seed: int) -> None:
    name = case["name"]
    folder = os.path.join(workdir, name)
    config, weights = mc.make_checkpoint(folder, family=case["family"], prefix=case["prefix"], seed=seed,
                                         **case["options"])
    vocab = config["vocab_size"]
    sequences = make_sequences(np.random.default_rng(seed + 100), vocab, case["lengths"],
                               case.get("types", False))
    tokens = os.path.join(folder, "tokens.jsonl")
    write_tokens(tokens, sequences)
    expected = mc.reference_forward(weights, config, sequences)
    metrics = []
    runs = [("reference", "f32", None), ("optimized", "f32", None), ("optimized", "bf16", None),
            ("optimized", "int8", None)]
    runs += [("optimized", "f32", threads) for threads in case.get("threads", [])]
    for backend, dtype, threads in runs:
        label = f"{name} {backend} {dtype}" + (f" threads {threads}" if threads else "")
        out = os.path.join(folder, f"{backend}_{dtype}_{threads}.npy")
        extra = ["--threads", str(threads)] if threads else []
        result = run(binary, ["--model", folder, "--input", tokens, "--backend", backend, "--dtype", dtype,
                              "--output", out, "--quiet", *extra])
        if not check(result.returncode == 0, f"{label}: exit {result.returncode}: {result.stderr.strip()[:500]}"):
            continue
        output = np.load(out)
        shape = (len(sequences), max(case["lengths"]), expected[0].shape[1])
        if not check(output.shape == shape, f"{label}: shape {output.shape}, expected {shape}"):
            continue
        if dtype == "f32":
            error = max(float(np.max(np.abs(output[i, :len(e)] - e))) for i, e in enumerate(expected))
            check(error <= TOLERANCE[backend], f"{label}: max abs error {error:.3e} > {TOLERANCE[backend]:g}")
            metrics.append(f"{backend}{'@' + str(threads) if threads else ''}={error:.1e}")
        else:
            cosines = []
            for i, e in enumerate(expected):
                a, b = output[i, :len(e)].mean(axis=0), e.mean(axis=0)
                cosines.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
            check(min(cosines) >= COSINE_BAR[dtype],
                  f"{label}: worst mean-pooled cosine {min(cosines):.5f} < {COSINE_BAR[dtype]}")
            metrics.append(f"{dtype}_cos={min(cosines):.5f}")
    summary.append(f"{name}: " + " ".join(metrics))
    print(f"  {name}: " + " ".join(metrics), flush=True)


def glu_half_case(binary: str, workdir: str) -> None:
    """Which GLU half is activated matters and is followed: with the two halves of each family's fused
    (or paired) weight swapped in the file, the reference output moves far beyond the tolerances (so the
    parity runs above tell the halves apart), and vecformer still matches the reference."""
    for family, tensor, split in (("modernbert", "layers.0.mlp.Wi.weight", "rows"),
                                  ("new", "encoder.layer.0.mlp.up_gate_proj.weight", "rows"),
                                  ("jina", "encoder.layer.0.mlp.gated_layers.weight", "rows"),
                                  ("nomic_bert", ("encoder.layers.0.mlp.fc11.weight",
                                                  "encoder.layers.0.mlp.fc12.weight"), "pair")):
        folder = os.path.join(workdir, "glu_" + family)
        config, weights = mc.make_checkpoint(folder, family=family, seed=5, num_hidden_layers=1)
        sequences = [{"input_ids": [3, 1, 4, 1, 5, 9, 2, 6], "token_type_ids": None}]
        unswapped = mc.reference_forward(weights, config, sequences)[0]
        if split == "rows":
            top, bottom = np.split(weights[tensor], 2, axis=0)
            weights[tensor] = np.concatenate([bottom, top], axis=0)
        else:
            weights[tensor[0]], weights[tensor[1]] = weights[tensor[1]], weights[tensor[0]]
        mc.write_safetensors(os.path.join(folder, "model.safetensors"),
                             {k: (v, "F32") for k, v in weights.items()}, metadata={"format": "pt"})
        tokens = os.path.join(folder, "tokens.txt")
        write_tokens(tokens, sequences)
        expected = mc.reference_forward(weights, config, sequences)[0]
        moved = float(np.max(np.abs(expected - unswapped)))
        check(moved > 1e-2, f"glu {family}: swapping the halves moves the output only {moved:.2e}")
        out = os.path.join(folder, "out.npy")
        result = run(binary, ["--model", folder, "--input", tokens, "--backend", "reference", "--output", out,
                              "--quiet"])
        if check(result.returncode == 0, f"glu {family}: {result.stderr.strip()[:300]}"):
            error = float(np.max(np.abs(np.load(out)[0] - expected)))
            check(error <= TOLERANCE["reference"], f"glu {family} (halves swapped): error {error:.2e}")
    summary.append("GLU halves swapped in the file: vecformer follows the reference for every family")


def sentence_transformers_case(binary: str, workdir: str) -> None:
    """sentence-transformers folders around modern models, as nomic-embed-text and gte-v1.5 ship them:
    pooling and Normalize from the folder, on both backends."""
    for name, family, pooling, normalize in (("st_nomic_mean_normalize", "nomic_bert", "mean", True),
                                            ("st_gte_cls", "new", "cls", False),
                                            ("st_modernbert_mean_subdir", "modernbert", "mean", True)):
        folder = os.path.join(workdir, name)
        subdir = "0_Transformer" if family == "modernbert" else ""
        config, weights = mc.make_sentence_transformers(folder, pooling=pooling, normalize=normalize,
                                                        transformer_subdir=subdir, family=family, seed=9,
                                                        num_hidden_layers=2)
        sequences = make_sequences(np.random.default_rng(9), config["vocab_size"], [5, 64, 1, 20], False)
        tokens = os.path.join(folder, "tokens.txt")
        write_tokens(tokens, sequences)
        expected = mc.reference_embed(weights, config, sequences, pooling=pooling, normalize=normalize)
        errors = []
        for backend in ("reference", "optimized"):
            out = os.path.join(folder, backend + ".npy")
            result = run(binary, ["--model", folder, "--input", tokens, "--backend", backend, "--output", out,
                                  "--quiet"])
            if not check(result.returncode == 0, f"{name} {backend}: {result.stderr.strip()[:300]}"):
                continue
            output = np.load(out)
            if not check(output.shape == expected.shape, f"{name} {backend}: shape {output.shape}"):
                continue
            error = float(np.max(np.abs(output - expected)))
            check(error <= TOLERANCE[backend], f"{name} {backend}: max abs error {error:.2e}")
            errors.append(f"{backend}={error:.1e}")
        summary.append(f"{name}: " + " ".join(errors))
        print(f"  {name}: " + " ".join(errors), flush=True)


def text_case(binary: str, workdir: str) -> None:
    """Text in: a ModernBERT folder with a byte-level BPE tokenizer.json (GPT-2's, as ModernBERT ships a
    BPE tokenizer.json) and a nomic folder with BERT's WordPiece tokenizer.json. `vecformer run --text`
    must equal the reference on the ids `vecformer tokenize --json` gives (those ids are checked against
    Hugging Face's tokenizers by tests/tokenizer)."""
    data = os.path.join(REPO, "tests", "tokenizer", "data")
    texts = os.path.join(workdir, "texts.txt")
    with open(texts, "w") as f:
        f.write("Modern encoders read long documents.\nthe cat sat on the mat\nRoPE, ALiBi and GLU!\n")
    for name, family, tokenizer, vocab in (("text_modernbert_bpe", "modernbert", "gpt2-bpe", 50257),
                                           ("text_nomic_wordpiece", "nomic_bert", "bert-base-uncased-json",
                                            30522)):
        folder = os.path.join(workdir, name)
        config, weights = mc.make_checkpoint(folder, family=family, seed=11, hidden_size=32,
                                             num_attention_heads=2, intermediate_size=64,
                                             num_hidden_layers=2, vocab_size=vocab)
        for file in os.listdir(os.path.join(data, tokenizer)):
            with open(os.path.join(data, tokenizer, file), "rb") as src, \
                    open(os.path.join(folder, file), "wb") as dst:
                dst.write(src.read())
        result = subprocess.run([binary, "tokenize", "--model", folder, "--json", "--input", texts],
                                capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        if not check(result.returncode == 0, f"{name}: tokenize: {result.stderr.strip()[:300]}"):
            continue
        sequences = [{"input_ids": json.loads(line)["ids"], "token_type_ids": None}
                     for line in result.stdout.splitlines()]
        expected = mc.reference_forward(weights, config, sequences)
        out = os.path.join(folder, "out.npy")
        result = run(binary, ["--model", folder, "--text", "--input", texts, "--output", out, "--quiet"])
        if not check(result.returncode == 0, f"{name}: run --text: {result.stderr.strip()[:300]}"):
            continue
        output = np.load(out)
        error = max(float(np.max(np.abs(output[i, :len(e)] - e))) for i, e in enumerate(expected))
        check(error <= TOLERANCE["optimized"], f"{name}: max abs error {error:.2e}")
        summary.append(f"{name}: optimized={error:.1e} ({sum(len(e) for e in expected)} tokens)")
        print(f"  {name}: optimized={error:.1e}", flush=True)
        # `explain` recomputes attention with the reference ops from the forward's queries and keys,
        # which the backends rotate inside attention: the observer must see them rotated (layer 1:
        # ModernBERT's local layer, nomic's second global one).
        for backend, bar in (("reference", 0.0), ("optimized", 1e-5)):
            result = subprocess.run([binary, "explain", "--model", folder, "--text", "the cat sat on the mat",
                                     "--focus", "cat", "--layer", "1", "--head", "1", "--backend", backend,
                                     "--format", "json"], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
            if not check(result.returncode == 0, f"{name}: explain: {result.stderr.strip()[:300]}"):
                continue
            difference = json.loads(result.stdout)["check"]["layer_max_abs_difference"]
            check(difference <= bar, f"{name}: explain on {backend}: walk-through vs backend {difference:.2e} > {bar}")


# ---------------------------------------------------------------------------------------------------
# 3. bad folders


def expect_error(binary: str, folder: str, contains: Sequence[str], label: str) -> None:
    tokens = os.path.join(folder, "tokens.txt")
    with open(tokens, "w") as f:
        f.write("1 2 3\n")
    result = run(binary, ["--model", folder, "--input", tokens, "--backend", "reference"])
    lines = result.stderr.splitlines()
    ok = check(result.returncode == 1, f"{label}: exit {result.returncode}, expected 1 ({result.stderr!r})")
    ok &= check(len(lines) == 1 and lines[0].startswith(ERROR_PREFIX),
                f"{label}: stderr must be one '{ERROR_PREFIX}' line, got {result.stderr!r}")
    for text in contains:
        ok &= check(text in result.stderr, f"{label}: message lacks {text!r}: {result.stderr.strip()!r}")
    if ok:
        print(f"  ok {label}: {lines[0][len(ERROR_PREFIX):]}", flush=True)


def bad_folder(workdir: str, label: str, family: str, prefix: str = "", config_edit=None,
               tensor_edit=None, **options) -> str:
    folder = os.path.join(workdir, "bad_" + label)
    config, weights = mc.make_checkpoint(folder, family=family, prefix=prefix, seed=3, **options)
    if config_edit:
        config_edit(config)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f)
    if tensor_edit:
        tensor_edit(weights)
        mc.write_safetensors(os.path.join(folder, "model.safetensors"),
                             {prefix + k: (v, "F32") for k, v in weights.items()}, metadata={"format": "pt"})
    return folder


def bad_inputs(binary: str, workdir: str) -> None:
    def set_key(key, value):
        return lambda c: c.__setitem__(key, value)

    cases = [
        ("model_type", "modernbert", dict(config_edit=set_key("model_type", "modernbert2")),
         ["model_type", "modernbert2"]),
        ("position_embedding_type", "jina", dict(config_edit=set_key("position_embedding_type", "rotary")),
         ["position_embedding_type", "rotary"]),
        ("feed_forward_type", "jina", dict(config_edit=set_key("feed_forward_type", "swiglu")),
         ["feed_forward_type", "swiglu"]),
        ("rotary_fraction_fractional", "nomic_bert", dict(config_edit=set_key("rotary_emb_fraction", 0.3)),
         ["rotary_emb_fraction"]),
        ("rotary_fraction_odd", "nomic_bert", dict(config_edit=set_key("rotary_emb_fraction", 0.0625)),
         ["rotary_emb_fraction"]),
        ("window_past_positions", "modernbert", dict(config_edit=set_key("local_attention", 65)),
         ["local_attention", "max_position_embeddings"]),
        ("nomic_prenorm", "nomic_bert", dict(config_edit=set_key("prenorm", True)), ["prenorm"]),
        ("gte_scaling_type", "new", dict(config_edit=set_key("rope_scaling", {"type": "dynamic", "factor": 2})),
         ["rope_scaling.type", "dynamic"]),
        ("gte_rms_norm", "new", dict(config_edit=set_key("layer_norm_type", "rms_norm")), ["layer_norm_type"]),
        ("missing_tensor", "modernbert", dict(tensor_edit=lambda w: w.pop("layers.1.mlp.Wi.weight")),
         ["layers.1.mlp.Wi.weight", "missing"]),
        ("extra_attn_norm", "modernbert",
         dict(tensor_edit=lambda w: w.__setitem__("layers.0.attn_norm.weight", np.ones(64))),
         ["layers.0.attn_norm.weight", "unexpected"]),
        ("extra_bias", "nomic_bert",
         dict(tensor_edit=lambda w: w.__setitem__("encoder.layers.1.attn.Wqkv.bias", np.zeros(192))),
         ["encoder.layers.1.attn.Wqkv.bias", "unexpected"]),
        ("extra_layer", "new",
         dict(tensor_edit=lambda w: w.__setitem__("encoder.layer.2.attention.o_proj.weight", np.eye(64))),
         ["encoder.layer.2.attention.o_proj.weight", "num_hidden_layers"]),
        ("missing_gate_half", "nomic_bert", dict(tensor_edit=lambda w: w.pop("encoder.layers.0.mlp.fc12.weight")),
         ["encoder.layers.0.mlp.fc12.weight"]),
        ("alibi_with_table", "jina",
         dict(tensor_edit=lambda w: w.__setitem__("embeddings.position_embeddings.weight", np.zeros((64, 64)))),
         ["embeddings.position_embeddings.weight", "alibi"]),
        ("jina_qk_post_norm", "jina",
         dict(tensor_edit=lambda w: w.__setitem__("encoder.layer.1.attention.self.layer_norm_q.weight",
                                                  np.ones(64))),
         ["encoder.layer.1.attention.self.layer_norm_q.weight", "QK-post-norm"]),
        ("fused_shape", "jina",
         dict(tensor_edit=lambda w: w.__setitem__("encoder.layer.0.mlp.gated_layers.weight", np.zeros((96, 64)))),
         ["encoder.layer.0.mlp.gated_layers.weight", "shape"]),
    ]
    for label, family, edits, contains in cases:
        folder = bad_folder(workdir, label, family, num_hidden_layers=2, **edits)
        expect_error(binary, folder, contains, label)
    summary.append(f"bad folders: {len(cases)} one-line errors")


def main() -> int:
    args = script_arguments("test_modern", __doc__.splitlines()[0])
    if args is None:
        return 1
    started = time.time()
    with scratch_folder("vecformer_modern_", args.keep) as workdir:
        print("[hand-worked values]", flush=True)
        hand_worked()
        for i, case in enumerate(CASES):
            print(f"[{case['name']}]", flush=True)
            parity_case(args.binary, workdir, case, seed=40 + i)
        print("[sentence-transformers folders]", flush=True)
        sentence_transformers_case(args.binary, workdir)
        print("[text]", flush=True)
        text_case(args.binary, workdir)
        print("[GLU halves]", flush=True)
        glu_half_case(args.binary, workdir)
        print("[bad folders]", flush=True)
        bad_inputs(args.binary, workdir)
    print("\nsummary (max abs error against the float64 reference; tolerances reference 3e-5, optimized "
          "3e-4; bf16 / int8 worst mean-pooled cosine, bars 0.999 / 0.99):")
    for line in summary:
        print("  " + line)
    return report("test_modern", problems, f"{time.time() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
