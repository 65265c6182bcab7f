#!/usr/bin/python3
"""End-to-end parity of the vecformer CLI with a float64 PyTorch reference.

    /usr/bin/python3 tests/parity/test_parity_torch.py --binary build/vecformer

(ctest runs it from the repository root.) Steps:

1. The float64 reference (tools/make_checkpoint.py: reference_forward, written with torch functional ops)
   is itself checked against PyTorch's own modules (nn.Embedding + nn.TransformerEncoderLayer, which uses
   nn.MultiheadAttention) for a post-norm and a pre-norm configuration, per sequence and as a padded batch
   with a key padding mask.
2. For each case a random checkpoint is written to a temporary folder and read back (the safetensors
   writer's round trip), with a token file of mixed lengths (including 1 and max_position_embeddings) in
   plain and JSON Lines form.
3. `vecformer run --backend optimized|reference --output X.npy` must give [N, Lmax, H] float32 equal to
   the reference within the tolerances below, with padding rows exactly zero; a run without --output must
   print one JSON object per sequence whose "hidden" [L, H] matches the npy.

Tolerances, absolute, on outputs of size O(1) (each case's LayerNorms keep them there):
  reference backend 2e-5 — plain float32 loops: rounding of sums over ≤ 256 terms, ~1e-6 per layer;
  optimized backend 2e-4 — float32 GEMMs with blocked accumulation order, vectorised exp / erf / tanh
                     approximations; still an order of magnitude above what a correct kernel produces;
  JSON vs npy       1e-6 relative (|a - b| ≤ 1e-6·max(1, |b|)) — only the text formatting differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from typing import Any, Dict, List

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
from script_support import Failures, executable_or_none, report, scratch_folder  # noqa: E402

REFERENCE_TOLERANCE = 2e-5
OPTIMIZED_TOLERANCE = 2e-4
JSON_TOLERANCE = 1e-6
MODULE_TOLERANCE = 1e-10  # float64 against float64
RUN_TIMEOUT_S = 300

# Each case: make_checkpoint options, the sequence lengths of its token file, and which lines are JSON.
CASES: List[Dict[str, Any]] = [
    dict(name="post_absolute_prefix_types",
         checkpoint=dict(hidden_size=48, num_attention_heads=4, intermediate_size=96, num_hidden_layers=2,
                         hidden_act="gelu", vocab_size=500, max_position_embeddings=64, type_vocab_size=2,
                         position_embedding_type="absolute", norm_first=False, prefix="bert.",
                         embedding_norm=True, pooler=True, dtype="F32", seed=11),
         lengths=[1, 9, 64, 3, 17, 1, 30, 5], extra_threads=[1, 3]),  # head_dim 12
    dict(name="pre_sinusoidal_final_norm",
         checkpoint=dict(hidden_size=48, num_attention_heads=2, intermediate_size=128, num_hidden_layers=3,
                         hidden_act="gelu", layer_norm_eps=1e-5, vocab_size=300,
                         max_position_embeddings=40, type_vocab_size=0,
                         position_embedding_type="sinusoidal", norm_first=True, embedding_norm=False,
                         final_norm=True, dtype="F32", seed=12),
         lengths=[7, 1, 40, 12, 2, 25]),  # head_dim 24
    dict(name="post_relu_1layer",
         checkpoint=dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_hidden_layers=1,
                         hidden_act="relu", vocab_size=200, max_position_embeddings=16, type_vocab_size=2,
                         position_embedding_type="absolute", norm_first=False, dtype="F32", seed=13),
         lengths=[16, 1, 4, 11, 1, 8]),  # head_dim 8
    dict(name="post_gelu_new_f16",
         checkpoint=dict(hidden_size=64, num_attention_heads=4, intermediate_size=256, num_hidden_layers=2,
                         hidden_act="gelu_new", vocab_size=1000, max_position_embeddings=128,
                         type_vocab_size=2, position_embedding_type="absolute", norm_first=False,
                         dtype="F16", seed=14),
         lengths=[33, 1, 2, 50, 17, 6, 1]),  # head_dim 16
    dict(name="pre_gelu_tanh_bf16",
         checkpoint=dict(hidden_size=72, num_attention_heads=3, intermediate_size=144, num_hidden_layers=2,
                         hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, vocab_size=400,
                         max_position_embeddings=64, type_vocab_size=1,
                         position_embedding_type="absolute", norm_first=True, embedding_norm=True,
                         final_norm=False, prefix="bert.", dtype="BF16", seed=15),
         lengths=[1, 20, 5, 63, 2]),  # head_dim 24
    dict(name="post_sinusoidal_bf16_3layer",
         checkpoint=dict(hidden_size=40, num_attention_heads=5, intermediate_size=80, num_hidden_layers=3,
                         hidden_act="gelu", vocab_size=250, max_position_embeddings=32, type_vocab_size=3,
                         position_embedding_type="sinusoidal", norm_first=False, embedding_norm=True,
                         dtype="BF16", seed=16),
         lengths=[5, 32, 1, 13, 9]),  # head_dim 8
]


# ---------------------------------------------------------------------------------------------------
# 1. the reference against PyTorch's modules


def torch_module_forward(weights, config, sequences, batched: bool) -> List[np.ndarray]:
    """The same encoder built from nn.Embedding / nn.LayerNorm / nn.TransformerEncoderLayer."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    H, heads = config["hidden_size"], config["num_attention_heads"]
    eps = float(config["layer_norm_eps"])
    act = {"gelu": "gelu", "relu": "relu"}.get(config["hidden_act"])
    if act is None:  # gelu_new / gelu_pytorch_tanh
        def act(t): return F.gelu(t, approximate="tanh")
    f64 = torch.float64

    def t(name):
        return torch.as_tensor(weights[name], dtype=f64)

    word = nn.Embedding.from_pretrained(t("embeddings.word_embeddings.weight"))
    if config["position_embedding_type"] == "absolute":
        position_table = t("embeddings.position_embeddings.weight")
    else:  # written independently of mc.sinusoidal_table on purpose
        p = torch.arange(config["max_position_embeddings"], dtype=f64).unsqueeze(1)
        inv = torch.pow(torch.tensor(10000.0, dtype=f64), -torch.arange(0, H, 2, dtype=f64) / H)
        position_table = torch.zeros(config["max_position_embeddings"], H, dtype=f64)
        position_table[:, 0::2] = torch.sin(p * inv)
        position_table[:, 1::2] = torch.cos(p * inv)
    position = nn.Embedding.from_pretrained(position_table)
    token_type = (nn.Embedding.from_pretrained(t("embeddings.token_type_embeddings.weight"))
                  if config["type_vocab_size"] > 0 else None)

    def layer_norm(name):
        if name + ".weight" not in weights:
            return None
        norm = nn.LayerNorm(H, eps=eps, dtype=f64)
        with torch.no_grad():
            norm.weight.copy_(t(name + ".weight"))
            norm.bias.copy_(t(name + ".bias"))
        return norm.eval()

    embedding_norm = layer_norm("embeddings.LayerNorm")
    final_norm = layer_norm("encoder.LayerNorm") if config["norm_first"] else None
    layers = []
    for n in range(config["num_hidden_layers"]):
        pre = mc.layer_prefix(n)
        layer = nn.TransformerEncoderLayer(H, heads, config["intermediate_size"], dropout=0.0, activation=act,
                                           layer_norm_eps=eps, batch_first=True,
                                           norm_first=config["norm_first"], dtype=f64)
        with torch.no_grad():
            q, k, v = (pre + "attention.self." + s for s in ("query", "key", "value"))
            layer.self_attn.in_proj_weight.copy_(torch.cat([t(q + ".weight"), t(k + ".weight"),
                                                            t(v + ".weight")]))
            layer.self_attn.in_proj_bias.copy_(torch.cat([t(q + ".bias"), t(k + ".bias"), t(v + ".bias")]))
            for module, name in ((layer.self_attn.out_proj, "attention.output.dense"),
                                 (layer.linear1, "intermediate.dense"), (layer.linear2, "output.dense"),
                                 (layer.norm1, "attention.output.LayerNorm"),
                                 (layer.norm2, "output.LayerNorm")):
                module.weight.copy_(t(pre + name + ".weight"))
                module.bias.copy_(t(pre + name + ".bias"))
        layers.append(layer.eval())

    def embed(ids, types):
        ids = torch.as_tensor(ids, dtype=torch.long)
        x = word(ids) + position(torch.arange(ids.shape[-1]).expand_as(ids))
        if token_type is not None:
            x = x + token_type(torch.as_tensor(types, dtype=torch.long))
        return embedding_norm(x) if embedding_norm is not None else x

    def encode(x, padding_mask=None):
        for layer in layers:
            x = layer(x, src_key_padding_mask=padding_mask)
        return final_norm(x) if final_norm is not None else x

    with torch.no_grad():
        if not batched:
            return [encode(embed([ids], [types]))[0].numpy() for ids, types in sequences]
        lmax = max(len(ids) for ids, _ in sequences)
        ids = [list(i) + [0] * (lmax - len(i)) for i, _ in sequences]
        types = [list(t_) + [0] * (lmax - len(t_)) for _, t_ in sequences]
        mask = torch.tensor([[j >= len(i) for j in range(lmax)] for i, _ in sequences])
        out = encode(embed(ids, types), mask)
        return [out[s, :len(i)].numpy() for s, (i, _) in enumerate(sequences)]


