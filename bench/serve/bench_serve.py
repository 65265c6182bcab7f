#!/usr/bin/python3
"""Load test of `vecformer serve` with wrk (Debian), against `vecformer run` offline on the same sentences.

    /usr/bin/python3 bench/serve/bench_serve.py --binary build/vecformer --model DIR \
        [--concurrency 1,8,64,256] [--inputs-per-request 1,32] [--duration 20] [--dtype f32|bf16] \
        [--threads N] [--workers K] [--overload] [--output results.json]

For each request size (sentences per request) and concurrency it reports requests/s, sentences/s, tokens/s
and p50 / p99 latency, and the same server with --max-batch-tokens 1 (every batch one sentence: what
batching buys). The offline baseline is `vecformer run --text` on the same sentences, timed by its own
summary line. --overload then drives the server at 4x its best measured request rate's concurrency for the
duration and counts statuses (429 expected, nothing else but 200), and checks /health afterwards.

Sentences are 8 to 128 tokens of words drawn from the model folder's vocabulary (seeded). Figures from a
busy machine mean little: run it alone, and compare ratios measured in one run. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "serve"))
from serve_support import ServeProcess  # noqa: E402


def make_sentences(model: str, count: int, seed: int) -> list[str]:
    vocab_path = os.path.join(model, "vocab.txt")
    with open(vocab_path, encoding="utf-8") as f:
        words = [w.strip() for w in f if w.strip().isalpha() and w.strip().islower() and len(w.strip()) > 2]
    rng = random.Random(seed)
    # Whole words of the vocabulary are one token each: length in words + [CLS] [SEP] = tokens.
    return [" ".join(rng.choice(words) for _ in range(rng.randint(6, 126))) for _ in range(count)]


def offline(binary: str, model: str, sentences: list[str], args: argparse.Namespace, work: str) -> dict:
    path = os.path.join(work, "sentences.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in sentences))
    cmd = [binary, "run", "--model", model, "--text", "--input", path, "--output", os.path.join(work, "o.npy"),
           "--dtype", args.dtype] + (["--threads", str(args.threads)] if args.threads else [])
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    match = re.search(r"(\d+) tokens? .*encode ([\d.]+) ms", result.stderr)
    if result.returncode != 0 or not match:
        raise RuntimeError(f"vecformer run: {result.stderr}")
    tokens, ms = int(match.group(1)), float(match.group(2))
    return {"sentences": len(sentences), "tokens": tokens, "seconds": ms / 1000,
            "sentences_per_s": len(sentences) / (ms / 1000), "tokens_per_s": tokens / (ms / 1000)}


def wrk(port: int, bodies: str, concurrency: int, duration: int) -> dict:
    result = subprocess.run(["wrk", "-t", str(min(concurrency, 2)), "-c", str(concurrency), "-d", f"{duration}s",
                             "--timeout", "30s", "-s", os.path.join(HERE, "embed.lua"),
                             f"http://127.0.0.1:{port}/embed"], capture_output=True, text=True,
                            env={**os.environ, "BODIES": bodies}, timeout=duration + 120)
    line = next((l for l in result.stdout.splitlines() if l.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk: {result.stdout} {result.stderr}")
    return json.loads(line[len("WRK_JSON "):])


def server_args(args: argparse.Namespace, extra: list[str], max_concurrent: int = 4096) -> list[str]:
    out = ["--quiet", "--dtype", args.dtype, "--workers", str(args.workers),
           "--max-concurrent-requests", str(max_concurrent)] + extra
    return out + (["--threads", str(args.threads)] if args.threads else [])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--model", required=True, help="a folder with vocab.txt and a pooling module")
    parser.add_argument("--concurrency", default="1,8,64,256")
    parser.add_argument("--inputs-per-request", default="1,32")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--dtype", default="f32")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sentences", type=int, default=2048)
    parser.add_argument("--overload", action="store_true")
    parser.add_argument("--output", help="write every measurement as JSON")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    sentences = make_sentences(args.model, args.sentences, seed=15)
    results: dict = {"model": args.model, "dtype": args.dtype, "threads": args.threads,
                     "workers": args.workers, "runs": []}
    with tempfile.TemporaryDirectory(prefix="vecformer_bench_serve_") as work:
        results["offline"] = offline(binary, args.model, sentences, args, work)
        mean_tokens = results["offline"]["tokens"] / len(sentences)
        for per_request in [int(x) for x in args.inputs_per_request.split(",")]:
            bodies = os.path.join(work, f"bodies_{per_request}.jsonl")
            with open(bodies, "w", encoding="utf-8") as f:
                for i in range(0, len(sentences), per_request):
                    f.write(json.dumps({"inputs": sentences[i:i + per_request]}) + "\n")
            for label, extra in (("batched", []), ("one per batch", ["--max-batch-tokens", "1"])):
                server = ServeProcess(binary, args.model, server_args(args, extra))
                try:
                    for concurrency in [int(x) for x in args.concurrency.split(",")]:
                        r = wrk(server.port, bodies, concurrency, args.duration)
                        seconds = r["duration_us"] / 1e6
                        ok = int(r["statuses"].get("200", 0))
                        run = {"server": label, "inputs_per_request": per_request, "concurrency": concurrency,
                               "requests_per_s": ok / seconds, "sentences_per_s": ok * per_request / seconds,
                               "tokens_per_s": ok * per_request * mean_tokens / seconds,
                               "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
                               "statuses": r["statuses"], "errors": r["errors"]}
                        results["runs"].append(run)
                        print(json.dumps(run), flush=True)
                finally:
                    server.stop()
        if args.overload:
            best = max((r for r in results["runs"] if r["server"] == "batched" and r["inputs_per_request"] == 1),
                       key=lambda r: r["requests_per_s"])
            bodies = os.path.join(work, "bodies_1.jsonl")
            server = ServeProcess(binary, args.model, server_args(args, [], max_concurrent=64))
            try:
                r = wrk(server.port, bodies, 4 * best["concurrency"], max(args.duration, 30))
                healthy = server.request("GET", "/health")[0] == 200
                results["overload"] = {"concurrency": 4 * best["concurrency"], "statuses": r["statuses"],
                                       "errors": r["errors"], "p99_ms": r["p99_us"] / 1000, "healthy_after": healthy}
                print(json.dumps(results["overload"]), flush=True)
            finally:
                server.stop()

    o = results["offline"]
    print(f"\noffline `vecformer run`: {o['sentences_per_s']:.1f} sentences/s, {o['tokens_per_s']:.0f} tokens/s\n")
    print("| server | sentences/request | concurrency | requests/s | sentences/s | vs offline | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results["runs"]:
        print(f"| {r['server']} | {r['inputs_per_request']} | {r['concurrency']} | {r['requests_per_s']:.1f} | "
              f"{r['sentences_per_s']:.1f} | {r['sentences_per_s'] / o['sentences_per_s']:.2f} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    if args.output:
        with open(args.output, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
