#!/usr/bin/python3
"""Load test of `vecformer serve` with wrk (Debian), against `vecformer run` offline on the same sentences.

    /usr/bin/python3 bench/serve/bench_serve.py --binary build/vecformer [--model DIR] \
        [--concurrency 1,8,64,256] [--inputs-per-request 1,32] [--duration 20] [--dtype f32|bf16] \
        [--threads N] [--workers K] [--overload] [--compare-workers] [--ort-module DIR] \
        [--output results.json] [--plot tokens.svg]

Without --model, a BERT-base-sized folder (12 layers, random weights, seed 1) with a synthetic 30,522-word
WordPiece vocabulary (vocab.txt and the equivalent tokenizer.json) and mean pooling is generated once in
~/.cache/vecformer-peers/models/bert-base-12l-serve.

For each request size (sentences per request) and concurrency it reports requests/s, sentences/s, tokens/s
and p50 / p99 latency, and the same server with --max-batch-tokens 1 (every batch one sentence: what
batching buys). The offline baseline is `vecformer run --text` on the same sentences, timed by its own
summary line. --overload then sends 4x the best measured single-sentence request rate, from 4x that
concurrency in connections, for max(duration, 30) s with autocannon (open loop: a fixed overall rate, so a
refused request is not retried at once) against a queue of 64 requests; it counts statuses (429 expected,
nothing else but 200), records the latency of accepted requests through a probe client beside it, samples
the server's resident memory every 0.25 s, and checks /health and an embedding afterwards.

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


CACHE = os.environ.get("VECFORMER_PEERS_CACHE",
                       os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "vecformer-peers"))
SPECIALS = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}  # bert-base-uncased's ids


def synthetic_vocab(size: int = 30522, seed: int = 1) -> list[str]:
    """bert-base-uncased's layout ([PAD], [unused*], [UNK] [CLS] [SEP] [MASK]) with distinct made-up lowercase
    words of 3 to 9 letters in place of the real ones."""
    rng = random.Random(seed)
    vocab = [SPECIALS.get(i, f"[unused{i}]") for i in range(104)]
    seen = set(vocab)
    while len(vocab) < size:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
        if word not in seen:
            seen.add(word)
            vocab.append(word)
    return vocab


def wordpiece_tokenizer_json(vocab: list[str]) -> dict:
    """The tokenizer.json Hugging Face's BertTokenizerFast saves for an uncased vocab.txt."""
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    index = {w: i for i, w in enumerate(vocab)}
    template = lambda seqs: [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}] + seqs  # noqa: E731
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": index[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for t in special],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": template([{"Sequence": {"id": "A", "type_id": 0}},
                                {"SpecialToken": {"id": "[SEP]", "type_id": 0}}]),
            "pair": template([{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                              {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}]),
            "special_tokens": {t: {"id": t, "ids": [index[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": index},
    }


def ensure_model(cache: str) -> str:
    """The generated BERT-base sentence-transformers folder (see the module's notes), made once."""
    folder = os.path.join(cache, "models", "bert-base-12l-serve")
    stamp = os.path.join(folder, "serve_stamp.json")
    if os.path.exists(stamp):
        return folder
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import make_checkpoint as mc  # noqa: E402
    tmp = folder + ".tmp"
    if os.path.exists(tmp):
        import shutil
        shutil.rmtree(tmp)
    print(f"generating {folder}", file=sys.stderr, flush=True)
    mc.make_sentence_transformers(tmp, pooling="mean", seed=1, hidden_size=768, num_attention_heads=12,
                                  intermediate_size=3072, num_hidden_layers=12, vocab_size=30522,
                                  max_position_embeddings=512)
    vocab = synthetic_vocab()
    with open(os.path.join(tmp, "vocab.txt"), "w", encoding="utf-8") as f:
        f.writelines(w + "\n" for w in vocab)
    with open(os.path.join(tmp, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(wordpiece_tokenizer_json(vocab), f)
    with open(os.path.join(tmp, "serve_stamp.json"), "w") as f:
        json.dump({"seed": 1, "layers": 12}, f)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    os.replace(tmp, folder)
    return folder


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


def server_args(args: argparse.Namespace, extra: list[str], max_concurrent: int = 4096,
                workers: int | None = None) -> list[str]:
    out = ["--quiet", "--dtype", args.dtype, "--workers", str(workers or args.workers),
           "--max-concurrent-requests", str(max_concurrent)] + extra
    return out + (["--threads", str(args.threads)] if args.threads else [])


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_idle(pid: int, timeout_s: float = 120) -> None:
    """Waits until a server has finished the requests a load generator left in flight when it stopped (no
    CPU time used over 0.3 s), so that they do not run into the next measurement."""
    deadline = time.time() + timeout_s
    before = cpu_ticks(pid)
    while time.time() < deadline:
        time.sleep(0.3)
        now = cpu_ticks(pid)
        if now - before <= 1:
            return
        before = now


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class OrtServer:
    """bench/serve/ort_server.js in a child process (port from its first stdout line)."""

    def __init__(self, ort_module: str, tokenizers_module: str, onnx: str, tokenizer: str, threads: int,
                 mode: str, max_batch_tokens: int) -> None:
        env = dict(os.environ, ORT_NODE_MODULE=ort_module, TOKENIZERS_MODULE=tokenizers_module)
        self.process = subprocess.Popen(
            ["node", os.path.join(HERE, "ort_server.js"), "--onnx", onnx, "--tokenizer", tokenizer,
             "--threads", str(threads), "--mode", mode, "--max-batch-tokens", str(max_batch_tokens)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"ort_server.js did not start: {line!r} {self.process.stderr.read() if self.process.stderr else ''}")
        self.port = int(line.split()[1])

    def embed(self, inputs: list[str]) -> list[list[float]]:
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("POST", "/embed", json.dumps({"inputs": inputs}), {"Content-Type": "application/json"})
        response = conn.getresponse()
        body = json.loads(response.read())
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"ort_server.js: {response.status} {body}")
        return body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def measure(port: int, bodies: str, per_request: int, concurrency: int, duration: int, mean_tokens: float,
            label: str, pid: int, others: tuple[int, ...] = ()) -> dict:
    """One wrk run against the server on `port`, after it and every other running server (`others`) has
    finished what earlier loads left in flight: a server keeps computing the requests a load generator had
    sent when it stopped."""
    for p in (pid, *others):
        wait_idle(p)
    r = wrk(port, bodies, concurrency, duration)
    seconds = r["duration_us"] / 1e6
    ok = int(r["statuses"].get("200", 0))
    run = {"server": label, "inputs_per_request": per_request, "concurrency": concurrency,
           "requests_per_s": ok / seconds, "sentences_per_s": ok * per_request / seconds,
           "tokens_per_s": ok * per_request * mean_tokens / seconds,
           "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
           "statuses": r["statuses"], "errors": r["errors"]}
    print(json.dumps(run), flush=True)
    return run


def write_bodies(work: str, sentences: list[str], per_request: int) -> str:
    bodies = os.path.join(work, f"bodies_{per_request}.jsonl")
    with open(bodies, "w", encoding="utf-8") as f:
        for i in range(0, len(sentences), per_request):
            f.write(json.dumps({"inputs": sentences[i:i + per_request]}) + "\n")
    return bodies


def compare_ort(args: argparse.Namespace, binary: str, sentences: list[str], work: str, mean_tokens: float,
                results: dict) -> None:
    import numpy as np
    tokenizers_module = os.path.join(REPO, "tools", "node", "node_modules", "tokenizers")
    onnx = os.path.join(args.model, "model.onnx")
    if not os.path.exists(onnx):
        print(f"exporting {onnx}", file=sys.stderr, flush=True)
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "bench", "peers", "torch_bert.py"), "export",
                        args.model, onnx], check=True)
    threads = args.threads or (os.cpu_count() or 1)
    vf = ServeProcess(binary, args.model, server_args(args, []))
    ort_servers = {mode: OrtServer(args.ort_module, tokenizers_module, onnx, os.path.join(args.model, "tokenizer.json"),
                                   threads, mode, 16384) for mode in ("batched", "per-request")}
    try:
        # The peer computes the same embeddings: mean pooling, normalized (TEI's default), same tokens.
        probe = sentences[:4]
        status, want = vf.json("POST", "/embed", {"inputs": probe})
        got = ort_servers["batched"].embed(probe)
        error = float(np.max(np.abs(np.asarray(want) - np.asarray(got))))
        if status != 200 or error > 1e-3:
            raise RuntimeError(f"ONNX Runtime server's embeddings differ from vecformer's by {error:.3g}")
        results["ort_check_max_abs_error"] = error
        ports = {"vecformer serve": (vf.port, vf.process.pid),
                 "ONNX Runtime batched": (ort_servers["batched"].port, ort_servers["batched"].process.pid),
                 "ONNX Runtime per request": (ort_servers["per-request"].port, ort_servers["per-request"].process.pid)}
        runs = []
        for per_request in [int(x) for x in args.inputs_per_request.split(",")]:
            bodies = write_bodies(work, sentences, per_request)
            for concurrency in [int(x) for x in args.concurrency.split(",")]:
                for round_index in range(2):
                    order = list(ports.items())
                    if round_index % 2:
                        order.reverse()
                    for label, (port, pid) in order:
                        others = tuple(p for _, (_, p) in ports.items() if p != pid)
                        run = measure(port, bodies, per_request, concurrency, args.duration, mean_tokens, label,
                                      pid, others)
                        run["round"] = round_index
                        runs.append(run)
        results["ort_runs"] = runs
    finally:
        vf.stop()
        for server in ort_servers.values():
            server.stop()


def compare_workers(args: argparse.Namespace, binary: str, sentences: list[str], work: str, mean_tokens: float,
                    results: dict) -> None:
    bodies = write_bodies(work, sentences, 1)
    runs = []
    for round_index in range(3):
        for workers in ((1, 2) if round_index % 2 == 0 else (2, 1)):
            server = ServeProcess(binary, args.model, server_args(args, [], workers=workers))
            try:
                run = measure(server.port, bodies, 1, 64, args.duration, mean_tokens, f"workers {workers}",
                              server.process.pid)
                run["round"] = round_index
                runs.append(run)
            finally:
                server.stop()
    results["workers_runs"] = runs


def autocannon(port: int, body: str, connections: int, rate: int, duration: int) -> dict:
    """autocannon (npm, tools/node/serve) at a fixed overall request rate: open loop, unlike wrk, so a
    refused request is not retried at once (what 4x the sustainable *rate* means)."""
    exe = os.path.join(REPO, "tools", "node", "serve", "node_modules", ".bin", "autocannon")
    result = subprocess.run([exe, "-c", str(connections), "-R", str(rate), "-d", str(duration), "-m", "POST",
                             "-H", "Content-Type=application/json", "-b", body, "-j",
                             f"http://127.0.0.1:{port}/embed"], capture_output=True, text=True,
                            timeout=duration + 120)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"autocannon: {result.stdout} {result.stderr}")
    return json.loads(result.stdout)


def overload(args: argparse.Namespace, binary: str, sentences: list[str], mean_tokens: float, results: dict) -> None:
    """4x the best measured single-sentence request rate, from 4x its concurrency in connections, for
    max(duration, 30) s against a queue of 64 requests; a probe client beside it records the latency of
    the requests that were accepted; resident memory sampled every 0.25 s."""
    import threading
    best = max((r for r in results["runs"] if r["server"] == "batched" and r["inputs_per_request"] == 1),
               key=lambda r: r["requests_per_s"])
    server = ServeProcess(binary, args.model, server_args(args, [], max_concurrent=64))
    try:
        idle_rss = rss_kib(server.process.pid)
        wait_idle(server.process.pid)
        samples: list[int] = []
        probe: list[tuple[int, float]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.25):
                samples.append(rss_kib(server.process.pid))

        def probe_client() -> None:
            while not done.is_set():
                start = time.monotonic()
                try:
                    status = server.request("POST", "/embed", {"inputs": "a probe sentence"}, timeout_s=60)[0]
                except OSError:
                    status = -1
                probe.append((status, (time.monotonic() - start) * 1000))
                if status != 200:
                    time.sleep(0.05)

        threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=probe_client, daemon=True)]
        for t in threads:
            t.start()
        rate = int(round(4 * best["requests_per_s"]))
        duration = max(args.duration, 30)
        # One sentence of the sweep's mean length (every word one token, plus [CLS] and [SEP]), so that the
        # rate is 4x the sustainable one in tokens too.
        sentence = min(sentences, key=lambda t: abs(len(t.split()) + 2 - mean_tokens))
        r = autocannon(server.port, json.dumps({"inputs": sentence}), 4 * best["concurrency"], rate, duration)
        done.set()
        for t in threads:
            t.join()
        healthy = server.request("GET", "/health", timeout_s=10)[0] == 200
        wait_idle(server.process.pid)
        status, _ = server.json("POST", "/embed", {"inputs": "after the overload"})
        statuses = {code: stats["count"] for code, stats in r.get("statusCodeStats", {}).items()}
        accepted = sorted(ms for code, ms in probe if code == 200)

        def pct(values: list[float], q: float) -> float | None:
            return values[min(len(values) - 1, int(q * len(values)))] if values else None

        results["overload"] = {
            "connections": 4 * best["concurrency"], "rate_per_s": rate, "sentence_tokens": len(sentence.split()) + 2, "sustainable_requests_per_s": best["requests_per_s"],
            "duration_s": duration, "statuses": statuses, "errors": r.get("errors", 0), "timeouts": r.get("timeouts", 0),
            "latency_all_p50_ms": r["latency"].get("p50"), "latency_all_p99_ms": r["latency"].get("p99"),
            "latency_all_max_ms": r["latency"].get("max"),
            "probe_requests": len(probe), "probe_accepted": len(accepted),
            "probe_statuses": {str(c): sum(1 for code, _ in probe if code == c) for c in sorted({c for c, _ in probe})},
            "accepted_p50_ms": pct(accepted, 0.5), "accepted_p99_ms": pct(accepted, 0.99),
            "accepted_max_ms": accepted[-1] if accepted else None,
            "healthy_after": healthy and status == 200,
            "rss_mib_idle": idle_rss / 1024, "rss_mib_max": max(samples, default=0) / 1024,
            "rss_mib_last": (samples[-1] if samples else 0) / 1024}
        print(json.dumps(results["overload"]), flush=True)
    finally:
        server.stop()