def check_reference_against_modules(workdir: str, failures: Failures) -> None:
    configs = [
        ("post-norm", dict(hidden_size=24, num_attention_heads=2, intermediate_size=40, num_hidden_layers=2,
                           hidden_act="gelu", vocab_size=50, max_position_embeddings=16, type_vocab_size=2,
                           position_embedding_type="absolute", norm_first=False, seed=1)),
        ("pre-norm", dict(hidden_size=24, num_attention_heads=3, intermediate_size=40, num_hidden_layers=2,
                          hidden_act="gelu_new", layer_norm_eps=1e-5, vocab_size=50,
                          max_position_embeddings=16, type_vocab_size=2,
                          position_embedding_type="sinusoidal", norm_first=True, embedding_norm=False,
                          final_norm=True, seed=2)),
        ("post-norm relu", dict(hidden_size=16, num_attention_heads=4, intermediate_size=32,
                                num_hidden_layers=1, hidden_act="relu", vocab_size=50,
                                max_position_embeddings=16, type_vocab_size=0,
                                position_embedding_type="absolute", norm_first=False, seed=3)),
    ]
    rng = np.random.default_rng(0)
    for label, options in configs:
        config, weights = mc.make_checkpoint(os.path.join(workdir, "module_check", label.replace(" ", "_")),
                                             **options)
        types_vocab = max(config["type_vocab_size"], 1)
        sequences = []
        for length in (1, 6, 16, 3):
            ids = rng.integers(0, config["vocab_size"], length).tolist()
            types = rng.integers(0, types_vocab, length).tolist()
            sequences.append((ids, types))
        reference = mc.reference_forward(weights, config, sequences)
        for batched in (False, True):
            modules = torch_module_forward(weights, config, sequences, batched)
            error = max(float(np.max(np.abs(r - m))) for r, m in zip(reference, modules))
            kind = "padded batch with key padding mask" if batched else "one sequence at a time"
            print(f"reference vs torch modules, {label}, {kind}: max abs error {error:.2e}")
            failures.check(error <= MODULE_TOLERANCE,
                           f"float64 reference disagrees with nn.TransformerEncoderLayer ({label}, {kind}): "
                           f"max abs error {error:.3e} > {MODULE_TOLERANCE:g}")


