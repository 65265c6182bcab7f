#!/usr/bin/python3
"""The `vecformer run` command-line contract, on a tiny random checkpoint.

    /usr/bin/python3 tests/cli/test_cli_errors.py --binary build/vecformer

(ctest runs it from the repository root.) The contract:

    vecformer run --model DIR --input FILE|- [--output FILE.npy] [--backend reference|optimized]
                  [--threads N]

* Input: one sequence per line, whitespace-separated ids or a JSON object with "input_ids" and
  optionally "token_type_ids"; `--input -` reads stdin; an empty line is an error naming it (every line is
  one output row).
* Output: float32 .npy of [N, Lmax, H] with --output, else one JSON object per sequence on stdout with
  "hidden" = [L, H].
* Every failure prints exactly one line on stderr starting with "vecformer: error: ". Bad input (model
  folder, token file, output path) exits 1; usage errors (unknown flag, missing --model, bad --backend or
  --threads) exit 2. The message names the file and the line ("tokens.txt:3:") or tensor at fault.
* A failed run with --output leaves nothing behind: no output file and no temporary file next to it.
"""

from __future__ import annotations

import json
import os
import shutil
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
TIMEOUT_S = 120
HIDDEN = 16
VOCAB = 50
MAX_POSITIONS = 8
TYPE_VOCAB = 2


class Checker(ErrorChecker):
    """Usage and input errors; inputs as text, stdin optional."""

    def __init__(self, binary: str, workdir: str) -> None:
        super().__init__(binary, workdir, PREFIX)

    def run(self, args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary] + list(args), input=stdin if stdin is not None else "",
                              capture_output=True, text=True, timeout=TIMEOUT_S)

    def file(self, name: str, text: str, folder: str | None = None) -> str:
        folder = folder or self.fresh_dir("input")
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def expect_error(self, name: str, args: Sequence[str], code: int, contains: Sequence[str] = (),
                     stdin: str | None = None, with_output: bool = True) -> None:
        """Runs args (plus --output into an empty folder when with_output) and checks the failure."""
        out_dir = self.fresh_dir("out") if with_output else None
        full = list(args) + (["--output", os.path.join(out_dir, "out.npy")] if with_output else [])
        result = self.run(full, stdin)
        ok = self.check_failure(name, result.returncode, result.stderr, result.stdout, code, contains,
                                out_dir)
        if ok:
            self.passed += 1
            print(f"ok   {name}: exit {result.returncode}: {result.stderr.strip()}", flush=True)

    def expect_success(self, name: str, args: Sequence[str], stdin: str | None = None):
        result = self.run(args, stdin)
        if result.returncode != 0:
            self.fail(name, f"exit code {result.returncode}, expected 0; stderr {result.stderr!r}")
            return None
        return result


def write_model(folder: str, **overrides):
    options = dict(hidden_size=HIDDEN, num_attention_heads=2, intermediate_size=32, num_hidden_layers=2,
                   hidden_act="gelu", vocab_size=VOCAB, max_position_embeddings=MAX_POSITIONS,
                   type_vocab_size=TYPE_VOCAB, position_embedding_type="absolute", seed=0)
    options.update(overrides)
    return mc.make_checkpoint(folder, **options)


def copy_model(source: str, destination: str) -> str:
    shutil.copytree(source, destination)
    return destination


