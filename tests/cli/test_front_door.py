#!/usr/bin/python3
"""What a first-time user of the command line meets (issue 17, "The front door"), end to end.

    /usr/bin/python3 tests/cli/test_front_door.py --binary build/vecformer

(ctest runs it from the repository root.) Each check_* function below covers one rule of the README's
"Command line" section: defaults taken from the model folder, options that are never ignored, one output
row per input line, output paths checked before any work, bounded memory, exit codes, messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Sequence

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
from script_support import ErrorChecker, report, scratch_folder, script_arguments  # noqa: E402

PREFIX = "vecformer: error: "
TIMEOUT_S = 300
MINI = os.path.join(REPO, "models", "mini-sentence")  # sentence-transformers: mean pooling + Normalize


class Checker(ErrorChecker):
    def run(self, args: Sequence[str], stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([self.binary] + list(args), input=stdin, capture_output=True, text=True,
                              timeout=TIMEOUT_S)

    def ok(self, name: str, condition: bool, message: str = "") -> bool:
        if condition:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.fail(name, message or "condition does not hold")
        return condition

    def succeed(self, name: str, args: Sequence[str], stdin: str = "") -> subprocess.CompletedProcess | None:
        result = self.run(args, stdin)
        if result.returncode != 0:
            self.fail(name, f"exit code {result.returncode}, expected 0; stderr {result.stderr!r}")
            return None
        return result

    def expect_error(self, name: str, args: Sequence[str], code: int, contains: Sequence[str] = (),
                     stdin: str = "", out_dir: str | None = None) -> str:
        result = self.run(args, stdin)
        if self.check_failure(name, result.returncode, result.stderr, result.stdout, code, contains, out_dir):
            self.passed += 1
            print(f"ok   {name}: exit {result.returncode}: {result.stderr.strip()}", flush=True)
        return result.stderr

    def file(self, name: str, text: str) -> str:
        path = os.path.join(self.fresh_dir("input"), name)
        with open(path, "w") as f:
            f.write(text)
        return path


def row_norms(array: np.ndarray) -> np.ndarray:
    return np.linalg.norm(array.astype(np.float64), axis=-1)


def npy_run(c: Checker, name: str, args: Sequence[str]) -> np.ndarray | None:
    out = os.path.join(c.fresh_dir("out"), "out.npy")
    if c.succeed(name, list(args) + ["--output", out, "--quiet"]) is None:
        return None
    return np.load(out)


def check_normalize(c: Checker, sentences: str) -> None:
    """The folder's Normalize module applies to the sentence embedding, not to token states."""
    base = ["run", "--model", MINI, "--text", "--input", sentences]
    tokens = npy_run(c, "normalize: --pooling none", base + ["--pooling", "none"])
    if tokens is not None:
        first = row_norms(tokens[0, :3])
        c.ok("normalize: --pooling none leaves token rows as they are", bool(np.all(np.abs(first - 1) > 1e-3)),
             f"token row norms {first} (the folder's Normalize applied to token states)")
    normalized = npy_run(c, "normalize: --pooling none --normalize", base + ["--pooling", "none", "--normalize"])
    if normalized is not None:
        first = row_norms(normalized[0, :3])
        c.ok("normalize: --normalize normalizes token rows", bool(np.allclose(first, 1, atol=1e-5)), f"{first}")
    pooled = npy_run(c, "normalize: folder default", base)
    raw = npy_run(c, "normalize: --no-normalize", base + ["--no-normalize"])
    if pooled is not None and raw is not None:
        c.ok("normalize: pooled output is normalized by default",
             bool(np.allclose(row_norms(pooled), 1, atol=1e-5)), f"{row_norms(pooled)}")
        c.ok("normalize: --no-normalize turns the folder's Normalize off",
             bool(np.all(np.abs(row_norms(raw) - 1) > 1e-3)) and
             bool(np.allclose(raw / row_norms(raw)[:, None], pooled, atol=1e-6)), f"{row_norms(raw)}")
    c.expect_error("normalize: --normalize with --no-normalize", base + ["--normalize", "--no-normalize"], 2)


