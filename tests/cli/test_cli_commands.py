#!/usr/bin/python3
"""`vecformer tokenize`, `run --text`, `info` and `bench`, end to end through the built binary.

    /usr/bin/python3 tests/cli/test_cli_commands.py --binary build/vecformer

(ctest runs it from the repository root.) Checks known bert-base-uncased ids through `tokenize`, that
`run --text` equals `run` on the ids `tokenize` printed, `--max-length` truncation keeping [SEP], the
error line for invalid UTF-8 and over-long text with --no-truncate, and the fields `info` and `bench --json` report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tools"))
import make_checkpoint as mc  # noqa: E402

VOCAB_DIR = os.path.join(REPO, "models", "vocab", "bert-base-uncased")
failures: list[str] = []


def check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def run(binary: str, args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([binary] + args, input=stdin or b"", capture_output=True, timeout=300)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    binary = parser.parse_args().binary
    work = tempfile.mkdtemp(prefix="vecformer_cli_commands_")
    try:
        # tokenize: known ids (the = 1996, cat = 4937), an empty line gives [CLS] [SEP].
        text = "The cat sat on the mat.\n\nunaffable naïve CAFÉ\n"
        result = run(binary, ["tokenize", "--model", VOCAB_DIR, "--input", "-"], text.encode())
        lines = result.stdout.decode().splitlines()
        check(result.returncode == 0, f"tokenize exits 0 ({result.stderr.decode().strip()})")
        check(lines[0] == "101 1996 4937 2938 2006 1996 13523 1012 102", f"tokenize ids: {lines[0]!r}")
        check(lines[1] == "101 102", "an empty line tokenizes to [CLS] [SEP]")
        check(lines[2].split()[:4] == ["101", "14477", "20961", "3468"], f"word pieces: {lines[2]!r}")
        truncated = run(binary, ["tokenize", "--model", VOCAB_DIR, "--input", "-", "--max-length", "4"],
                        b"the cat sat on the mat\n").stdout.decode().split()
        check(truncated == ["101", "1996", "4937", "102"], f"--max-length 4 keeps [SEP]: {truncated}")

        bad = run(binary, ["tokenize", "--model", VOCAB_DIR, "--input", "-"], b"fine\nbad \xff byte\n")
        err = bad.stderr.decode()
        check(bad.returncode == 1 and err.count("\n") == 1 and err.startswith("vecformer: error: ")
              and "<stdin>:2:" in err and "UTF-8" in err, f"invalid UTF-8 names the line: {err.strip()!r}")

        # run --text on a sentence-transformers folder with the real vocabulary equals run on the ids.
        model = os.path.join(work, "st")
        mc.make_sentence_transformers(model, pooling="mean", normalize=True, seed=3, hidden_size=32,
                                      num_attention_heads=2, intermediate_size=64, num_hidden_layers=1,
                                      vocab_size=30522, max_position_embeddings=16)
        shutil.copy(os.path.join(VOCAB_DIR, "vocab.txt"), model)
        sentences = os.path.join(work, "sentences.txt")
        with open(sentences, "w") as f:
            f.write("A man is eating food.\nSomeone is eating.\nThe new movie is awesome!\n")
        ids = run(binary, ["tokenize", "--model", model, "--input", sentences]).stdout
        ids_path = os.path.join(work, "ids.txt")
        with open(ids_path, "wb") as f:
            f.write(ids)
        from_text = os.path.join(work, "text.npy")
        from_ids = os.path.join(work, "ids.npy")
        r1 = run(binary, ["run", "--model", model, "--text", "--input", sentences, "--output", from_text,
                          "--quiet"])
        r2 = run(binary, ["run", "--model", model, "--input", ids_path, "--output", from_ids, "--quiet"])
        check(r1.returncode == 0 and r2.returncode == 0, "run --text and run on ids succeed")
        a, b = np.load(from_text), np.load(from_ids)
        check(a.shape == (3, 32) and np.array_equal(a, b), f"run --text equals run on tokenize's ids {a.shape}")
        check(bool(np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)), "Normalize gives unit vectors")

        long_text = os.path.join(work, "long.txt")
        with open(long_text, "w") as f:
            f.write("short\n" + "word " * 40 + "\n")
        too_long = run(binary, ["run", "--model", model, "--text", "--input", long_text, "--output",
                                os.path.join(work, "never.npy"), "--no-truncate"])
        err = too_long.stderr.decode()
        check(too_long.returncode == 1 and "long.txt:2:" in err and "--no-truncate" in err
              and not os.path.exists(os.path.join(work, "never.npy")), f"over-long text: {err.strip()!r}")
        cut = run(binary, ["run", "--model", model, "--text", "--input", long_text, "--quiet"])
        check(cut.returncode == 0 and cut.stdout.decode().count("\n") == 2, "text is truncated by default")

        # --dtype bf16: the optimized backend's bfloat16 GEMMs, close to float32; not on the reference.
        for dtype, bound in (("bf16", 0.999), ("int8", 0.99)):  # the targets
            reduced = os.path.join(work, dtype + ".npy")
            r3 = run(binary, ["run", "--model", model, "--input", ids_path, "--output", reduced, "--quiet",
                              "--dtype", dtype])
            check(r3.returncode == 0, f"run --dtype {dtype} succeeds ({r3.stderr.decode().strip()})")
            if r3.returncode == 0:
                cosines = (np.load(reduced) * b).sum(axis=1)  # both are unit vectors (Normalize)
                check(bool(cosines.min() >= bound), f"{dtype} embeddings: cosine >= {bound} with f32: {cosines}")
        r4 = run(binary, ["run", "--model", model, "--input", ids_path, "--backend", "reference",
                          "--dtype", "bf16"])
        err = r4.stderr.decode()
        check(r4.returncode == 2 and err.count("\n") == 1 and "reference" in err,
              f"bf16 on the reference backend is refused: {err.strip()!r}")

        directory = run(binary, ["run", "--model", model, "--input", work])
        err = directory.stderr.decode()
        check(directory.returncode == 1 and "is a directory" in err, f"--input DIR: {err.strip()!r}")

        # info and bench report what they promise.
        info = run(binary, ["info", "--model", model]).stdout.decode()
        for field in ("family", "parameters", "dtype", "isa", "oneDNN", "threads", "pooling"):
            check(field in info, f"info reports {field}")
        bench = run(binary, ["bench", "--model", model, "--batch", "4", "--seq", "16", "--iters", "3",
                             "--padding-fraction", "0.5", "--json"])
        report = json.loads(bench.stdout.decode())
        for field in ("median_ms", "min_ms", "tokens_per_s", "batch", "seq", "threads", "dtype", "backend"):
            check(field in report, f"bench --json has {field}")
        check(report["tokens"] == 32, f"half the 4x16 slots are padding: {report['tokens']} real tokens")
        check(report["min_ms"] <= report["median_ms"], "min <= median")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