def check_success_paths(c: Checker, model: str, config, weights) -> None:
    # Lengths 3, 2, 1 and no newline at the end of the file.
    text = '1 2 3\n{"input_ids": [4, 5], "token_type_ids": [0, 1]}\n7'
    sequences = [[1, 2, 3], {"input_ids": [4, 5], "token_type_ids": [0, 1]}, [7]]
    expected = mc.reference_forward(weights, config, sequences)
    tokens = c.file("tokens.txt", text)

    outputs = {}
    for label, args, stdin in (("file input", ["--input", tokens], None),
                               ("stdin input (--input -)", ["--input", "-"], text)):
        out_dir = c.fresh_dir("ok")
        out = os.path.join(out_dir, "hidden.npy")
        name = f"success: {label}"
        result = c.expect_success(name, ["run", "--model", model, "--output", out, "--backend", "reference"]
                                  + args, stdin)
        if result is None:
            continue
        if not os.path.isfile(out):
            c.fail(name, f"exit 0 but no {out}")
            continue
        leftovers = sorted(set(os.listdir(out_dir)) - {"hidden.npy"})
        if leftovers:
            c.fail(name, f"extra files next to the output: {leftovers}")
        array = np.load(out)
        if array.shape != (3, 3, HIDDEN) or array.dtype != np.float32:
            c.fail(name, f"npy {array.shape} {array.dtype}, expected (3, 3, {HIDDEN}) float32 "
                         "(one row per line)")
            continue
        error = max(float(np.max(np.abs(array[i, :len(e)] - e))) for i, e in enumerate(expected))
        if error > 2e-5:
            c.fail(name, f"values differ from the float64 reference by {error:.3e} > 2e-5")
            continue
        outputs[label] = array
        c.passed += 1
        print(f"ok   {name}: shape {array.shape}, max error {error:.1e}", flush=True)
    if len(outputs) == 2 and not np.array_equal(*outputs.values()):
        c.fail("success: stdin vs file", "stdin and file input give different outputs")

    name = "success: JSON Lines on stdout"
    result = c.expect_success(name, ["run", "--model", model, "--input", tokens, "--backend", "reference"])
    if result is not None:
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        try:
            hidden = [np.asarray(json.loads(line)["hidden"]) for line in lines]
            shapes = [h.shape for h in hidden]
            if shapes != [(3, HIDDEN), (2, HIDDEN), (1, HIDDEN)]:
                c.fail(name, f"\"hidden\" shapes {shapes}, expected L = 3, 2, 1 with H = {HIDDEN}")
            else:
                c.passed += 1
                print(f"ok   {name}: {len(lines)} objects", flush=True)
        except (ValueError, KeyError, TypeError) as e:
            c.fail(name, f"stdout is not one JSON object with \"hidden\" per line ({e}): {result.stdout[:300]!r}")

    for backend in ("optimized", "reference"):
        for threads in ("1", "2"):
            name = f"success: --backend {backend} --threads {threads}"
            out_dir = c.fresh_dir("ok")
            out = os.path.join(out_dir, "t.npy")
            result = c.expect_success(name, ["run", "--model", model, "--input", tokens, "--output", out,
                                             "--backend", backend, "--threads", threads])
            if result is not None:
                if os.path.isfile(out) and np.load(out).shape == (3, 3, HIDDEN):
                    c.passed += 1
                    print(f"ok   {name}", flush=True)
                else:
                    c.fail(name, "missing or mis-shaped output")

    # No sequences at all: writing [0, 0, H] or a clear error are both acceptable; crashing is not.
    name = "input without sequences"
    empty = c.file("empty.txt", "")
    out_dir = c.fresh_dir("empty")
    result = c.run(["run", "--model", model, "--input", empty, "--output", os.path.join(out_dir, "e.npy")])
    if result.returncode == 0:
        print(f"info {name}: exit 0, wrote {sorted(os.listdir(out_dir))}", flush=True)
    elif result.returncode == 1 and len(result.stderr.splitlines()) == 1 and result.stderr.startswith(PREFIX):
        print(f"info {name}: exit 1: {result.stderr.strip()}", flush=True)
    else:
        c.fail(name, f"exit {result.returncode}, stderr {result.stderr!r} (expected exit 0, or exit 1 "
                     "with one error line)")


def check_input_errors(c: Checker, model: str) -> None:
    base = ["run", "--model", model]

    def case(name, text, contains, file_name="tokens.txt"):
        path = c.file(file_name, text)
        c.expect_error(name, base + ["--input", path], 1, contains)

    case("token id >= vocab_size", f"1 2 3\n4 5\n6 {VOCAB} 7\n", ["tokens.txt:3:"])
    case("negative token id", "1 2\n5\n3 -4\n", ["tokens.txt:3:"])
    case("empty line", "1 2\n\n3 4\n", ["tokens.txt:2:", "empty line"])
    case("non-numeric token", "1 2\n3 abc 5\n", ["tokens.txt:2:"])
    case("token with trailing garbage", "7 8x 9\n", ["tokens.txt:1:"])
    case("type id >= type_vocab_size", f'1 2\n{{"input_ids": [1, 2], "token_type_ids": [0, {TYPE_VOCAB}]}}\n',
         ["tokens.txt:2:"])
    case("token_type_ids length differs from input_ids",
         '{"input_ids": [1, 2, 3], "token_type_ids": [0, 1]}\n', ["tokens.txt:1:"])
    case("sequence longer than max_position_embeddings",
         "1 2\n" + " ".join(["5"] * (MAX_POSITIONS + 1)) + "\n", ["tokens.txt:2:"])
    case("broken JSON line", '3 4\n{"input_ids": [1, 2\n', ["tokens.txt:2:"])
    case("JSON line without input_ids", '{"ids": [1, 2]}\n', ["tokens.txt:1:"])
    c.expect_error("bad token on stdin", base + ["--input", "-"], 1, [":2:"], stdin=f"1 2\n{VOCAB + 5}\n")
    missing = os.path.join(c.workdir, "no_such_tokens.txt")
    c.expect_error("missing input file", base + ["--input", missing], 1, ["no_such_tokens.txt"])


