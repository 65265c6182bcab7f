#!/usr/bin/python3
"""Modern encoders against ONNX Runtime: ModernBERT-base and nomic-embed-text-v1.5 shapes, random weights,
the same model in both engines, fp32.

    bench/peers/run_peers.sh --modern [--threads 2] [--rounds 5] [--iters 20] [--ort-max-seq 4096]
    bench/peers/run_peers.sh --modern --small      # end-to-end check: 2-layer models, 1 round, 2 iterations

(run_peers.sh installs onnxruntime-node and passes --binary, --cache and --ort-module.) Steps:

1. Model folders (tools/make_checkpoint.py --family modernbert | nomic_bert, seed 1), cached under the
   peers cache and regenerated when the generator or its arguments change:
   - ModernBERT-base (answerdotai/ModernBERT-base's config.json): hidden 768, 12 heads, 22 layers,
     intermediate 1152 (GeGLU, exact gelu), vocab 50368, max_position_embeddings 8192, local_attention 128,
     global_attn_every_n_layers 3, global_rope_theta 160000, local_rope_theta 10000, norm_eps 1e-5, no
     biases.
   - nomic-embed-text-v1.5 (nomic-ai/nomic-embed-text-v1.5's config.json): n_embd 768, 12 heads, 12 layers,
     n_inner 3072 (SwiGLU), vocab 30528, n_positions 8192, rotary_emb_fraction 1.0, rotary_emb_base 1000,
     max_trained_positions 2048, rotary_scaling_factor null (the published config's value: no dynamic
     NTK; with a factor it would change the base only past 2048 tokens, which no case here reaches),
     layer_norm_epsilon 1e-12, no biases.
   Each exported to ONNX (opset 17, dynamic batch and sequence) from bench/peers/modern_torch.py's float32
   module, written from the same definitions as tools/modern_checkpoint.py's float64 reference.
2. Correctness first: `vecformer run` (last hidden states, .npy) against ONNX Runtime's output for one
   padded batch of a few sequences (ModernBERT's longest spans 8 local windows), real tokens only; both
   also against the float64 reference. Any max abs error above 1e-3 stops the run.
3. Timing, R rounds, the engine order alternating between rounds: each model at 1x128, 8x128 and 1x2048,
   and ModernBERT-base's sequence-length curve at batch 1 (--curve, default 128 ... 8192; ONNX Runtime up
   to --ort-max-seq, as its attention holds [12, S, S] float32 scores per layer). vecformer: `vecformer
   bench --model DIR --batch B --seq S --json`; ONNX Runtime: bench/peers/ort_worker.js on the same shape,
   no padding. Iterations shrink with the tokens: max(3, iters x 128 / tokens), 1 past 2048 tokens. A
   figure is the median over rounds; a ratio is the median of the per-round ratios (range in brackets).
4. Peak RSS per length (ModernBERT-base, batch 1, once per run): a fresh `vecformer run` on one sequence
   (ru_maxrss of the child), and a fresh ONNX Runtime worker doing one forward up to --ort-max-seq.
5. A Markdown report on stdout; JSON in bench/peers/results/modern.json; SVG curves (time and RSS against
   length) beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import peers  # noqa: E402  (log, run, JsonWorker, ForeignLoad, machine_info, git_state, fma_peak, svg_chart)

TOLERANCE = 1e-3
TARGET = 0.85  # issue 14: vecformer fp32 at most 0.85x ONNX Runtime's time at 1x128, 8x128, 1x2048
SHAPES = [(1, 128), (8, 128), (1, 2048)]
CURVE = [128, 512, 1024, 2048, 4096, 8192]
SMALL_CURVE = [128, 512, 2048, 8192]

# The real models' config values (see the module docstring), as make_checkpoint.py arguments.
MODELS: Dict[str, Dict[str, Any]] = {
    "modernbert": {
        "label": "ModernBERT-base", "family": "modernbert", "layers": 22, "vocab": 50368,
        "args": ["--hidden", "768", "--heads", "12", "--intermediate", "1152", "--vocab", "50368",
                 "--max-positions", "8192", "--set", "local_attention=128",
                 "--set", "global_attn_every_n_layers=3", "--set", "global_rope_theta=160000.0",
                 "--set", "local_rope_theta=10000.0", "--set", 'hidden_activation="gelu"',
                 "--set", "norm_eps=1e-05", "--set", "pad_token_id=50283", "--set", "bos_token_id=50281",
                 "--set", "eos_token_id=50282", "--set", "cls_token_id=50281", "--set", "sep_token_id=50282"],
        "check_lengths": [1024, 300, 37, 9],
    },
    "nomic": {
        "label": "nomic-embed-text-v1.5", "family": "nomic_bert", "layers": 12, "vocab": 30528,
        "args": ["--hidden", "768", "--heads", "12", "--intermediate", "3072", "--vocab", "30528",
                 "--max-positions", "8192", "--set", 'activation_function="swiglu"',
                 "--set", "rotary_emb_fraction=1.0", "--set", "rotary_emb_base=1000",
                 "--set", "rotary_emb_interleaved=false", "--set", "rotary_scaling_factor=null",
                 "--set", "max_trained_positions=2048", "--set", "pad_vocab_size_multiple=64",
                 "--set", "layer_norm_epsilon=1e-12", "--set", "type_vocab_size=2"],
        "check_lengths": [600, 128, 37, 9],
    },
}


def stamped(path: str, stamp: Dict[str, Any], make) -> None:
    """Runs make() when path is missing or its stamp (path + ".stamp.json") differs from `stamp`."""
    stamp_path = path + ".stamp.json"
    current = None
    if os.path.exists(stamp_path):
        with open(stamp_path) as f:
            current = json.load(f)
    if current != stamp or not os.path.exists(path):
        make()
        with open(stamp_path, "w") as f:
            json.dump(stamp, f)


def ensure_models(cache: str, layers_override: Optional[int]) -> Dict[str, str]:
    generator = os.path.join(ROOT, "tools", "make_checkpoint.py")
    sources = [generator, os.path.join(ROOT, "tools", "modern_checkpoint.py")]
    dirs = {}
    for key, m in MODELS.items():
        layers = layers_override or m["layers"]
        d = os.path.join(cache, "models", f"{key}-{layers}l")
        argv = ["/usr/bin/python3", generator, d, "--family", m["family"], "--layers", str(layers),
                "--seed", "1", *m["args"]]
        stamp = {"generator_sha256": [peers.sha256_file(s) for s in sources], "argv": argv[3:]}

        def make(argv=argv, d=d) -> None:
            peers.log(f"generating {d}")
            peers.run(argv)
        stamped(os.path.join(d, "model.safetensors"), stamp, make)
        dirs[key] = d
    return dirs


def ensure_onnx(dirs: Dict[str, str]) -> Dict[str, str]:
    exporter = os.path.join(HERE, "modern_torch.py")
    sources = [exporter, os.path.join(ROOT, "tools", "modern_checkpoint.py")]
    paths = {}
    for key, d in dirs.items():
        path = os.path.join(d, "model.onnx")
        stamp = {"exporter_sha256": [peers.sha256_file(s) for s in sources],
                 "weights_mtime": os.path.getmtime(os.path.join(d, "model.safetensors"))}

        def make(d=d, path=path) -> None:
            peers.log(f"exporting {path}")
            peers.run(["/usr/bin/python3", exporter, "export", d, path])
        stamped(path, stamp, make)
        paths[key] = path
    return paths


def read_config(d: str) -> Dict[str, Any]:
    with open(os.path.join(d, "config.json")) as f:
        return json.load(f)


def layers_of(config: Dict[str, Any]) -> int:
    return config.get("num_hidden_layers", config.get("n_layer", 0))


def ort_forward(ort: peers.JsonWorker, onnx: str, ids: List[List[int]], mask: List[List[int]], threads: int,
                work: str) -> np.ndarray:
    out = os.path.join(work, "ort_out.bin")
    answer = ort.ask({"op": "forward", "onnx": onnx, "threads": threads, "input_ids": ids,
                      "attention_mask": mask, "out": out})
    return np.fromfile(out, dtype="<f4").reshape(answer["dims"])


def correctness(binary: str, vf_env: Dict[str, str], dirs: Dict[str, str], onnx: Dict[str, str],
                ort: peers.JsonWorker, threads: int, work: str, with_reference: bool) -> Dict[str, Any]:
    import make_checkpoint
    import modern_checkpoint

    report: Dict[str, Any] = {}
    for key, d in dirs.items():
        m = MODELS[key]
        lengths = m["check_lengths"]
        rng = np.random.default_rng(7)
        seqs = [rng.integers(0, m["vocab"], size=n).tolist() for n in lengths]
        path = os.path.join(work, f"check_{key}.txt")
        with open(path, "w") as f:
            f.writelines(" ".join(map(str, s)) + "\n" for s in seqs)
        vf_path = os.path.join(work, f"check_{key}.npy")
        peers.run([binary, "run", "--model", d, "--input", path, "--output", vf_path, "--threads", str(threads),
                   "--quiet"], env=vf_env)
        vf = np.load(vf_path)
        L = max(lengths)
        ids = [s + [0] * (L - len(s)) for s in seqs]
        mask = [[1] * len(s) + [0] * (L - len(s)) for s in seqs]
        ort_out = ort_forward(ort, onnx[key], ids, mask, threads, work)

        def err(a, b) -> float:
            return max(float(np.abs(np.asarray(a[i][:n], np.float64) - np.asarray(b[i][:n], np.float64)).max())
                       for i, n in enumerate(lengths))
        row: Dict[str, Any] = {"lengths": lengths, "padded_batch": [len(seqs), L],
                               "vecformer_vs_ort": err(vf, ort_out)}
        if with_reference:
            config = read_config(d)
            raw, _, _ = make_checkpoint.read_safetensors(os.path.join(d, "model.safetensors"))
            ref = modern_checkpoint.modern_reference_forward(raw, config, seqs)
            del raw
            row["vecformer_vs_f64"] = err(vf, ref)
            row["ort_vs_f64"] = err(ort_out, ref)
        peers.log(f"correctness {key}: " + ", ".join(f"{k} {v:.2e}" for k, v in row.items() if isinstance(v, float)))
        bad = {k: v for k, v in row.items() if isinstance(v, float) and v > TOLERANCE}
        if bad:
            raise RuntimeError(f"{key}: max abs error above {TOLERANCE}: {bad}")
        report[key] = row
    return report


def iterations(iters: int, tokens: int) -> int:
    if tokens > 2048:
        return 1
    return max(3, round(iters * 128 / tokens))


def vecformer_bench(binary: str, vf_env: Dict[str, str], d: str, batch: int, seq: int, threads: int,
                    iters: int) -> Dict[str, Any]:
    out = peers.run([binary, "bench", "--model", d, "--batch", str(batch), "--seq", str(seq), "--threads",
                     str(threads), "--iters", str(iters), "--json"], env=vf_env)
    return json.loads(next(line for line in reversed(out.stdout.splitlines()) if line.startswith("{")))


def ort_bench(ort: peers.JsonWorker, onnx: str, vocab: int, batch: int, seq: int, threads: int,
              iters: int) -> Dict[str, Any]:
    ids = np.random.default_rng(seq * 31 + batch).integers(0, vocab, size=(batch, seq)).tolist()
    request = {"op": "bench", "onnx": onnx, "threads": threads, "input_ids": ids,
               "attention_mask": [[1] * seq for _ in range(batch)], "iters": iters}
    if batch * seq > 2048:
        request["warmup"] = 1
    return ort.ask(request)


# A fresh interpreter whose only child is the measured command: RUSAGE_CHILDREN's ru_maxrss (KiB) is that
# command's peak RSS. stdin: the file named by the first argument ("-" for none).
RSS_WRAPPER = """import resource, subprocess, sys
stdin = subprocess.DEVNULL if sys.argv[1] == "-" else open(sys.argv[1])
r = subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
sys.stderr.write(r.stderr + r.stdout[-2000:])
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss(argv: List[str], stdin: str = "-", env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    try:
        out = peers.run(["/usr/bin/python3", "-c", RSS_WRAPPER, stdin, *argv], env=env, timeout=1800)
        status, kib = map(int, out.stdout.split())
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        return {"error": peers.error_text(e)}
    if status != 0:
        last = out.stderr.strip().splitlines()[-1:]
        return {"error": f"exit status {status}" + (f": {last[0]}" if last else "")}
    if '{"error"' in out.stderr:  # the ORT worker answers errors on stdout (passed through on stderr)
        return {"error": out.stderr.strip().splitlines()[-1][:300]}
    return {"peak_rss_bytes": kib * 1024}


def memory(binary: str, vf_env: Dict[str, str], d: str, onnx: str, ort_module: str, vocab: int,
           lengths: List[int], ort_max: int, threads: int, work: str) -> List[Dict[str, Any]]:
    rows = []
    for n in lengths:
        ids = np.random.default_rng(n).integers(0, vocab, size=n).tolist()
        tokens = os.path.join(work, f"rss_{n}.txt")
        with open(tokens, "w") as f:
            f.write(" ".join(map(str, ids)) + "\n")
        row: Dict[str, Any] = {"tokens": n}
        row["vecformer"] = peak_rss([binary, "run", "--model", d, "--input", tokens, "--output",
                                     os.path.join(work, "rss_out.npy"), "--threads", str(threads), "--quiet"],
                                    env=vf_env)
        if n <= ort_max:
            request = os.path.join(work, f"rss_{n}.jsonl")
            with open(request, "w") as f:
                f.write(json.dumps({"op": "forward", "onnx": onnx, "threads": threads, "input_ids": [ids],
                                    "attention_mask": [[1] * n], "out": os.path.join(work, "rss_ort.bin")}) + "\n")
            row["onnxruntime"] = peak_rss(["node", os.path.join(HERE, "ort_worker.js")], request,
                                          dict(os.environ, ORT_NODE_MODULE=ort_module))
        peers.log(f"peak RSS at {n} tokens: " + ", ".join(
            f"{e} " + (f"{r['peak_rss_bytes'] / 2**20:.0f} MiB" if "peak_rss_bytes" in r else r["error"])
            for e, r in row.items() if e != "tokens"))
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary")
    parser.add_argument("--cache")
    parser.add_argument("--ort-module", help="path of node_modules/onnxruntime-node")
    parser.add_argument("--report", metavar="JSON",
                        help="print the Markdown report of an earlier run's JSON (and rewrite its SVGs), then exit")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=None,
                        help="default 5 (--small: 1); 0: the correctness check (and peak RSS) only")
    parser.add_argument("--iters", type=int, default=None,
                        help="timed iterations at 128 tokens, fewer for more tokens (default 20; --small: 2)")
    parser.add_argument("--curve", default=None,
                        help="ModernBERT batch-1 lengths, comma-separated (default " + ",".join(map(str, CURVE))
                        + "; --small: " + ",".join(map(str, SMALL_CURVE)) + ")")
    parser.add_argument("--ort-max-seq", type=int, default=None,
                        help="longest curve length (and RSS) run on ONNX Runtime (default 4096; --small: 2048)")
    parser.add_argument("--no-reference", action="store_true", help="skip the float64 reference in the check")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS measurements")
    parser.add_argument("--small", action="store_true",
                        help="check the script end to end: 2-layer models (own cache folders), 1 round, "
                             "2 iterations; results under the cache unless --output is given")
    parser.add_argument("--output", default=None, help="JSON (default bench/peers/results/modern.json; "
                        "--small: CACHE/modern-small/modern.json); the SVG curves go beside it")
    args = parser.parse_args()
    if args.report:
        with open(args.report) as f:
            rep = json.load(f)
        write_svgs(rep, os.path.dirname(os.path.abspath(args.report)))
        print_report(rep, args.report)
        return 0
    if not (args.binary and args.cache and args.ort_module):
        parser.error("--binary, --cache and --ort-module are required (run_peers.sh --modern passes them)")
    small = args.small
    rounds = args.rounds if args.rounds is not None else (1 if small else 5)
    iters = args.iters if args.iters is not None else (2 if small else 20)
    curve = [int(x) for x in args.curve.split(",")] if args.curve else (SMALL_CURVE if small else CURVE)
    ort_max = args.ort_max_seq or (2048 if small else 4096)
    output = args.output or (os.path.join(args.cache, "modern-small", "modern.json") if small
                             else os.path.join(HERE, "results", "modern.json"))
    binary = os.path.abspath(args.binary)

    dirs = ensure_models(args.cache, 2 if small else None)
    onnx = ensure_onnx(dirs)
    ort_argv = ["node", os.path.join(HERE, "ort_worker.js")]
    ort_env = dict(os.environ, ORT_NODE_MODULE=args.ort_module)
    ort = peers.JsonWorker("onnxruntime", ort_argv, ort_env)
    rep: Dict[str, Any] = {
        "machine": peers.machine_info(), "threads": args.threads, "rounds": rounds, "iters": iters,
        "small": small, "git": peers.git_state(), "ort": ort.ask({"op": "info"})["versions"],
        "models": {k: {"label": MODELS[k]["label"], "dir": d, "config": read_config(d)} for k, d in dirs.items()},
        "curve": curve, "ort_max_seq": ort_max}
    # (model, batch, seq, on ONNX Runtime too)
    cases: List[Tuple[str, int, int, bool]] = [(k, b, s, True) for k in dirs for b, s in SHAPES]
    cases += [("modernbert", 1, s, s <= ort_max) for s in curve if (1, s) not in SHAPES]
    load = peers.ForeignLoad([ort.proc.pid])
    rounds_out: List[Dict[str, Dict[str, Any]]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="vecformer_modern_peers_") as work:
            # A private copy of the binary: a rebuild of build/ during the run cannot change what is measured.
            binary, vf_env = peers.snapshot_binary(binary, work)
            rep["correctness"] = correctness(binary, vf_env, dirs, onnx, ort, args.threads, work,
                                             not args.no_reference)
            for r in range(rounds):
                times: Dict[str, Dict[str, Any]] = {}
                order = ["vecformer", "onnxruntime"] if r % 2 == 0 else ["onnxruntime", "vecformer"]
                for key, batch, seq, with_ort in cases:
                    n = iterations(iters, batch * seq)
                    for engine in order:
                        if engine == "onnxruntime" and not with_ort:
                            continue
                        start = load.start()
                        if engine == "vecformer":
                            res = vecformer_bench(binary, vf_env, dirs[key], batch, seq, args.threads, n)
                        elif (batch, seq) in SHAPES:
                            res = ort_bench(ort, onnx[key], MODELS[key]["vocab"], batch, seq, args.threads, n)
                        else:  # a long curve point may exhaust memory: note it, restart the worker, go on
                            try:
                                res = ort_bench(ort, onnx[key], MODELS[key]["vocab"], batch, seq, args.threads, n)
                            except RuntimeError as e:
                                peers.log(f"ONNX Runtime at {batch}x{seq}: {e}")
                                res = {"error": str(e)[:500]}
                                if ort.proc.poll() is not None:
                                    ort = peers.JsonWorker("onnxruntime", ort_argv, ort_env)
                                    load = peers.ForeignLoad([ort.proc.pid])
                        res["foreign_cpu_share"] = load.share(start)
                        times[f"{key} {batch}x{seq} {engine}"] = res
                rounds_out.append(times)
                peers.log(f"round {r + 1}/{rounds}: " + ", ".join(
                    f"{k} {v['median_ms']:.1f} ms" for k, v in times.items() if "median_ms" in v))
            if not args.no_memory:
                rep["memory"] = memory(binary, vf_env, dirs["modernbert"], onnx["modernbert"], args.ort_module,
                                       MODELS["modernbert"]["vocab"], curve, ort_max, args.threads, work)
    finally:
        ort.close()
    # Beside the build's binary (`binary` is the private copy by now).
    rep["fma_peak"] = peers.fma_peak(os.path.join(os.path.dirname(os.path.abspath(args.binary)), "bench",
                                                  "vecformer_bench"))
    rep["rounds_ms"] = rounds_out

    def med(name: str) -> Optional[float]:
        values = [t[name]["median_ms"] for t in rounds_out if "median_ms" in t.get(name, {})]
        return statistics.median(values) if values else None

    def ratios(num: str, den: str) -> List[float]:
        return [t[num]["median_ms"] / t[den]["median_ms"] for t in rounds_out
                if "median_ms" in t.get(num, {}) and "median_ms" in t.get(den, {})]

    rows = []
    for key, batch, seq, with_ort in cases:
        name = f"{key} {batch}x{seq}"
        vf, ox = med(name + " vecformer"), med(name + " onnxruntime")
        rr = ratios(name + " vecformer", name + " onnxruntime")
        rows.append({"model": key, "batch": batch, "seq": seq, "tokens": batch * seq,
                     "iters": iterations(iters, batch * seq), "vecformer_ms": vf, "ort_ms": ox,
                     "ratio": statistics.median(rr) if rr else None,
                     "ratio_range": [min(rr), max(rr)] if rr else None,
                     "target": (batch, seq) in SHAPES})
    rep["rows"] = rows
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as f:
        json.dump(rep, f, indent=2)
    write_svgs(rep, os.path.dirname(os.path.abspath(output)))
    print_report(rep, output)
    return 0