def check_truncation(c: Checker) -> None:
    """--text truncates to the folder's limit by default (mini-sentence: max_seq_length 128)."""
    long_line = " ".join(["word", "another", "sentence"] * 200)  # about 600 tokens
    path = c.file("long.txt", "short line\n" + long_line + "\n")
    base = ["run", "--model", MINI, "--text", "--input", path]
    default = npy_run(c, "truncate: a 600-token line by default", base)
    explicit = npy_run(c, "truncate: --max-length 128", base + ["--max-length", "128"])
    if default is not None and explicit is not None:
        c.ok("truncate: the default is the folder's max_seq_length (128)",
             default.shape == (2, 32) and np.array_equal(default, explicit), f"shape {default.shape}")
    tokens = npy_run(c, "truncate: unpooled rows", base + ["--pooling", "none"])
    if tokens is not None:
        c.ok("truncate: the long line keeps 128 tokens", tokens.shape == (2, 128, 32), f"{tokens.shape}")
    err = c.expect_error("truncate: --no-truncate fails on the long line", base + ["--no-truncate"], 1,
                         ["long.txt:2:", "128", "--no-truncate"])
    c.ok("truncate: --no-truncate's message does not suggest --max-length", "--max-length" not in err, err)
    err = c.expect_error("truncate: --max-length above the position table", base + ["--max-length", "500"], 1,
                         ["long.txt:2:", "128"])
    c.ok("truncate: a user who passed --max-length is not told to pass it", "use --max-length" not in err, err)
    c.expect_error("truncate: --no-truncate with --max-length", base + ["--no-truncate", "--max-length", "8"], 2)


def check_max_length_on_ids(c: Checker) -> None:
    """--max-length applies to token-id input too: the first N-1 ids and the last."""
    ids = c.file("ids.txt", "101 7592 2088 102\n101 1996 4937 2938 2006 1996 13523 102\n")
    cut = c.file("cut.txt", "101 7592 2088 102\n101 1996 4937 102\n")
    base = ["run", "--model", MINI, "--pooling", "none"]
    got = npy_run(c, "max-length on ids: run", base + ["--input", ids, "--max-length", "4"])
    expected = npy_run(c, "max-length on ids: pre-cut ids", base + ["--input", cut])
    if got is not None and expected is not None:
        c.ok("max-length on ids: truncates keeping the last id", got.shape == expected.shape
             and np.array_equal(got, expected), f"shape {got.shape}, expected {expected.shape}")


def check_rows_follow_lines(c: Checker) -> None:
    """One output row per input line: `tokenize | run` and `run --text` agree on a file with blank lines."""
    text = c.file("blank.txt", "first line\n\nthird line\n   \nfifth\n")
    ids = c.succeed("rows: tokenize", ["tokenize", "--model", MINI, "--input", text])
    if ids is None:
        return
    c.ok("rows: tokenize gives one line per input line", ids.stdout.count("\n") == 5, ids.stdout)
    ids_path = c.file("ids.txt", ids.stdout)
    for pooling in ("mean", "none"):
        from_text = npy_run(c, f"rows: run --text ({pooling})",
                            ["run", "--model", MINI, "--text", "--input", text, "--pooling", pooling])
        from_ids = npy_run(c, f"rows: run on tokenize's ids ({pooling})",
                           ["run", "--model", MINI, "--input", ids_path, "--pooling", pooling])
        if from_text is not None and from_ids is not None:
            c.ok(f"rows: run --text and tokenize | run give the same 5 rows ({pooling})",
                 from_text.shape[0] == 5 and from_text.shape == from_ids.shape
                 and np.array_equal(from_text, from_ids), f"shapes {from_text.shape} and {from_ids.shape}")
    blank = c.file("blank_ids.txt", "101 102\n\n101 7592 102\n")
    c.expect_error("rows: a blank line of token ids is named", ["run", "--model", MINI, "--input", blank], 1,
                   ["blank_ids.txt:2:", "empty line"])