# ---------------------------------------------------------------------------------------------------
# 2.-3. the binary against the reference


def make_sequences(config, lengths, rng):
    sequences = []
    for length in lengths:
        ids = rng.integers(0, config["vocab_size"], length).tolist()
        types = (rng.integers(0, config["type_vocab_size"], length).tolist()
                 if config["type_vocab_size"] > 0 else None)
        sequences.append({"input_ids": ids, "token_type_ids": types})
    return sequences


def write_token_file(path, sequences, config) -> List[Dict[str, Any]]:
    """Writes plain and JSON lines, one sequence a line; returns the sequences
    as the binary will see them (plain lines and JSON lines without types have all-zero types)."""
    seen = []
    with open(path, "w") as f:
        for i, s in enumerate(sequences):
            if i % 3 == 1 and s["token_type_ids"] is not None:
                f.write(json.dumps({"input_ids": s["input_ids"], "token_type_ids": s["token_type_ids"]}) + "\n")
                seen.append(s)
                continue
            if i % 3 == 2:
                f.write(json.dumps({"input_ids": s["input_ids"]}) + "\n")
            else:
                f.write(" ".join(str(t) for t in s["input_ids"]) + "\n")
            seen.append({"input_ids": s["input_ids"], "token_type_ids": None})
    return seen