def fmt(v: Optional[float], spec: str = "{:.1f}") -> str:
    return "–" if v is None else spec.format(v)


def curve_points(rep: Dict[str, Any]) -> List[Dict[str, Any]]:
    by_seq = {r["seq"]: r for r in rep["rows"] if r["model"] == "modernbert" and r["batch"] == 1}
    mem = {m["tokens"]: m for m in rep.get("memory", [])}
    points = []
    for s in rep["curve"]:
        r = by_seq.get(s, {})
        m = mem.get(s, {})

        def mib(engine: str) -> Optional[float]:
            v = m.get(engine, {}).get("peak_rss_bytes")
            return v / 2**20 if v else None
        points.append({"seq": s, "vecformer_ms": r.get("vecformer_ms"), "ort_ms": r.get("ort_ms"),
                       "ratio": r.get("ratio"), "vecformer_rss_mib": mib("vecformer"), "ort_rss_mib": mib("onnxruntime")})
    return points


def write_svgs(rep: Dict[str, Any], out_dir: str) -> None:
    points = curve_points(rep)
    xs = [p["seq"] for p in points]
    note = f"random ModernBERT-base weights, fp32, batch 1, {rep['threads']} threads, median of {rep['rounds']} rounds"
    series = [{"name": "vecformer", "color": peers.ENGINE_COLOR["vecformer"], "values": [p["vecformer_ms"] for p in points]},
              {"name": "ONNX Runtime", "color": peers.ENGINE_COLOR["onnxruntime"], "values": [p["ort_ms"] for p in points]}]
    with open(os.path.join(out_dir, "modern_seq_curve.svg"), "w") as f:
        f.write(peers.svg_chart("ModernBERT-base: time per forward against length", "tokens (batch 1)",
                                "ms per forward", xs, series, log2x=True, note=note))
    if rep.get("memory"):
        series = [{"name": "vecformer run", "color": peers.ENGINE_COLOR["vecformer"],
                   "values": [p["vecformer_rss_mib"] for p in points]},
                  {"name": "ONNX Runtime", "color": peers.ENGINE_COLOR["onnxruntime"],
                   "values": [p["ort_rss_mib"] for p in points]}]
        with open(os.path.join(out_dir, "modern_peak_rss.svg"), "w") as f:
            f.write(peers.svg_chart("ModernBERT-base: peak RSS against length", "tokens (batch 1)",
                                    "peak RSS, MiB", xs, series, log2x=True,
                                    note="one fresh process per length: vecformer run / one ONNX Runtime forward"))