def check_exit_codes(c: Checker, ids: str) -> None:
    """2: the command line itself is wrong; 1: the inputs or files it names are."""
    run = ["run", "--model", MINI, "--input", ids]
    out_dir = c.fresh_dir("out")
    for name, args in (
            ("--dtype bf16 --backend reference", run + ["--dtype", "bf16", "--backend", "reference"]),
            ("--dtype int8 --backend reference (explain)",
             ["explain", "--model", MINI, "--text", "a cat", "--focus", "cat", "--dtype", "int8",
              "--backend", "reference"]),
            ("--output x.txt", run + ["--output", os.path.join(out_dir, "x.txt")]),
            ("explain --layer 5", ["explain", "--model", MINI, "--text", "a cat", "--focus", "cat", "--layer", "5"]),
            ("bench --seq past the position table", ["bench", "--model", MINI, "--seq", "500", "--iters", "1"]),
            ("unknown option", run + ["--bogus"])):
        c.expect_error(f"exit 2: {name}", args, 2, ["--help"], out_dir=out_dir)
    missing = os.path.join(c.workdir, "no_such_model")
    for name, args in (
            ("missing model folder", ["run", "--model", missing, "--input", ids]),
            ("missing input file", ["run", "--model", MINI, "--input", missing]),
            ("bad input line", ["run", "--model", MINI, "--input", c.file("bad.txt", "101 x 102\n")])):
        c.expect_error(f"exit 1: {name}", args, 1, out_dir=out_dir)


def check_output_first(c: Checker) -> None:
    """The output path is checked before anything is loaded or encoded."""
    # The input fails on its last line: an output error must come first.
    ids = c.file("ids.txt", "101 7592 102\n" * 50 + "101 x 102\n")
    missing = os.path.join(c.workdir, "no_such_folder", "x.npy")
    c.expect_error("output first: folder does not exist", ["run", "--model", MINI, "--input", ids, "--output",
                                                           missing], 1, ["no_such_folder", "does not exist"])
    folder = c.fresh_dir("out_is_dir")
    os.mkdir(os.path.join(folder, "x.npy"))
    c.expect_error("output first: output is a folder", ["run", "--model", MINI, "--input", ids, "--output",
                                                        os.path.join(folder, "x.npy")], 1, ["is a directory"])
    c.expect_error("output first: unknown extension", ["run", "--model", os.path.join(c.workdir, "nope"),
                                                       "--input", ids, "--output", "x.txt"], 2, ["x.txt", ".npy"])
    good = c.file("good.txt", "101 7592 102\n")
    dash = c.succeed("output first: --output - is stdout", ["run", "--model", MINI, "--input", good,
                                                            "--output", "-", "--quiet"])
    plain = c.succeed("output first: no --output", ["run", "--model", MINI, "--input", good, "--quiet"])
    if dash is not None and plain is not None:
        c.ok("output first: --output - equals stdout", dash.stdout == plain.stdout and dash.stdout.count("\n") == 1)


def peak_rss_mb(args: Sequence[str]) -> tuple[int, float]:
    """Runs the command; returns its exit status and its own peak resident set size in MB."""
    with open(os.devnull, "wb") as devnull:
        process = subprocess.Popen(list(args), stdout=devnull, stderr=devnull)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024  # kB on Linux


