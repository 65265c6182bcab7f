#!/usr/bin/python3
"""Rows per second of one corpus embedded three ways on this machine, for docs/SCALING.md:

  cli          one `vecformer run --text --pooling mean --threads T` process (T = --cores)
  1x{T}        vecformer.dask on a local cluster of 1 worker with T threads (T tasks at once, each
               encoding with 1 OpenMP thread)
  {T}x1        the same on T workers with 1 thread each

    /usr/bin/python3 bench/peers/dask_scaling.py [--build build] [--model models/demo]
        [--rows 20000] [--partitions 20] [--cores 2] [--rounds 3]

Dask figures time embed_partitions after a warm-up job has loaded the model in every worker (the
per-process cache), so they measure steady-state overhead (tokenizing, encoding, writing shards,
scheduling), not model loading. The CLI gets two figures: the whole process (load, tokenize,
encode, write) and its summary line's "encode" time alone. Every run writes its shards to a fresh
folder. Prints JSON and a Markdown table.
Run it on an idle machine.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, workers, threads, env, cwd):
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.procs = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", str(port), "--no-dashboard"], env=env, cwd=cwd,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        for i in range(workers):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads",
                 str(threads), "--no-dashboard", "--name", f"w{i}", "--host", "127.0.0.1"],
                env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client
        self.client = Client(self.address, timeout=30)
        self.client.wait_for_workers(workers, timeout=60)

    def close(self):
        self.client.close()
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=30)


def dask_rate(args, lines, workers, threads, env, tmp):
    import dask.dataframe as dd
    import pandas as pd
    import vecformer.dask as vd
    frame = dd.from_pandas(pd.DataFrame({"text": lines}), npartitions=args.partitions)
    warm = dd.from_pandas(pd.DataFrame({"text": lines[:workers * threads * 4]}),
                          npartitions=workers * threads * 4)
    cluster = Cluster(workers, threads, env, tmp)
    try:
        vd.embed_partitions(warm, "text", args.model, os.path.join(tmp, "warm"), pooling="mean",
                            threads=1, client=cluster.client)
        rates = []
        for r in range(args.rounds):
            out = os.path.join(tmp, f"run-{workers}x{threads}-{r}")
            start = time.perf_counter()
            vd.embed_partitions(frame, "text", args.model, out, pooling="mean", threads=1,
                                client=cluster.client)
            rates.append(len(lines) / (time.perf_counter() - start))
            shutil.rmtree(out)
        return rates
    finally:
        cluster.close()


def cli_rate(args, corpus, rows):
    binary = os.path.join(args.build, "vecformer")
    rates = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            result = subprocess.run([binary, "run", "--model", args.model, "--text", "--input",
                                     corpus, "--output", os.path.join(tmp, "out.npy"),
                                     "--pooling", "mean", "--threads", str(args.cores)],
                                    capture_output=True, text=True, check=True)
            wall = time.perf_counter() - start
        m = re.search(r"encode ([0-9.]+) ms", result.stderr)
        rates.append({"wall": rows / wall, "encode": rows / (float(m.group(1)) / 1000)})
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"))
    parser.add_argument("--model", default=os.path.join(REPO, "models", "demo"))
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(args.build, "python"))
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.path.join(os.path.abspath(args.build), "python"))
    base = open(os.path.join(REPO, "models", "demo", "sentences.txt")).read().splitlines()
    lines = [f"{base[i % len(base)]} (line {i})" for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w") as f:
            f.write("\n".join(lines) + "\n")
        cli = cli_rate(args, corpus, len(lines))
        one = dask_rate(args, lines, 1, args.cores, env, tmp)
        many = dask_rate(args, lines, args.cores, 1, env, tmp)
    result = {
        "rows": args.rows, "partitions": args.partitions, "cores": args.cores,
        "cli_wall_rows_per_s": statistics.median(r["wall"] for r in cli),
        "cli_encode_rows_per_s": statistics.median(r["encode"] for r in cli),
        f"dask_1x{args.cores}_rows_per_s": statistics.median(one),
        f"dask_{args.cores}x1_rows_per_s": statistics.median(many),
    }
    print(json.dumps(result, indent=1))
    print()
    print("| run | rows/s |")
    print("|---|---:|")
    print(f"| `vecformer run --threads {args.cores}` (whole process) | {result['cli_wall_rows_per_s']:.0f} |")
    print(f"| `vecformer run --threads {args.cores}` (encode only) | {result['cli_encode_rows_per_s']:.0f} |")
    print(f"| Dask 1 worker x {args.cores} threads | {result[f'dask_1x{args.cores}_rows_per_s']:.0f} |")
    print(f"| Dask {args.cores} workers x 1 thread | {result[f'dask_{args.cores}x1_rows_per_s']:.0f} |")


if __name__ == "__main__":
    main()