def check_model_errors(c: Checker, model: str, tokens: str) -> None:
    def expect(name, folder, contains):
        c.expect_error(name, ["run", "--model", folder, "--input", tokens], 1, contains)

    missing = os.path.join(c.workdir, "no_such_model")
    expect("missing model folder", missing, ["no_such_model"])

    folder = copy_model(model, c.fresh_dir("m") + "/model")
    os.remove(os.path.join(folder, "config.json"))
    expect("missing config.json", folder, ["config.json"])

    folder = copy_model(model, c.fresh_dir("m") + "/model")
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write('{"model_type": "bert", "hidden_size": 16,')
    expect("broken config.json", folder, ["config.json"])

    folder = copy_model(model, c.fresh_dir("m") + "/model")
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    config["num_attention_heads"] = 3  # 16 is not a multiple of 3
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    expect("hidden_size not a multiple of num_attention_heads", folder, ["config.json"])

    folder = copy_model(model, c.fresh_dir("m") + "/model")
    os.remove(os.path.join(folder, "model.safetensors"))
    expect("missing model.safetensors", folder, ["model.safetensors"])

    path = os.path.join(model, "model.safetensors")
    size = os.path.getsize(path)
    for label, keep in (("truncated model.safetensors (half)", size // 2),
                        ("truncated model.safetensors (last byte)", size - 1),
                        ("truncated model.safetensors (4 bytes)", 4)):
        folder = copy_model(model, c.fresh_dir("m") + "/model")
        with open(os.path.join(folder, "model.safetensors"), "r+b") as f:
            f.truncate(keep)
        expect(label, folder, ["model.safetensors"])

    tensors, dtypes, metadata = mc.read_safetensors(path)
    gone = "encoder.layer.1.intermediate.dense.weight"
    folder = copy_model(model, c.fresh_dir("m") + "/model")
    mc.write_safetensors(os.path.join(folder, "model.safetensors"),
                         {k: (v, dtypes[k]) for k, v in tensors.items() if k != gone}, metadata)
    expect("missing tensor", folder, [gone])

    wrong = "encoder.layer.0.attention.self.key.weight"
    folder = copy_model(model, c.fresh_dir("m") + "/model")
    reshaped = {k: (v if k != wrong else v[:, : HIDDEN // 2], dtypes[k]) for k, v in tensors.items()}
    mc.write_safetensors(os.path.join(folder, "model.safetensors"), reshaped, metadata)
    expect("tensor with the wrong shape", folder, [wrong])


def check_output_errors(c: Checker, model: str, tokens: str) -> None:
    parent = c.fresh_dir("out_parent")
    target = os.path.join(parent, "does", "not", "exist", "out.npy")
    c.expect_error("output folder does not exist",
                   ["run", "--model", model, "--input", tokens, "--output", target], 1, with_output=False)
    if os.listdir(parent):
        c.fail("output folder does not exist", f"created {sorted(os.listdir(parent))} in {parent}")


def check_usage_errors(c: Checker, model: str, tokens: str) -> None:
    base = ["run", "--model", model, "--input", tokens]
    c.expect_error("unknown flag", base + ["--bogus"], 2)
    c.expect_error("missing --model", ["run", "--input", tokens], 2)
    c.expect_error("--backend bogus", base + ["--backend", "bogus"], 2)
    c.expect_error("--threads 0", base + ["--threads", "0"], 2)
    c.expect_error("--threads abc", base + ["--threads", "abc"], 2)
    c.expect_error("--threads without a value", base + ["--threads"], 2)


def main() -> int:
    args = script_arguments("test_cli_errors", "vecformer run: command-line contract")
    if args is None:
        return 1

    with scratch_folder("vecformer_cli_", args.keep) as workdir:
        c = Checker(args.binary, workdir)
        try:
            model = os.path.join(workdir, "model")
            config, weights = write_model(model)
            tokens = c.file("tokens.txt", "1 2 3\n4 5\n")
            check_success_paths(c, model, config, weights)
            check_input_errors(c, model)
            check_model_errors(c, model, tokens)
            check_output_errors(c, model, tokens)
            check_usage_errors(c, model, tokens)
        except subprocess.TimeoutExpired as e:
            c.fail("timeout", f"`{' '.join(e.cmd)}` took longer than {TIMEOUT_S} s")

    return report("test_cli_errors", c.failures, f"{c.passed} checks passed")


if __name__ == "__main__":
    sys.exit(main())