def check_batches(c: Checker) -> None:
    """run encodes in batches of --batch-tokens and streams rows out: memory does not grow with the input,
    and the bits do not depend on the batches."""
    model = os.path.join(c.workdir, "wide")
    config, _ = mc.make_checkpoint(model, hidden_size=64, num_attention_heads=2, intermediate_size=64,
                                   num_hidden_layers=1, vocab_size=50, max_position_embeddings=128,
                                   type_vocab_size=2, seed=5)
    rng = np.random.default_rng(5)
    lines = [" ".join(map(str, rng.integers(0, 50, int(length))))
             for length in rng.integers(1, 129, 300)]
    ids = c.file("varied.txt", "\n".join(lines) + "\n")
    for pooling in ("none", "mean"):
        base = ["run", "--model", model, "--input", ids, "--pooling", pooling]
        whole = npy_run(c, f"batches: one batch ({pooling})", base + ["--batch-tokens", str(1 << 24)])
        if whole is None:
            continue
        for budget in ("1", "500", "16384"):
            for backend in ("optimized", "reference"):
                part = npy_run(c, f"batches: --batch-tokens {budget} {backend} ({pooling})",
                               base + ["--batch-tokens", budget, "--backend", backend])
                if part is None or backend == "reference":
                    continue  # the reference backend runs only so that each batch size is seen by both
                c.ok(f"batches: --batch-tokens {budget} gives the bits of one batch ({pooling})",
                     part.shape == whole.shape and part.tobytes() == whole.tobytes(),
                     f"shape {part.shape}, max difference {np.max(np.abs(part - whole)) if part.shape == whole.shape else '-'}")
    jsonl = os.path.join(c.fresh_dir("out"), "rows.jsonl")
    streamed = c.succeed("batches: .jsonl", ["run", "--model", model, "--input", ids, "--output", jsonl,
                                             "--batch-tokens", "300", "--quiet"])
    stdout = c.succeed("batches: stdout", ["run", "--model", model, "--input", ids, "--quiet"])
    if streamed is not None and stdout is not None:
        with open(jsonl) as f:
            text = f.read()
        c.ok("batches: .jsonl and stdout hold the same 300 rows", text == stdout.stdout and text.count("\n") == 300)

    # Peak memory: 16 times the input must not cost more than a fraction of the output it writes.
    sizes = {}
    for count in (250, 4000):
        path = c.file(f"long_{count}.txt", ("1 2 3 4 5 6 7 8 " * 16 + "\n") * count)
        out = os.path.join(c.fresh_dir("out"), "big.npy")
        code, sizes[count] = peak_rss_mb([c.binary, "run", "--model", model, "--input", path, "--pooling",
                                          "none", "--output", out, "--quiet"])
        if not c.ok(f"batches: {count} sequences of 128 tokens", code == 0 and os.path.isfile(out), f"exit {code}"):
            return
        shape = np.load(out, mmap_mode="r").shape
        c.ok(f"batches: {count} rows of [128, 64]", shape == (count, 128, 64), f"{shape}")
        os.remove(out)
    grown = sizes[4000] - sizes[250]
    output_mb = (4000 - 250) * 128 * 64 * 4 / 2**20
    print(f"info batches: peak RSS {sizes[250]:.0f} MB for 250 sequences, {sizes[4000]:.0f} MB for 4000 "
          f"({output_mb:.0f} MB more output)", flush=True)
    if "ASAN_OPTIONS" in os.environ:
        # AddressSanitizer keeps freed memory in its quarantine (256 MB by default): peak RSS then
        # follows the input however little the program holds. The release suite checks the bound.
        print("info batches: the memory bound is not checked under AddressSanitizer", flush=True)
    else:
        c.ok("batches: peak memory does not grow with the output", grown < output_mb / 4,
             f"peak RSS grew by {grown:.0f} MB for {output_mb:.0f} MB more output")


def check_threads_warning(c: Checker, ids: str) -> None:
    """--threads above the machine's cores warns once on stderr; the run still succeeds."""
    cores = len(os.sched_getaffinity(0))
    base = ["run", "--model", MINI, "--input", ids, "--quiet"]
    over = c.succeed("threads: more than the cores", base + ["--threads", str(cores + 1)])
    if over is not None:
        lines = over.stderr.splitlines()
        c.ok("threads: one warning line naming the cores", len(lines) == 1 and "warning" in lines[0]
             and f"--threads {cores + 1}" in lines[0] and str(cores) in lines[0], repr(over.stderr))
    fine = c.succeed("threads: as many as the cores", base + ["--threads", str(cores)])
    if fine is not None:
        c.ok("threads: no warning up to the cores", fine.stderr == "", repr(fine.stderr))
    bench = c.succeed("threads: bench", ["bench", "--model", MINI, "--seq", "8", "--batch", "1", "--iters", "1",
                                         "--threads", str(cores + 1), "--json"])
    if bench is not None:
        c.ok("threads: bench warns too", bench.stderr.count("warning") == 1, repr(bench.stderr))