def plot(results: dict, path: str) -> None:
    sys.path.insert(0, os.path.join(REPO, "bench", "peers"))
    import peers  # noqa: E402  (svg_chart)
    colors = ["#d62728", "#ff9896", "#1f77b4", "#aec7e8", "#2ca02c", "#98df8a"]
    series = []
    concurrencies = sorted({r["concurrency"] for r in results["runs"]})
    keys = sorted({(r["server"], r["inputs_per_request"]) for r in results["runs"]})
    for i, (server, per_request) in enumerate(keys):
        values = []
        for c in concurrencies:
            match = [r["tokens_per_s"] for r in results["runs"] if (r["server"], r["inputs_per_request"], r["concurrency"]) == (server, per_request, c)]
            values.append(match[0] if match else None)
        series.append({"name": f"{server}, {per_request}/req", "color": colors[i % len(colors)], "values": values,
                       "dash": server != "batched"})
    o = results["offline"]
    series.append({"name": "vecformer run (offline)", "color": "#7f7f7f", "values": [o["tokens_per_s"]] * len(concurrencies),
                   "dash": True})
    with open(path, "w") as f:
        f.write(peers.svg_chart(f"vecformer serve, BERT-base {results['dtype']}: tokens/s", "concurrent clients",
                                "tokens/s", concurrencies, series, log2x=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--model", help="a folder with vocab.txt / tokenizer.json and a pooling module "
                        "(default: the generated BERT-base folder)")
    parser.add_argument("--concurrency", default="1,8,64,256")
    parser.add_argument("--inputs-per-request", default="1,32")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--dtype", default="f32")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sentences", type=int, default=2048)
    parser.add_argument("--overload", action="store_true")
    parser.add_argument("--compare-workers", action="store_true")
    parser.add_argument("--ort-module", help="node_modules/onnxruntime-node: run the ONNX Runtime peer only")
    parser.add_argument("--skip-load", action="store_true", help="skip the concurrency sweep (with --ort-module "
                        "or --compare-workers alone)")
    parser.add_argument("--output", help="write every measurement as JSON")
    parser.add_argument("--plot", help="write the tokens/s vs concurrency chart (SVG)")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not args.model:
        args.model = ensure_model(CACHE)
    sentences = make_sentences(args.model, args.sentences, seed=15)
    results: dict = {"model": args.model, "dtype": args.dtype, "threads": args.threads,
                     "workers": args.workers, "duration_s": args.duration, "runs": []}
    with tempfile.TemporaryDirectory(prefix="vecformer_bench_serve_") as work:
        results["offline"] = offline(binary, args.model, sentences, args, work)
        mean_tokens = results["offline"]["tokens"] / len(sentences)
        if args.ort_module:
            compare_ort(args, binary, sentences, work, mean_tokens, results)
        if args.compare_workers:
            compare_workers(args, binary, sentences, work, mean_tokens, results)
        if not args.skip_load:
            for per_request in [int(x) for x in args.inputs_per_request.split(",")]:
                bodies = write_bodies(work, sentences, per_request)
                for label, extra in (("batched", []), ("one per batch", ["--max-batch-tokens", "1"])):
                    server = ServeProcess(binary, args.model, server_args(args, extra))
                    try:
                        for concurrency in [int(x) for x in args.concurrency.split(",")]:
                            results["runs"].append(measure(server.port, bodies, per_request, concurrency,
                                                           args.duration, mean_tokens, label, server.process.pid))
                    finally:
                        server.stop()
            if args.overload:
                overload(args, binary, sentences, mean_tokens, results)

    o = results["offline"]
    print(f"\noffline `vecformer run`: {o['sentences_per_s']:.1f} sentences/s, {o['tokens_per_s']:.0f} tokens/s\n")
    table = [("runs", results["runs"]), ("ort_runs", results.get("ort_runs", [])),
             ("workers_runs", results.get("workers_runs", []))]
    for name, runs in table:
        if not runs:
            continue
        print(f"{name}:\n")
        print("| server | sentences/request | concurrency | requests/s | sentences/s | vs offline | p50 ms | p99 ms | non-200 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in runs:
            other = sum(int(n) for code, n in r["statuses"].items() if code != "200") + sum(r["errors"].values())
            print(f"| {r['server']} | {r['inputs_per_request']} | {r['concurrency']} | {r['requests_per_s']:.1f} | "
                  f"{r['sentences_per_s']:.1f} | {r['sentences_per_s'] / o['sentences_per_s']:.2f} | "
                  f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {other} |")
        print()
    if args.output:
        with open(args.output, "w") as f:
            json.dump(results, f, indent=2)
    if args.plot and results["runs"]:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
