#!/usr/bin/python3
"""Task heads against ONNX Runtime: what a head costs on top of the encoder, in vecformer and in ONNX
Runtime's exported Hugging Face task models, side by side in one run.

    bench/peers/run_peers.sh --heads [--threads 2] [--rounds 5] [--iters 30]

(run_peers.sh installs onnxruntime-node and passes --binary, --cache and --ort-module.) Steps:

1. BERT-base-sized task folders (tools/make_checkpoint.py, 12 layers, seed 1): BertForSequenceClassification
   (2 labels) and BertForMaskedLM (tied decoder), cached; each exported to ONNX twice by
   bench/peers/torch_bert.py: the bare encoder (last_hidden_state) and the task model with its head
   (logits: [B, 2] for classification; [B, S, 30522] for the masked LM, every position and every
   vocabulary entry, which is what the exported Hugging Face model computes).
2. Correctness: vecformer's `classify` logits and `fill-mask` top-5 (ids and softmax scores) on a few
   sequences against ONNX Runtime's logits of the same inputs (max abs error <= 1e-3, top-5 ids equal;
   else stop).
3. Timing at batch 1 x 128 tokens: R rounds, the engine order alternating between rounds. vecformer:
   `vecformer bench --head` (the encoder alone and the encoder + head interleaved, call by call; the
   masked LM decodes one [MASK] row); ONNX Runtime (ort_worker.js): the encoder graph, then the task graph,
   N iterations each after a warm-up. A case's figure is the median over rounds; each ratio is the median of
   the per-round ratios.
4. A Markdown table on stdout (pasted into docs/PERFORMANCE_NOTES.md) and the raw results as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from typing import Any, Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import peers  # noqa: E402  (log, run, JsonWorker, machine_info, fma_peak, sha256_file)

TOLERANCE = 1e-3
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CLS, SEP, MASK = 2, 3, 4
ARCHITECTURES = {"classification": "BertForSequenceClassification", "masked_lm": "BertForMaskedLM"}


def ensure_task_models(cache: str, layers: int) -> Dict[str, str]:
    """The two task folders (with a vocab.txt naming the special tokens, for fill-mask's [MASK]),
    regenerated when the generator or its arguments change."""
    generator = os.path.join(ROOT, "tools", "make_checkpoint.py")
    dirs = {}
    for kind, architecture in ARCHITECTURES.items():
        d = os.path.join(cache, "models", f"bert-base-{layers}l-{kind}")
        argv = ["/usr/bin/python3", generator, d, "--layers", str(layers), "--architecture", architecture]
        argv += peers.MODEL_ARGS + (["--num-labels", "2"] if kind == "classification" else [])
        stamp = {"generator_sha256": peers.sha256_file(generator), "argv": argv[2:]}
        stamp_path = os.path.join(d, "peers_stamp.json")
        current = None
        if os.path.exists(stamp_path):
            with open(stamp_path) as f:
                current = json.load(f)
        if current != stamp or not os.path.exists(os.path.join(d, "model.safetensors")):
            peers.log(f"generating {d}")
            peers.run(argv)
            with open(os.path.join(d, "vocab.txt"), "w") as f:
                f.writelines((SPECIALS[i] if i < len(SPECIALS) else f"w{i}") + "\n" for i in range(30522))
            with open(stamp_path, "w") as f:
                json.dump(stamp, f)
        dirs[kind] = d
    return dirs


def ensure_task_onnx(dirs: Dict[str, str]) -> Dict[str, str]:
    """kind -> ONNX file of the task model; "encoder" -> the bare encoder (the classification folder's)."""
    exporter = os.path.join(HERE, "torch_bert.py")
    paths = {}
    jobs = [("encoder", dirs["classification"], "encoder.onnx", [])]
    jobs += [(kind, d, "task.onnx", ["--head"]) for kind, d in dirs.items()]
    for key, d, name, extra in jobs:
        path = os.path.join(d, name)
        stamp = {"exporter_sha256": peers.sha256_file(exporter), "extra": extra,
                 "weights_mtime": os.path.getmtime(os.path.join(d, "model.safetensors"))}
        stamp_path = os.path.join(d, name + ".stamp.json")
        current = None
        if os.path.exists(stamp_path):
            with open(stamp_path) as f:
                current = json.load(f)
        if current != stamp or not os.path.exists(path):
            peers.log(f"exporting {path}")
            peers.run(["/usr/bin/python3", exporter, "export", *extra, d, path])
            with open(stamp_path, "w") as f:
                json.dump(stamp, f)
        paths[key] = path
    return paths


def sequences(rng: np.random.Generator, lengths: List[int], masks: bool) -> List[List[int]]:
    out = []
    for length in lengths:
        ids = [CLS] + [int(i) for i in rng.integers(len(SPECIALS), 30522, size=length - 2)] + [SEP]
        if masks:
            ids[length // 2] = MASK
        out.append(ids)
    return out


def ort_logits(ort: peers.JsonWorker, onnx: str, ids: List[int], threads: int, work: str) -> np.ndarray:
    out = os.path.join(work, "ort_out.bin")
    answer = ort.ask({"op": "forward", "onnx": onnx, "threads": threads, "input_ids": [ids],
                      "attention_mask": [[1] * len(ids)], "out": out})
    return np.fromfile(out, dtype=np.float32).reshape(answer["dims"])


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def correctness(binary: str, dirs: Dict[str, str], onnx: Dict[str, str], ort: peers.JsonWorker, threads: int,
                work: str) -> Dict[str, Any]:
    rng = np.random.default_rng(7)
    report: Dict[str, Any] = {}
    for kind in ARCHITECTURES:
        seqs = sequences(rng, [128, 37, 9], kind == "masked_lm")
        path = os.path.join(work, f"{kind}.txt")
        with open(path, "w") as f:
            f.writelines(" ".join(map(str, s)) + "\n" for s in seqs)
        command = ["classify"] if kind == "classification" else ["fill-mask", "--top-k", "5"]
        out = peers.run([binary, *command, "--model", dirs[kind], "--input", path, "--quiet"])
        lines = [json.loads(line) for line in out.stdout.splitlines()]
        worst = 0.0
        for ids, line in zip(seqs, lines):
            logits = ort_logits(ort, onnx[kind], ids, threads, work)
            if kind == "classification":
                worst = max(worst, float(np.max(np.abs(np.asarray(line["logits"]) - logits[0]))))
                continue
            (mask,) = line["masks"]
            probs = softmax(logits[0, mask["position"]].astype(np.float64))
            want_ids = list(np.argsort(-probs)[:5])
            got_ids = [p["token_id"] for p in mask["predictions"]]
            if got_ids != want_ids:
                raise RuntimeError(f"{kind}: top-5 {got_ids} against ONNX Runtime's {want_ids}")
            worst = max(worst, max(abs(p["score"] - probs[p["token_id"]]) for p in mask["predictions"]))
        if worst > TOLERANCE:
            raise RuntimeError(f"{kind}: max abs error {worst:.3g} against ONNX Runtime > {TOLERANCE}")
        report[kind] = {"sequences": len(seqs), "max_abs_error": worst,
                        "compared": "logits" if kind == "classification" else "top-5 ids and softmax scores"}
        peers.log(f"correctness {kind}: max abs error {worst:.2e} against ONNX Runtime")
    return report


def vecformer_head(binary: str, d: str, threads: int, iters: int) -> Dict[str, Any]:
    out = peers.run([binary, "bench", "--model", d, "--batch", "1", "--seq", "128", "--threads", str(threads),
                     "--iters", str(iters), "--head", "--masks", "1", "--json"])
    return json.loads(next(line for line in reversed(out.stdout.splitlines()) if line.startswith("{")))


def ort_bench(ort: peers.JsonWorker, onnx: str, ids: List[int], threads: int, iters: int) -> float:
    return float(ort.ask({"op": "bench", "onnx": onnx, "threads": threads, "input_ids": [ids],
                          "attention_mask": [[1] * len(ids)], "iters": iters})["median_ms"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--cache", required=True)
    parser.add_argument("--ort-module", required=True, help="path of node_modules/onnxruntime-node")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "heads.json"))
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    dirs = ensure_task_models(args.cache, args.layers)
    onnx = ensure_task_onnx(dirs)
    ort = peers.JsonWorker("onnxruntime", ["node", os.path.join(HERE, "ort_worker.js")],
                           dict(os.environ, ORT_NODE_MODULE=args.ort_module))
    rep: Dict[str, Any] = {"machine": peers.machine_info(), "threads": args.threads, "rounds": args.rounds,
                           "iters": args.iters, "layers": args.layers, "git": peers.git_state(),
                           "ort": ort.ask({"op": "info"})["versions"]}
    try:
        with tempfile.TemporaryDirectory(prefix="vecformer_heads_peers_") as work:
            rep["correctness"] = correctness(binary, dirs, onnx, ort, args.threads, work)
        ids = sequences(np.random.default_rng(1), [128], masks=True)[0]
        rounds: List[Dict[str, float]] = []
        for r in range(args.rounds):
            times: Dict[str, float] = {}
            order = ["vecformer", "onnxruntime"] if r % 2 == 0 else ["onnxruntime", "vecformer"]
            for engine in order:
                if engine == "vecformer":
                    for kind in ARCHITECTURES:
                        v = vecformer_head(binary, dirs[kind], args.threads, args.iters)
                        times[f"vecformer encoder ({kind} run)"] = v["encoder_median_ms"]
                        times[f"vecformer {kind}"] = v["head_median_ms"]
                else:
                    times["onnxruntime encoder"] = ort_bench(ort, onnx["encoder"], ids, args.threads, args.iters)
                    for kind in ARCHITECTURES:
                        times[f"onnxruntime {kind}"] = ort_bench(ort, onnx[kind], ids, args.threads, args.iters)
            rounds.append(times)
            peers.log(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in times.items()))
    finally:
        ort.close()
    rep["fma_peak"] = peers.fma_peak(os.path.join(os.path.dirname(binary), "bench", "vecformer_bench"))
    rep["rounds_ms"] = rounds

    def med(key: str) -> float:
        return statistics.median(t[key] for t in rounds)

    def ratio(num: str, den: str) -> float:
        return statistics.median(t[num] / t[den] for t in rounds)

    rows = []
    for kind, label in (("classification", "sequence classification (2 labels)"),
                        ("masked_lm", "masked LM (vecformer: 1 [MASK] row; ONNX Runtime: 128 x 30,522 logits)")):
        venc, vhead = f"vecformer encoder ({kind} run)", f"vecformer {kind}"
        oenc, ohead = "onnxruntime encoder", f"onnxruntime {kind}"
        rows.append({"head": label, "vecformer_encoder_ms": med(venc), "vecformer_head_ms": med(vhead),
                     "vecformer_ratio": ratio(vhead, venc), "ort_encoder_ms": med(oenc), "ort_head_ms": med(ohead),
                     "ort_ratio": ratio(ohead, oenc), "vecformer_vs_ort": ratio(vhead, ohead)})
    rep["rows"] = rows
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(rep, f, indent=2)
    peak = rep["fma_peak"].get("gflops", {})
    print(f"Machine: {rep['machine']['model_name']}, {rep['machine']['cpus']} CPUs; fp32 FMA peak "
          + (", ".join(f"{v:.0f} GFLOP/s on {k} thread(s)" for k, v in sorted(peak.items())) or "not measured")
          + f"; ONNX Runtime {rep['ort'].get('node', '?')}; batch 1 x 128, {args.threads} threads, "
          f"{args.layers} layers, {args.rounds} rounds x {args.iters} iterations.\n")
    print("| head | vecformer encoder ms | vecformer + head ms | head / encoder | ONNX Runtime encoder ms "
          "| ONNX Runtime task model ms | head / encoder | vecformer / ONNX Runtime (with head) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['head']} | {r['vecformer_encoder_ms']:.2f} | {r['vecformer_head_ms']:.2f} | "
              f"{r['vecformer_ratio']:.3f} | {r['ort_encoder_ms']:.2f} | {r['ort_head_ms']:.2f} | {r['ort_ratio']:.3f} | "
              f"{r['vecformer_vs_ort']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