def check_explain_output(c: Checker) -> None:
    """explain checks --output against --format (or takes the format from it) before any work."""
    base = ["explain", "--model", MINI, "--text", "the cat sat", "--focus", "cat"]
    out_dir = c.fresh_dir("out")
    c.expect_error("explain output: .png", base + ["--output", os.path.join(out_dir, "e.png")], 2,
                   ["e.png", ".svg"], out_dir=out_dir)
    c.expect_error("explain output: --format svg with a .json name",
                   base + ["--format", "svg", "--output", os.path.join(out_dir, "e.json")], 2,
                   ["--format svg", "e.json"], out_dir=out_dir)
    c.expect_error("explain output: checked before the model is loaded",
                   ["explain", "--model", os.path.join(c.workdir, "nope"), "--text", "a", "--focus", "a",
                    "--output", os.path.join(out_dir, "e.png")], 2, ["e.png"], out_dir=out_dir)
    svg = os.path.join(out_dir, "e.svg")
    if c.succeed("explain output: .svg", base + ["--output", svg]) is not None:
        with open(svg) as f:
            c.ok("explain output: the format follows the extension", "<svg" in f.read(200))
        os.remove(svg)
    dash = c.succeed("explain output: --output -", base + ["--output", "-", "--format", "json"])
    plain = c.succeed("explain output: stdout", base + ["--format", "json"])
    if dash is not None and plain is not None:
        c.ok("explain output: --output - is standard output", dash.stdout == plain.stdout
             and dash.stdout.startswith("{"))


def check_plurals(c: Checker) -> None:
    """The summary lines count in words: 1 sequence, 1 token, 1 thread; 2 sequences."""
    one = c.file("one.txt", "101\n")
    result = c.succeed("plurals: run", ["run", "--model", MINI, "--input", one, "--threads", "1"])
    if result is not None:
        c.ok("plurals: run's summary", "1 sequence, 1 token -> " in result.stderr and "1 thread)" in result.stderr,
             result.stderr)
    two = c.file("two.txt", "101 102\n101 102\n")
    result = c.succeed("plurals: run, two", ["run", "--model", MINI, "--input", two, "--threads", "1"])
    if result is not None:
        c.ok("plurals: run's summary, plural", "2 sequences, 4 tokens -> " in result.stderr, result.stderr)
    result = c.succeed("plurals: bench", ["bench", "--model", MINI, "--seq", "4", "--batch", "1", "--iters", "1",
                                          "--threads", "1"])
    if result is not None:
        c.ok("plurals: bench's summary", "1 thread," in result.stdout and "1 iteration;" in result.stdout,
             result.stdout)


def main() -> int:
    args = script_arguments("test_front_door", "vecformer: the command line's front door")
    if args is None:
        return 1

    with scratch_folder("vecformer_front_door_", args.keep) as workdir:
        c = Checker(args.binary, workdir, PREFIX)
        try:
            sentences = c.file("sentences.txt", "A man is eating food.\nSomeone is eating.\nThe new movie is awesome!\n")
            check_normalize(c, sentences)
            check_truncation(c)
            check_max_length_on_ids(c)
            check_rows_follow_lines(c)
            check_output_first(c)
            check_batches(c)
            check_threads_warning(c, c.file("ids.txt", "101 7592 2088 102\n"))
            check_explain_output(c)
            check_plurals(c)
            check_exit_codes(c, c.file("ids.txt", "101 7592 2088 102\n"))
        except subprocess.TimeoutExpired as e:
            c.fail("timeout", f"`{' '.join(e.cmd)}` took longer than {TIMEOUT_S} s")

    return report("test_front_door", c.failures, f"{c.passed} checks passed")


if __name__ == "__main__":
    sys.exit(main())
