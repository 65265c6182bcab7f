#!/usr/bin/python3
"""tools/convert_torch.py: a converted nn.TransformerEncoder runs in vecformer as it runs in PyTorch.

    /usr/bin/python3 tests/parity/test_convert_torch.py --binary build/vecformer

(ctest runs it from the repository root.) For each case below:

1. A seeded random nn.TransformerEncoder (eval mode) + nn.Embedding is built. Every parameter is redrawn
   per layer (TransformerEncoder clones its first layer, so the layers would otherwise be equal and a
   mixed-up layer index would go unnoticed), LayerNorm gammas around 1 and betas around 0.
2. save_torch_encoder writes a model folder into a temporary directory; config.json and the safetensors
   names, shapes and dtype (F32) are checked against the mapping.
3. PyTorch's forward in float64 (`.double()` copies of the modules, so the same float32 weight values) on a
   padded batch with src_key_padding_mask (True at padding): encoder(embedding(ids) + PE[:L]), with PE
   computed here independently of both the converter and vecformer. Only real-token rows are compared:
   PyTorch 1.13's inference fast path may return zeros or garbage at padded positions.
   The same float64 output is first compared with make_checkpoint.reference_forward evaluated on the
   *written* folder (tolerance 1e-10, float64 against float64): this isolates the converter's mapping from
   the binary's arithmetic.
4. `vecformer run --backend optimized|reference --output X.npy` on a token file of mixed lengths (1 and
   max_positions included) must match within the tolerances of test_parity_torch.py — reference 2e-5
   (float32 loops), optimized 2e-4 (blocked float32 GEMMs, vectorised exp / erf) — on outputs of size O(1),
   with padding rows exactly zero.

Then every configuration the converter must refuse raises ValueError (TypeError for wrong argument types)
whose message names the problem, and writes nothing. Finally `tools/convert_torch.py --demo DIR` must
produce a folder the binary runs.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from typing import Any, Callable, Dict, List

import warnings

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import convert_torch as ct  # noqa: E402
import make_checkpoint as mc  # noqa: E402
from script_support import Failures, report, scratch_folder, script_arguments  # noqa: E402

REFERENCE_TOLERANCE = 2e-5
OPTIMIZED_TOLERANCE = 2e-4
MAPPING_TOLERANCE = 1e-10  # float64 against float64 on identical weights
RUN_TIMEOUT_S = 300

# encoder: TransformerEncoderLayer arguments + layers / final norm; positional: save_torch_encoder's.
CASES: List[Dict[str, Any]] = [
    dict(name="post_relu_sinusoidal", seed=21, vocab=200, max_positions=32, lengths=[5, 1, 32, 12, 7, 1, 20],
         layer=dict(d_model=32, nhead=4, dim_feedforward=64, activation="relu", norm_first=False,
                    batch_first=True),
         num_layers=2, final_norm=False, positional="sinusoidal"),
    dict(name="pre_gelu_final_norm_3layer", seed=22, vocab=300, max_positions=40, lengths=[1, 40, 9, 17, 3],
         layer=dict(d_model=48, nhead=4, dim_feedforward=96, activation=F.gelu, norm_first=True,
                    batch_first=True, layer_norm_eps=1e-6),
         num_layers=3, final_norm=True, positional="sinusoidal"),
    dict(name="pre_gelu_no_final_norm_seq_first", seed=23, vocab=150, max_positions=24, lengths=[24, 1, 6, 13],
         layer=dict(d_model=40, nhead=2, dim_feedforward=80, activation="gelu", norm_first=True,
                    batch_first=False),
         num_layers=1, final_norm=False, positional="sinusoidal"),
    dict(name="post_heads3_d48_final_norm", seed=24, vocab=250, max_positions=50,
         lengths=[11, 50, 1, 4, 29, 2],
         layer=dict(d_model=48, nhead=3, dim_feedforward=112, activation=nn.GELU(), norm_first=False,
                    batch_first=True),
         num_layers=2, final_norm=True, positional="sinusoidal"),
    dict(name="post_learned_positions", seed=25, vocab=120, max_positions=20, lengths=[20, 3, 1, 8, 15],
         layer=dict(d_model=32, nhead=2, dim_feedforward=64, activation=F.relu, norm_first=False,
                    batch_first=True),
         num_layers=2, final_norm=False, positional="learned"),
    dict(name="pre_relu_no_positions_final_norm", seed=26, vocab=100, max_positions=16,
         lengths=[16, 1, 7, 2, 10],
         layer=dict(d_model=24, nhead=3, dim_feedforward=40, activation=nn.ReLU(), norm_first=True,
                    batch_first=True, layer_norm_eps=1e-5),
         num_layers=2, final_norm=True, positional=None),
]


# ---------------------------------------------------------------------------------------------------
# random PyTorch modules


def randomize(encoder: nn.TransformerEncoder, generator: torch.Generator) -> None:
    """Redraws every parameter so activations stay O(1) and every part of the computation matters:
    linear weights ~ N(0, 1/fan_in) (query and key a little larger, so attention is far from uniform),
    biases ~ N(0, 0.05²), LayerNorm gammas ~ 1 + N(0, 0.1²) and betas ~ N(0, 0.05²)."""
    def normal(tensor, mean, std):
        tensor.copy_(torch.randn(tensor.shape, generator=generator, dtype=torch.float64) * std + mean)

    with torch.no_grad():
        for module in encoder.modules():
            if isinstance(module, nn.MultiheadAttention):
                H = module.embed_dim
                normal(module.in_proj_weight[:2 * H], 0.0, 1.4 / math.sqrt(H))
                normal(module.in_proj_weight[2 * H:], 0.0, 1.0 / math.sqrt(H))
                normal(module.in_proj_bias, 0.0, 0.05)
            elif isinstance(module, nn.Linear):  # out_proj, linear1, linear2
                normal(module.weight, 0.0, 1.0 / math.sqrt(module.in_features))
                normal(module.bias, 0.0, 0.05)
            elif isinstance(module, nn.LayerNorm):
                normal(module.weight, 1.0, 0.1)
                normal(module.bias, 0.0, 0.05)


def build_modules(case: Dict[str, Any]):
    """(encoder in eval mode, embedding, position_table or None) for a case, seeded."""
    torch.manual_seed(case["seed"])
    generator = torch.Generator().manual_seed(case["seed"])
    options = dict(case["layer"])
    d_model = options.pop("d_model")
    nhead = options.pop("nhead")
    layer = nn.TransformerEncoderLayer(d_model, nhead, dropout=0.1, **options)
    norm = nn.LayerNorm(d_model, eps=options.get("layer_norm_eps", 1e-5)) if case["final_norm"] else None
    encoder = nn.TransformerEncoder(layer, case["num_layers"], norm=norm)
    randomize(encoder, generator)
    embedding = nn.Embedding(case["vocab"], d_model)
    with torch.no_grad():
        embedding.weight.copy_(torch.randn(embedding.weight.shape, generator=generator) * 0.5)
    position_table = None
    if case["positional"] == "learned":
        position_table = torch.randn(case["max_positions"], d_model, generator=generator) * 0.3
    return encoder.eval(), embedding, position_table


def sinusoidal_positions(positions: int, d_model: int) -> torch.Tensor:
    """PyTorch tutorial's PositionalEncoding table in float64, written apart from the converter's."""
    position = torch.arange(positions, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
    table = torch.zeros(positions, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * div_term)
    table[:, 1::2] = torch.cos(position * div_term)[:, : d_model // 2]
    return table


def torch_forward(encoder, embedding, case, position_table, sequences) -> List[np.ndarray]:
    """encoder(embedding(ids) + PE[:L], src_key_padding_mask) in float64 on one padded batch; the
    real-token rows of each sequence."""
    encoder64 = copy.deepcopy(encoder).double().eval()
    embedding64 = copy.deepcopy(embedding).double()
    d_model = embedding.embedding_dim
    lmax = max(len(s) for s in sequences)
    if case["positional"] == "sinusoidal":
        pe = sinusoidal_positions(case["max_positions"], d_model)
    elif case["positional"] == "learned":
        pe = position_table.double()
    else:
        pe = torch.zeros(case["max_positions"], d_model, dtype=torch.float64)
    ids = torch.tensor([list(s) + [0] * (lmax - len(s)) for s in sequences], dtype=torch.long)
    mask = torch.tensor([[j >= len(s) for j in range(lmax)] for s in sequences])
    with torch.no_grad(), warnings.catch_warnings():
        # PyTorch 1.13's inference fast path announces its prototype nested tensors; not our concern.
        warnings.filterwarnings("ignore", message=".*nested tensors is in prototype stage.*")
        x = embedding64(ids) + pe[:lmax]
        batch_first = encoder.layers[0].self_attn.batch_first
        out = encoder64(x if batch_first else x.transpose(0, 1), src_key_padding_mask=mask)
        if out.is_nested:
            out = out.to_padded_tensor(0.0, (len(sequences), lmax, d_model) if batch_first
                                       else (lmax, len(sequences), d_model))
        if not batch_first:
            out = out.transpose(0, 1)
    return [out[i, :len(s)].numpy().copy() for i, s in enumerate(sequences)]


# ---------------------------------------------------------------------------------------------------
# one case


def expected_names(num_layers: int, learned: bool, final_norm: bool) -> List[str]:
    names = ["embeddings.word_embeddings.weight"]
    if learned:
        names.append("embeddings.position_embeddings.weight")
    for n in range(num_layers):
        for module in ("attention.self.query", "attention.self.key", "attention.self.value",
                       "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                       "output.dense", "output.LayerNorm"):
            names += [f"encoder.layer.{n}.{module}.weight", f"encoder.layer.{n}.{module}.bias"]
    if final_norm:
        names += ["encoder.LayerNorm.weight", "encoder.LayerNorm.bias"]
    return names


def check_folder(model_dir, case, encoder, embedding, position_table, failures: Failures):
    """Checks config.json and the safetensors against the modules; returns (config, weights)."""
    name = case["name"]
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    layer = case["layer"]
    act = layer["activation"]
    act_name = "relu" if act in ("relu", F.relu) or isinstance(act, nn.ReLU) else "gelu"
    want = {"model_type": "bert", "hidden_size": layer["d_model"], "num_attention_heads": layer["nhead"],
            "intermediate_size": layer["dim_feedforward"], "num_hidden_layers": case["num_layers"],
            "hidden_act": act_name, "layer_norm_eps": layer.get("layer_norm_eps", 1e-5),
            "vocab_size": case["vocab"], "max_position_embeddings": case["max_positions"],
            "type_vocab_size": 0, "norm_first": layer["norm_first"],
            "position_embedding_type": {"sinusoidal": "sinusoidal", "learned": "absolute",
                                        None: "none"}[case["positional"]]}
    for key, value in want.items():
        failures.check(config.get(key) == value, f"{name}: config.json {key} = {config.get(key)!r}, "
                                                 f"expected {value!r}")

    weights, dtypes, _ = mc.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    names = expected_names(case["num_layers"], case["positional"] == "learned", case["final_norm"])
    failures.check(list(weights) == names, f"{name}: tensor names {sorted(set(weights) ^ set(names))} "
                                           "differ from the mapping (or are out of order)")
    failures.check(set(dtypes.values()) == {"F32"}, f"{name}: stored dtypes {set(dtypes.values())}")

    # Spot-check values against the modules directly (the end-to-end comparison covers the rest).
    H = layer["d_model"]
    last = len(encoder.layers) - 1
    spot = {"embeddings.word_embeddings.weight": embedding.weight,
            f"encoder.layer.{last}.attention.self.key.weight": encoder.layers[last].self_attn.in_proj_weight[H:2 * H],
            f"encoder.layer.{last}.attention.self.value.bias": encoder.layers[last].self_attn.in_proj_bias[2 * H:],
            f"encoder.layer.{last}.output.LayerNorm.weight": encoder.layers[last].norm2.weight}
    if position_table is not None:
        spot["embeddings.position_embeddings.weight"] = position_table
    for tensor_name, value in spot.items():
        stored = weights.get(tensor_name)
        failures.check(stored is not None and np.array_equal(stored, value.detach().double().numpy()),
                       f"{name}: {tensor_name} differs from the module's tensor")
    return config, weights


def run_binary(binary, args):
    command = [binary, "run"] + args
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"`{' '.join(command)}` timed out after {RUN_TIMEOUT_S} s"
    if result.returncode != 0:
        return f"`{' '.join(command)}` exited {result.returncode}; stderr: {result.stderr.strip()[:2000]!r}"
    return None


def check_npy(output, expected, hidden, tolerance, label, failures: Failures):
    shape = (len(expected), max(len(e) for e in expected), hidden)
    if not failures.check(output.shape == shape, f"{label}: npy shape {output.shape}, expected {shape}"):
        return None
    failures.check(output.dtype == np.float32, f"{label}: npy dtype {output.dtype}, expected float32")
    if not failures.check(bool(np.all(np.isfinite(output))), f"{label}: non-finite values in the output"):
        return None
    for i, e in enumerate(expected):
        failures.check(bool(np.all(output[i, len(e):] == 0)),
                       f"{label}: sequence {i} (length {len(e)}) has non-zero padding rows")
    error = max(float(np.max(np.abs(output[i, :len(e)] - e))) for i, e in enumerate(expected))
    failures.check(error <= tolerance, f"{label}: max abs error {error:.3e} > {tolerance:g}")
    return error


def run_case(case, binary, workdir, failures: Failures) -> str:
    name = case["name"]
    print(f"[{name}]", flush=True)
    encoder, embedding, position_table = build_modules(case)
    model_dir = os.path.join(workdir, name, "model")
    ct.save_torch_encoder(model_dir, encoder, embedding, positional=case["positional"],
                          max_positions=case["max_positions"], position_table=position_table)
    config, weights = check_folder(model_dir, case, encoder, embedding, position_table, failures)
    hidden = config["hidden_size"]

    rng = np.random.default_rng(case["seed"] + 1000)
    sequences = [rng.integers(0, case["vocab"], length).tolist() for length in case["lengths"]]
    expected = torch_forward(encoder, embedding, case, position_table, sequences)
    scale = max(float(np.max(np.abs(e))) for e in expected)

    # The converter's mapping alone: vecformer's semantics (float64) on the written folder vs PyTorch.
    reference_config = dict(config)
    reference_weights = dict(weights)
    if config["position_embedding_type"] == "none":  # reference_forward knows only tables and sinusoids
        reference_config["position_embedding_type"] = "absolute"
        reference_weights["embeddings.position_embeddings.weight"] = np.zeros((case["max_positions"], hidden))
    reference = mc.reference_forward(reference_weights, reference_config, sequences)
    mapping_error = max(float(np.max(np.abs(r - e))) for r, e in zip(reference, expected))
    failures.check(mapping_error <= MAPPING_TOLERANCE,
                   f"{name}: vecformer's semantics on the converted folder differ from the PyTorch modules "
                   f"by {mapping_error:.3e} > {MAPPING_TOLERANCE:g} (float64): the mapping is wrong")

    token_path = os.path.join(workdir, name, "tokens.txt")
    with open(token_path, "w") as f:
        for s in sequences:
            f.write(" ".join(str(t) for t in s) + "\n")

    errors: Dict[str, Any] = {}
    for backend, tolerance in (("reference", REFERENCE_TOLERANCE), ("optimized", OPTIMIZED_TOLERANCE)):
        out_path = os.path.join(workdir, name, backend + ".npy")
        problem = run_binary(binary, ["--model", model_dir, "--input", token_path, "--output", out_path,
                                      "--backend", backend, "--quiet"])
        if not failures.check(problem is None, f"{name}: {problem}"):
            continue
        if not failures.check(os.path.isfile(out_path), f"{name}: {backend} wrote no {out_path}"):
            continue
        errors[backend] = check_npy(np.load(out_path), expected, hidden, tolerance, f"{name} ({backend})",
                                    failures)

    def fmt(value):
        return "n/a" if value is None else f"{value:.2e}"

    layer = case["layer"]
    summary = (f"{name}: d_model={hidden} nhead={layer['nhead']} ff={layer['dim_feedforward']} "
               f"layers={case['num_layers']} act={config['hidden_act']} norm_first={layer['norm_first']} "
               f"final_norm={case['final_norm']} batch_first={layer['batch_first']} "
               f"pos={config['position_embedding_type']} N={len(sequences)} Lmax={max(case['lengths'])} "
               f"|out|max={scale:.2f} | mapping={fmt(mapping_error)} reference={fmt(errors.get('reference'))} "
               f"optimized={fmt(errors.get('optimized'))}")
    print("  " + summary, flush=True)
    return summary


# ---------------------------------------------------------------------------------------------------
# rejections


def small_encoder(*, num_layers=2, final_norm=False, **layer_options) -> nn.TransformerEncoder:
    options = dict(d_model=16, nhead=2, dim_feedforward=32, batch_first=True)
    options.update(layer_options)
    d_model, nhead = options.pop("d_model"), options.pop("nhead")
    layer = nn.TransformerEncoderLayer(d_model, nhead, **options)
    norm = nn.LayerNorm(d_model, eps=options.get("layer_norm_eps", 1e-5)) if final_norm else None
    return nn.TransformerEncoder(layer, num_layers, norm=norm).eval()


def _with(encoder, change: Callable[[nn.TransformerEncoder], None]) -> nn.TransformerEncoder:
    change(encoder)
    return encoder


def _set_layer_attr(encoder, index, attr, value):
    setattr(encoder.layers[index], attr, value)


# (label, exception type, substring the message must contain, thunk returning save_torch_encoder's args)
REJECTIONS = [
    ("activation F.silu", ValueError, "activation",
     lambda: dict(encoder=small_encoder(activation=F.silu))),
    ("activation nn.GELU(approximate='tanh')", ValueError, "activation",
     lambda: dict(encoder=small_encoder(activation=nn.GELU(approximate="tanh")))),
    ("activation lambda", ValueError, "relu",
     lambda: dict(encoder=small_encoder(activation=lambda t: torch.relu(t)))),
    ("activations differ between layers", ValueError, "activation",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(e, 1, "activation", F.gelu)))),
    ("attention bias=False", ValueError, "in_proj_bias",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(
         e, 0, "self_attn", nn.MultiheadAttention(16, 2, bias=False, batch_first=True))))),
    ("linear1 bias=False", ValueError, "linear1 has no bias",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(e, 1, "linear1",
                                                                           nn.Linear(16, 32, bias=False))))),
    ("linear2 bias=False", ValueError, "linear2 has no bias",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(e, 0, "linear2",
                                                                           nn.Linear(32, 16, bias=False))))),
    ("kdim/vdim different from d_model", ValueError, "kdim",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(
         e, 0, "self_attn", nn.MultiheadAttention(16, 2, kdim=8, vdim=12, batch_first=True))))),
    ("add_bias_kv", ValueError, "add_bias_kv",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(
         e, 0, "self_attn", nn.MultiheadAttention(16, 2, add_bias_kv=True, batch_first=True))))),
    ("add_zero_attn", ValueError, "add_zero_attn",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(
         e, 1, "self_attn", nn.MultiheadAttention(16, 2, add_zero_attn=True, batch_first=True))))),
    ("norm1 without elementwise affine", ValueError, "elementwise affine",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(
         e, 0, "norm1", nn.LayerNorm(16, elementwise_affine=False))))),
    ("final norm without elementwise affine", ValueError, "elementwise affine",
     lambda: dict(encoder=_with(small_encoder(norm_first=True), lambda e: setattr(
         e, "norm", nn.LayerNorm(16, elementwise_affine=False))))),
    ("norm2 eps differs", ValueError, "eps",
     lambda: dict(encoder=_with(small_encoder(), lambda e: setattr(e.layers[1].norm2, "eps", 1e-6)))),
    ("final norm eps differs", ValueError, "eps",
     lambda: dict(encoder=_with(small_encoder(norm_first=True), lambda e: setattr(
         e, "norm", nn.LayerNorm(16, eps=1e-12))))),
    ("norm_first differs between layers", ValueError, "norm_first",
     lambda: dict(encoder=_with(small_encoder(), lambda e: _set_layer_attr(e, 1, "norm_first", True)))),
    ("embedding width differs from d_model", ValueError, "embedding_dim",
     lambda: dict(embedding=nn.Embedding(50, 8))),
    ("embedding with max_norm", ValueError, "max_norm",
     lambda: dict(embedding=nn.Embedding(50, 16, max_norm=1.0))),
    ("unknown positional", ValueError, "positional",
     lambda: dict(positional="rotary")),
    ("learned positions without a table", ValueError, "position_table",
     lambda: dict(positional="learned")),
    ("learned position table of the wrong shape", ValueError, "shape",
     lambda: dict(positional="learned", max_positions=10, position_table=torch.zeros(9, 16))),
    ("position table with sinusoidal positions", ValueError, "position_table",
     lambda: dict(positional="sinusoidal", position_table=torch.zeros(512, 16))),
    ("max_positions 0", ValueError, "max_positions",
     lambda: dict(max_positions=0)),
    ("NaN in a weight", ValueError, "NaN",
     lambda: dict(encoder=_with(small_encoder(), lambda e: e.layers[0].linear1.bias.data.fill_(float("nan"))))),
    ("encoder is a single layer", TypeError, "TransformerEncoder",
     lambda: dict(encoder=nn.TransformerEncoderLayer(16, 2, batch_first=True))),
    ("embedding is a Linear", TypeError, "Embedding",
     lambda: dict(embedding=nn.Linear(16, 16))),
]


def check_rejections(workdir, failures: Failures) -> int:
    for label, error_type, needle, make in REJECTIONS:
        torch.manual_seed(0)
        args = dict(encoder=None, embedding=None, positional="sinusoidal", max_positions=512)
        args.update(make())
        if args["encoder"] is None:
            args["encoder"] = small_encoder()
        if args["embedding"] is None:
            args["embedding"] = nn.Embedding(50, 16)
        out_dir = os.path.join(workdir, "rejected", label.replace(" ", "_").replace("/", "_"))
        try:
            ct.save_torch_encoder(out_dir, **args)
        except Exception as e:  # noqa: BLE001 — any other exception type is the failure being tested
            ok = failures.check(type(e) is error_type and needle in str(e),
                                f"rejects {label}: raised {type(e).__name__}: {e} (expected {error_type.__name__} "
                                f"mentioning {needle!r})")
            if ok:
                print(f"  rejects {label}: {type(e).__name__}: {e}")
        else:
            failures.check(False, f"rejects {label}: save_torch_encoder accepted it")
        failures.check(not os.path.exists(out_dir), f"rejects {label}: {out_dir} was created anyway")
    return len(REJECTIONS)


# ---------------------------------------------------------------------------------------------------
# the --demo command line


def check_demo(binary, workdir, failures: Failures) -> str:
    out_dir = os.path.join(workdir, "demo")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, os.path.join(REPO, "tools", "convert_torch.py"), "--demo", out_dir],
                            capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env)
    if not failures.check(result.returncode == 0, f"convert_torch.py --demo exited {result.returncode}: "
                                                  f"{result.stderr.strip()[:2000]!r}"):
        return "demo: n/a"
    token_path = os.path.join(workdir, "demo_tokens.txt")
    with open(token_path, "w") as f:
        f.write("1 2 3 4\n7\n")
    out_path = os.path.join(workdir, "demo.npy")
    problem = run_binary(binary, ["--model", out_dir, "--input", token_path, "--output", out_path, "--quiet"])
    if not failures.check(problem is None, f"demo: {problem}"):
        return "demo: n/a"
    output = np.load(out_path)
    failures.check(output.shape == (2, 4, 64), f"demo: npy shape {output.shape}, expected (2, 4, 64)")

    # The demo modules themselves, in float64, against the binary's output.
    encoder, embedding = ct.demo_modules(0)
    demo_case = dict(positional="sinusoidal", max_positions=128)
    expected = torch_forward(encoder, embedding, demo_case, None, [[1, 2, 3, 4], [7]])
    error = check_npy(output, expected, 64, OPTIMIZED_TOLERANCE, "demo (optimized)", failures)
    summary = f"demo: convert_torch.py --demo runs; optimized max abs error {error if error is None else f'{error:.2e}'}"
    print("  " + summary)
    return summary


def main() -> int:
    args = script_arguments("test_convert_torch", __doc__.splitlines()[0])
    if args is None:
        return 1
    binary = args.binary

    failures = Failures()
    with scratch_folder("vecformer_convert_torch_", args.keep) as workdir:
        summaries = [run_case(case, binary, workdir, failures) for case in CASES]
        print("[rejections]", flush=True)
        count = check_rejections(workdir, failures)
        print("[demo]", flush=True)
        summaries.append(check_demo(binary, workdir, failures))
        summaries.append(f"rejections: {count} configurations checked")
        print("\nsummary (max abs error against PyTorch in float64; tolerances: mapping "
              f"{MAPPING_TOLERANCE:g}, reference {REFERENCE_TOLERANCE:g}, optimized {OPTIMIZED_TOLERANCE:g}):")
        for line in summaries:
            print("  " + line)
    return report("test_convert_torch", failures.messages)


if __name__ == "__main__":
    sys.exit(main())