def run_binary(binary, args):
    command = [binary, "run"] + args
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"`{' '.join(command)}` timed out after {RUN_TIMEOUT_S} s"
    if result.returncode != 0:
        return None, (f"`{' '.join(command)}` exited {result.returncode}; stderr: "
                      f"{result.stderr.strip()[:2000]!r}")
    return result, None


def max_error(output, expected):
    return max(float(np.max(np.abs(output[i, :len(e)] - e))) for i, e in enumerate(expected))


def check_npy(output, expected, hidden, tolerance, label, failures: Failures):
    lmax = max(len(e) for e in expected)
    shape = (len(expected), lmax, hidden)
    if not failures.check(output.shape == shape, f"{label}: npy shape {output.shape}, expected {shape}"):
        return None
    failures.check(output.dtype == np.float32, f"{label}: npy dtype {output.dtype}, expected float32")
    if not failures.check(bool(np.all(np.isfinite(output))), f"{label}: non-finite values in the output"):
        return None
    for i, e in enumerate(expected):
        padding = output[i, len(e):]
        failures.check(bool(np.all(padding == 0)),
                       f"{label}: sequence {i} (length {len(e)}) has non-zero padding rows")
    error = max_error(output, expected)
    failures.check(error <= tolerance, f"{label}: max abs error {error:.3e} > {tolerance:g}")
    return error


def check_json_lines(stdout, npy, lengths, hidden, label, failures: Failures):
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not failures.check(len(lines) == len(lengths),
                          f"{label}: {len(lines)} JSON lines on stdout, expected {len(lengths)}"):
        return None
    worst = 0.0
    for i, (line, length) in enumerate(zip(lines, lengths)):
        try:
            hidden_states = np.asarray(json.loads(line)["hidden"], dtype=np.float64)
        except (ValueError, KeyError, TypeError) as e:
            failures.check(False, f"{label}: stdout line {i + 1} is not an object with \"hidden\": {e}")
            return None
        if not failures.check(hidden_states.shape == (length, hidden),
                              f"{label}: line {i + 1} \"hidden\" shape {hidden_states.shape}, "
                              f"expected {(length, hidden)}"):
            return None
        expected = npy[i, :length].astype(np.float64)
        relative = np.abs(hidden_states - expected) / np.maximum(1.0, np.abs(expected))
        worst = max(worst, float(np.max(relative)))
    failures.check(worst <= JSON_TOLERANCE,
                   f"{label}: JSON differs from the npy by {worst:.3e} (relative) > {JSON_TOLERANCE:g}")
    return worst


def check_round_trip(model_dir, weights, prefix, dtype, label, failures: Failures):
    stored, dtypes, _ = mc.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    failures.check(set(stored) == {prefix + k for k in weights},
                   f"{label}: safetensors tensor names differ from the generated ones")
    failures.check(all(d == dtype for d in dtypes.values()), f"{label}: stored dtypes {set(dtypes.values())}")
    failures.check(all(np.array_equal(stored.get(prefix + k), v) for k, v in weights.items()),
                   f"{label}: safetensors round trip changed a tensor")


