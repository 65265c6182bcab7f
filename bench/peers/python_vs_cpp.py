#!/usr/bin/python3
"""The Python binding's cost over the C++ API: N sentences tokenized and encoded by
`vecformer.Model.encode(texts)` against the same through the public C++ API
(build/bench/vecformer_encode_texts), same model, pooling, threads and token budget.

    /usr/bin/python3 bench/peers/python_vs_cpp.py [--build build] [--model models/demo]
        [--sentences 10000] [--threads 1] [--rounds 5]

Each round runs both, one after the other (the order alternating between rounds), each in its own
process timing `rounds_inner` encodes after loading; a side's figure is its median over rounds and
the ratio is the median of the per-round ratios (Python / C++; the issue's target is <= 1.05).
Prints a JSON object; writes nothing else. Run it on an otherwise idle machine: figures from a
loaded one say nothing.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PY_SIDE = """
import json, sys, time
import vecformer
model_path, texts_path, threads, pooling, inner = sys.argv[1:6]
model = vecformer.Model.load(model_path)
texts = open(texts_path).read().splitlines()
seconds = []
for _ in range(int(inner)):
    start = time.perf_counter()
    model.encode(texts, pooling=pooling, threads=int(threads))
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds}))
"""


def corpus(model, n):
    base = open(os.path.join(model, "sentences.txt")).read().splitlines() if os.path.exists(
        os.path.join(model, "sentences.txt")) else ["The quick brown fox jumps over the lazy dog."]
    return [f"{base[i % len(base)]} (sentence {i})" for i in range(n)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"))
    parser.add_argument("--model", default=os.path.join(REPO, "models", "demo"))
    parser.add_argument("--sentences", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pooling", default="mean")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inner", type=int, default=3, help="timed encodes per process")
    args = parser.parse_args()

    cpp = os.path.join(args.build, "bench", "vecformer_encode_texts")
    if not os.path.exists(cpp):
        sys.exit(f"{cpp} not built (cmake --build {args.build} --target vecformer_encode_texts)")
    env = dict(os.environ, PYTHONPATH=os.path.join(args.build, "python"))
    with tempfile.TemporaryDirectory() as tmp:
        texts = os.path.join(tmp, "texts.txt")
        with open(texts, "w") as f:
            f.write("\n".join(corpus(args.model, args.sentences)) + "\n")

        def run_cpp():
            out = subprocess.run([cpp, args.model, texts, "--threads", str(args.threads),
                                  "--pooling", args.pooling, "--rounds", str(args.inner)],
                                 capture_output=True, text=True, check=True)
            return min(json.loads(out.stdout)["seconds"])

        def run_python():
            out = subprocess.run([sys.executable, "-c", PY_SIDE, args.model, texts,
                                  str(args.threads), args.pooling, str(args.inner)],
                                 capture_output=True, text=True, check=True, env=env)
            return min(json.loads(out.stdout)["seconds"])

        cpp_s, py_s, ratios = [], [], []
        for r in range(args.rounds):
            if r % 2 == 0:
                c, p = run_cpp(), run_python()
            else:
                p, c = run_python(), run_cpp()
            cpp_s.append(c)
            py_s.append(p)
            ratios.append(p / c)
    print(json.dumps({
        "sentences": args.sentences, "threads": args.threads, "pooling": args.pooling,
        "model": args.model, "rounds": args.rounds,
        "cpp_seconds_median": statistics.median(cpp_s),
        "python_seconds_median": statistics.median(py_s),
        "python_over_cpp_median": statistics.median(ratios),
        "cpp_seconds": cpp_s, "python_seconds": py_s,
    }, indent=1))


if __name__ == "__main__":
    main()