def print_report(rep: Dict[str, Any], output: str) -> None:
    peak = rep["fma_peak"].get("gflops", {})
    print(f"Machine: {rep['machine']['model_name']}, {rep['machine']['cpus']} CPUs; fp32 FMA peak "
          + (", ".join(f"{v:.0f} GFLOP/s on {k} thread(s)" for k, v in sorted(peak.items())) or "not measured")
          + f"; ONNX Runtime {rep['ort'].get('node', '?')}; fp32, {rep['threads']} threads, {rep['rounds']} rounds"
          + (" (--small: 2-layer models, not the real figures)" if rep["small"] else "") + ".\n")
    print("Correctness (max abs error on real tokens; stop above 1e-3): " + "; ".join(
        f"{MODELS[k]['label']} lengths {c['lengths']}: " + ", ".join(
            f"{name.replace('_', ' ')} {v:.1e}" for name, v in c.items() if isinstance(v, float))
        for k, c in rep["correctness"].items()) + ".\n")
    print("| model | batch × seq | vecformer ms | ONNX Runtime ms | vecformer / ORT (per-round median, range) "
          "| target ≤ 0.85 |")
    print("|---|---|---|---|---|---|")
    for r in rep["rows"]:
        if not r["target"]:
            continue
        met = "–" if r["ratio"] is None else ("met" if r["ratio"] <= TARGET else "not met")
        rng = f" ({r['ratio_range'][0]:.2f}–{r['ratio_range'][1]:.2f})" if r["ratio_range"] else ""
        layers = layers_of(rep["models"][r["model"]]["config"])
        print(f"| {MODELS[r['model']]['label']} ({layers} layers) "
              f"| {r['batch']}×{r['seq']} | {fmt(r['vecformer_ms'])} | {fmt(r['ort_ms'])} "
              f"| **{fmt(r['ratio'], '{:.2f}')}**{rng} | {met} |")
    print("\nModernBERT-base sequence-length curve (batch 1; ONNX Runtime up to "
          f"{rep['ort_max_seq']} tokens; peak RSS of a fresh process per length):\n")
    points = curve_points(rep)
    first = points[0] if points else {}

    def per_token(p: Dict[str, Any], key: str) -> Optional[float]:
        """KiB of peak RSS per token above the shortest length: constant when memory is linear in length."""
        if p is first or p.get(key) is None or first.get(key) is None:
            return None
        return (p[key] - first[key]) * 1024 / (p["seq"] - first["seq"])
    print("| tokens | vecformer ms | vecformer tokens/s | ONNX Runtime ms | vecformer / ORT "
          "| vecformer run peak RSS MiB (KiB/token above the first) "
          "| ONNX Runtime peak RSS MiB (KiB/token above the first) |")
    print("|---|---|---|---|---|---|---|")
    for p in points:
        tps = p["seq"] / (p["vecformer_ms"] / 1000) if p["vecformer_ms"] else None
        vslope, oslope = per_token(p, "vecformer_rss_mib"), per_token(p, "ort_rss_mib")
        print(f"| {p['seq']} | {fmt(p['vecformer_ms'])} | {fmt(tps, '{:,.0f}')} | {fmt(p['ort_ms'])} "
              f"| {fmt(p['ratio'], '{:.2f}')} | {fmt(p['vecformer_rss_mib'], '{:,.0f}')}"
              + (f" ({vslope:,.0f})" if vslope is not None else "")
              + f" | {fmt(p['ort_rss_mib'], '{:,.0f}')}" + (f" ({oslope:,.0f})" if oslope is not None else "") + " |")
    print(f"\nJSON: {output}; curves: modern_seq_curve.svg, modern_peak_rss.svg beside it.")


if __name__ == "__main__":
    sys.exit(main())