def run_case(case, binary, workdir, failures: Failures) -> str:
    name = case["name"]
    options = dict(case["checkpoint"])
    print(f"[{name}]", flush=True)
    model_dir = os.path.join(workdir, name, "model")
    config, weights = mc.make_checkpoint(model_dir, **options)
    check_round_trip(model_dir, weights, options.get("prefix", ""), options.get("dtype", "F32"), name,
                     failures)
    hidden = config["hidden_size"]

    rng = np.random.default_rng(options.get("seed", 0) + 1000)
    sequences = make_sequences(config, case["lengths"], rng)
    token_path = os.path.join(workdir, name, "tokens.txt")
    seen = write_token_file(token_path, sequences, config)
    expected = mc.reference_forward(weights, config, seen)
    lengths = [len(e) for e in expected]
    scale = max(float(np.max(np.abs(e))) for e in expected)

    errors = {}
    npys = {}
    runs = [("reference", []), ("optimized", [])] + [
        (f"optimized --threads {n}", ["--threads", str(n)]) for n in case.get("extra_threads", [])]
    for label, extra in runs:
        backend = label.split()[0]
        tolerance = REFERENCE_TOLERANCE if backend == "reference" else OPTIMIZED_TOLERANCE
        out_path = os.path.join(workdir, name, label.replace(" ", "_").replace("-", "") + ".npy")
        _, problem = run_binary(binary, ["--model", model_dir, "--input", token_path, "--output", out_path,
                                         "--backend", backend] + extra)
        if not failures.check(problem is None, f"{name}: {problem}"):
            continue
        if not failures.check(os.path.isfile(out_path), f"{name}: {label} wrote no {out_path}"):
            continue
        output = np.load(out_path)
        errors[label] = check_npy(output, expected, hidden, tolerance, f"{name} ({label})", failures)
        npys[label] = output

    json_error = None
    if "optimized" in npys:
        result, problem = run_binary(binary, ["--model", model_dir, "--input", token_path,
                                              "--backend", "optimized"])
        if failures.check(problem is None, f"{name}: {problem}"):
            json_error = check_json_lines(result.stdout, npys["optimized"], lengths, hidden,
                                          f"{name} (stdout JSON Lines)", failures)

    def fmt(value):
        return "n/a" if value is None else f"{value:.2e}"

    summary = (f"{name}: H={hidden} heads={config['num_attention_heads']} "
               f"head_dim={hidden // config['num_attention_heads']} layers={config['num_hidden_layers']} "
               f"act={config['hidden_act']} pos={config['position_embedding_type']} "
               f"norm_first={config['norm_first']} dtype={options.get('dtype', 'F32')} N={len(lengths)} "
               f"Lmax={max(lengths)} |out|max={scale:.2f} | "
               + " ".join(f"{label}={fmt(errors.get(label))}" for label, _ in runs)
               + f" json={fmt(json_error)}")
    print("  " + summary, flush=True)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", help="path to the vecformer executable")
    parser.add_argument("--reference-only", action="store_true",
                        help="only check the float64 reference against PyTorch's modules (no binary)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not args.reference_only:
        if not args.binary:
            parser.error("--binary is required (or --reference-only)")
        args.binary = executable_or_none("test_parity_torch", args.binary)
        if args.binary is None:
            return 1

    failures = Failures()
    with scratch_folder("vecformer_parity_", args.keep) as workdir:
        check_reference_against_modules(workdir, failures)
        summaries = []
        if not args.reference_only:
            for case in CASES:
                summaries.append(run_case(case, args.binary, workdir, failures))
        print("\nsummary (max abs error against the float64 reference; tolerances: reference "
              f"{REFERENCE_TOLERANCE:g}, optimized {OPTIMIZED_TOLERANCE:g}, json {JSON_TOLERANCE:g}):")
        for line in summaries:
            print("  " + line)
    return report("test_parity_torch", failures.messages)


if __name__ == "__main__":
    sys.exit(main())
