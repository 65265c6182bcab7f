#!/usr/bin/python3
"""Hostile input through `vecformer run`: the classes of docs/RELIABILITY.md that
tests/cli/test_cli_errors.py does not already cover, on a tiny random checkpoint.

    /usr/bin/python3 tests/cli/test_bad_inputs.py --binary build/vecformer [--markdown]

(ctest runs it from the repository root.) Every case asserts the command-line contract:

* exit status 1 for bad input (model folder, token or text file, output folder), 2 when the command line
  itself is wrong (unknown or conflicting options, bad values, an output name of unknown format);
* exactly one line on stderr, starting "vecformer: error: ", that names the file and the line, field or
  tensor at fault (each case lists the fragments its message must hold);
* nothing left in the output folder (no partial file, no temporary).

Plus the defined behaviour for input without sequences (an empty file): exit 0 and an empty result, [0, 0, hidden] for .npy, an empty .jsonl, nothing on stdout.

--markdown prints each case's class, exit status and error line (temporary paths shortened) as the
rows of the table in docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from typing import Callable, List, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import make_checkpoint as mc  # noqa: E402
from script_support import ErrorChecker, executable_or_none, report, scratch_folder  # noqa: E402

PREFIX = "vecformer: error: "
TIMEOUT_S = 180
HIDDEN = 16
VOCAB = 40
MAX_POSITIONS = 8
# The vocabulary written next to the model for --text: special tokens, then a few words.
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "cat", ",", "!"]


class Checker(ErrorChecker):
    """Bad files and arguments; inputs written as bytes, every failure kept as a table row."""

    def __init__(self, binary: str, workdir: str) -> None:
        super().__init__(binary, workdir, PREFIX)
        self.rows: List[tuple] = []

    def file(self, name: str, data: str | bytes) -> str:
        path = os.path.join(self.fresh_dir("input"), name)
        with open(path, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    def run(self, args: Sequence[str]) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary] + list(args), input=b"", capture_output=True,
                              timeout=TIMEOUT_S)

    def short(self, text: str) -> str:
        """Temporary paths as the folder and file names a reader would recognise."""
        text = re.sub(re.escape(self.workdir) + r"/\d+_[a-z_]+/", "", text)
        return re.sub(re.escape(self.workdir) + r"/\d+_([a-z_]+)", r"\1", text)

    def expect_error(self, group: str, name: str, args: Sequence[str], code: int,
                     contains: Sequence[str] = (), with_output: bool = True) -> None:
        """Runs args (plus --output into an empty folder when with_output) and checks the failure."""
        out_dir = self.fresh_dir("out")
        result = self.run(list(args) + (["--output", os.path.join(out_dir, "out.npy")] if with_output else []))
        stderr = result.stderr.decode("utf-8", "replace")
        ok = self.check_failure(name, result.returncode, stderr, result.stdout, code, contains, out_dir)
        self.rows.append((group, name, result.returncode, self.short(stderr.strip())))
        if ok:
            self.passed += 1
            print(f"ok   {name}: exit {result.returncode}: {self.short(stderr.strip())}", flush=True)


def write_model(folder: str) -> str:
    mc.make_checkpoint(folder, hidden_size=HIDDEN, num_attention_heads=2, intermediate_size=32,
                       num_hidden_layers=1, hidden_act="gelu", vocab_size=VOCAB,
                       max_position_embeddings=MAX_POSITIONS, type_vocab_size=2,
                       position_embedding_type="absolute", seed=3)
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("\n".join(WORDS) + "\n")
    return folder


def copy_model(c: Checker, model: str) -> str:
    folder = os.path.join(c.fresh_dir("m"), "model")
    shutil.copytree(model, folder)
    return folder


def edit_config(c: Checker, model: str, edit: Callable[[dict], object]) -> str:
    folder = copy_model(c, model)
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        config = json.load(f)
    replacement = edit(config)  # None: config edited in place
    with open(path, "w") as f:
        json.dump(config if replacement is None else replacement, f)
    return folder


def read_raw(path: str):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + length]), raw[8 + length:]


def edit_weights(c: Checker, model: str, edit: Callable[[dict, bytearray], bytes | None]) -> str:
    """edit(header, data) changes the header dict and the data section in place, or returns the whole
    file's bytes itself."""
    folder = copy_model(c, model)
    path = os.path.join(folder, "model.safetensors")
    header, data = read_raw(path)
    data = bytearray(data)
    whole = edit(header, data)
    if whole is None:
        text = json.dumps(header).encode("utf-8")
        whole = struct.pack("<Q", len(text)) + text + bytes(data)
    with open(path, "wb") as f:
        f.write(whole)
    return folder


def poison(header: dict, data: bytearray, name: str, value: float) -> None:
    begin = header[name]["data_offsets"][0]
    data[begin + 8:begin + 12] = struct.pack("<f", value)  # element 2


def check_model_folders(c: Checker, model: str, tokens: str) -> None:
    def expect(name, folder, contains):
        c.expect_error("model folder", name, ["run", "--model", folder, "--input", tokens], 1, contains)

    expect("config.json is not an object", edit_config(c, model, lambda cfg: [1, 2, 3]),
           ["config.json", "must hold a JSON object"])
    expect("unknown model_type", edit_config(c, model, lambda cfg: cfg.update(model_type="gpt2")),
           ["config.json", "model_type \"gpt2\" is not supported"])
    expect("zero size", edit_config(c, model, lambda cfg: cfg.update(hidden_size=0)),
           ["config.json", "field 'hidden_size'"])
    expect("negative size", edit_config(c, model, lambda cfg: cfg.update(intermediate_size=-32)),
           ["config.json", "field 'intermediate_size'"])
    expect("absurd size", edit_config(c, model, lambda cfg: cfg.update(num_hidden_layers=10 ** 12)),
           ["config.json", "field 'num_hidden_layers'", "more than the limit"])
    expect("size not an integer", edit_config(c, model, lambda cfg: cfg.update(vocab_size=40.5)),
           ["config.json", "field 'vocab_size'"])
    expect("missing required field", edit_config(c, model, lambda cfg: cfg.pop("max_position_embeddings") and None),
           ["config.json", "missing required field 'max_position_embeddings'"])

    # Layers are read in parallel; the error is still the first one a front-to-back read meets.
    deep = os.path.join(c.fresh_dir("deep"), "model")
    mc.make_checkpoint(deep, hidden_size=HIDDEN, num_attention_heads=2, intermediate_size=32,
                       num_hidden_layers=6, hidden_act="gelu", vocab_size=VOCAB,
                       max_position_embeddings=MAX_POSITIONS, type_vocab_size=2,
                       position_embedding_type="absolute", seed=4)

    def poison_layers(h, d):
        for layer in (4, 2, 5):
            poison(h, d, f"encoder.layer.{layer}.output.dense.bias", float("nan"))
    expect("NaN in several layers", edit_weights(c, deep, poison_layers),
           ["model.safetensors", "'encoder.layer.2.output.dense.bias'", "non-finite"])

    word = "embeddings.word_embeddings.weight"
    bias = "encoder.layer.0.output.dense.bias"
    expect("tensor with an unknown dtype",
           edit_weights(c, model, lambda h, d: h[word].update(dtype="F64")),
           ["model.safetensors", f"'{word}'", "unsupported dtype F64"])
    expect("NaN in weights", edit_weights(c, model, lambda h, d: poison(h, d, bias, float("nan"))),
           ["model.safetensors", f"'{bias}'", "non-finite", "element 2"])
    expect("Inf in weights", edit_weights(c, model, lambda h, d: poison(h, d, bias, float("-inf"))),
           ["model.safetensors", f"'{bias}'", "non-finite", "element 2"])
    expect("empty model.safetensors", edit_weights(c, model, lambda h, d: b""),
           ["model.safetensors", "0 bytes"])
    expect("header length past the end of the file",
           edit_weights(c, model, lambda h, d: struct.pack("<Q", 10 ** 6) + b"{}"),
           ["model.safetensors", "runs past the end of the file"])
    expect("header length over 100 MB",
           edit_weights(c, model, lambda h, d: struct.pack("<Q", 100_000_001) + b"{}" + bytes(d)),
           ["model.safetensors", "more than the limit of 100000000 bytes"])
    expect("header not JSON",
           edit_weights(c, model, lambda h, d: struct.pack("<Q", 9) + b'{"a": [1,' + bytes(d)),
           ["model.safetensors", "header is not valid JSON"])
    expect("offsets out of range",
           edit_weights(c, model, lambda h, d: h[bias].update(data_offsets=[len(d), len(d) + 64])),
           ["model.safetensors", f"'{bias}'", "past the end of the data section"])
    expect("offsets backwards",
           edit_weights(c, model, lambda h, d: h[bias].update(data_offsets=[64, 0])),
           ["model.safetensors", f"'{bias}'", "run backwards"])
    expect("offsets overlapping",
           edit_weights(c, model, lambda h, d: h[bias].update(data_offsets=[0, 64])),
           ["model.safetensors", "overlap"])
    expect("data size is not shape × dtype",
           edit_weights(c, model, lambda h, d: h[bias].update(shape=[HIDDEN + 1])),
           ["model.safetensors", f"'{bias}'", "needs 68"])
    expect("shape product overflows",
           edit_weights(c, model, lambda h, d: h[word].update(shape=[2 ** 32, 2 ** 32, 16])),
           ["model.safetensors", f"'{word}'", "more elements than fit in 64 bits"])
    expect("negative shape", edit_weights(c, model, lambda h, d: h[word].update(shape=[-1, HIDDEN])),
           ["model.safetensors", f"'{word}'", "non-negative integers"])


def check_inputs(c: Checker, model: str) -> None:
    base = ["run", "--model", model]

    def case(name, data, contains, extra=()):
        path = c.file("tokens.txt", data)
        c.expect_error("input", name, base + ["--input", path] + list(extra), 1, contains)

    case("id past 64 bits", "1 2\n3 99999999999999999999999\n", ["tokens.txt:2:", "token 2", "out of range"])
    case("id past 64 bits in JSON", '{"input_ids": [1, 18446744073709551616]}\n',
         ["tokens.txt:1:", "token 2"])
    case("negative id in JSON", '{"input_ids": [1, -2]}\n', ["tokens.txt:1:", "token 2", "id -2"])
    case("id past the vocabulary in JSON", f'{{"input_ids": [{VOCAB}]}}\n', ["tokens.txt:1:", "token 1"])
    case("fractional id in JSON", '{"input_ids": [1, 2.5]}\n', ["tokens.txt:1:", "token 2", "integer"])
    case("negative type id", '{"input_ids": [1, 2], "token_type_ids": [0, -1]}\n',
         ["tokens.txt:1:", "token 2", "type -1"])
    case("padding in attention_mask", '{"input_ids": [1, 2], "attention_mask": [1, 0]}\n',
         ["tokens.txt:1:", "token 2", "attention_mask"])
    case("JSON line that is not an object", "1 2\n[1, 2]\n", ["tokens.txt:2:"])
    case("empty input_ids", '{"input_ids": []}\n', ["tokens.txt:1:", "empty"])
    case("blank line (every line is one row)", "1 2\n \t\n3\n", ["tokens.txt:2:", "empty line"])
    case("NUL byte in a line", "1 2\n3\x004\n", ["tokens.txt:2:", "token 1", "3\\x004"])
    # Control characters from the input are escaped: an error line cannot clear the terminal.
    case("terminal escape in a token", "1 \x1b[2J\n", ["tokens.txt:1:", "token 2", "\\x1B[2J"])
    folder = c.fresh_dir("input_dir")
    c.expect_error("input", "input is a folder", base + ["--input", folder], 1, [os.path.basename(folder)])

    # --text: tokenized with the folder's vocab.txt.
    case("--text with invalid UTF-8", b"hello world\nhello \xc3( world\n",
         ["tokens.txt:2:", "not valid UTF-8 at byte 6"], ["--text"])
    case("--text longer than the model allows, with --no-truncate", "hello " * MAX_POSITIONS + "\n",
         ["tokens.txt:1:", "more than the model's maximum", "--no-truncate"], ["--text", "--no-truncate"])
    no_vocab = copy_model(c, model)
    os.remove(os.path.join(no_vocab, "vocab.txt"))
    path = c.file("text.txt", "hello world\n")
    c.expect_error("input", "--text without a vocabulary", ["run", "--model", no_vocab, "--input", path, "--text"],
                   1, ["model", "no tokenizer.json or vocab.txt"])


def check_options(c: Checker, model: str, tokens: str) -> None:
    base = ["run", "--model", model, "--input", tokens]
    for name, extra, fragment in (
            ("--threads -1", ["--threads", "-1"], "--threads"),
            ("--threads 100000 (absurd)", ["--threads", "100000"], "--threads"),
            ("--threads 2.5", ["--threads", "2.5"], "--threads"),
            ("--dtype f64 (unknown)", ["--dtype", "f64"], "--dtype"),
            ("--pooling bogus", ["--pooling", "bogus"], "--pooling"),
            ("--max-length 1", ["--text", "--max-length", "1"], "--max-length"),
            ("--input given twice", ["--input", tokens], "--input")):
        c.expect_error("options", name, base + extra, 2, [fragment])
    c.expect_error("options", "unknown subcommand", ["frobnicate", "--model", model], 2,
                   ["unknown subcommand 'frobnicate'", "run, tokenize"])
    c.expect_error("options", "no subcommand", [], 2, ["a subcommand is required: run"], with_output=False)
    c.expect_error("options", "unknown flag", base + ["--bogus"], 2, ["unknown option '--bogus'"])
    # Named even when a required option is missing because of it (CLI11 alone reports the latter).
    c.expect_error("options", "misspelled required option", ["run", "--modle", model, "--input", tokens], 2,
                   ["unknown option '--modle'"])
    c.expect_error("options", "missing --input", ["run", "--model", model], 2, ["--input"])
    # An output name that is neither .npy nor .jsonl is a wrong command line (exit 2), as a bad value is.
    out_dir = c.fresh_dir("out")
    result = c.run(base + ["--output", os.path.join(out_dir, "out.txt")])
    stderr = result.stderr.decode("utf-8", "replace")
    c.rows.append(("options", "--output with another extension", result.returncode, c.short(stderr.strip())))
    if result.returncode != 2 or len(stderr.splitlines()) != 1 or "out.txt" not in stderr or os.listdir(out_dir):
        c.fail("--output with another extension", f"exit {result.returncode}, stderr {stderr!r}, "
                                                   f"left {os.listdir(out_dir)}")
    else:
        c.passed += 1


def check_no_sequences(c: Checker, model: str) -> None:
    """An input without sequences is not an error: N = 0."""
    for label, data in (("empty file", ""),):
        path = c.file("tokens.txt", data)
        out_dir = c.fresh_dir("out")
        npy = os.path.join(out_dir, "e.npy")
        result = c.run(["run", "--model", model, "--input", path, "--output", npy, "--quiet"])
        name = f"no sequences ({label})"
        if result.returncode != 0 or result.stderr:
            c.fail(name, f"exit {result.returncode}, stderr {result.stderr!r}; expected exit 0, silent")
            continue
        with open(npy, "rb") as f:
            head = f.read(128).decode("latin-1")
        if f"'shape': (0, 0, {HIDDEN})" not in head:
            c.fail(name, f"npy header {head!r}, expected shape (0, 0, {HIDDEN})")
            continue
        result = c.run(["run", "--model", model, "--input", path, "--quiet"])
        if result.returncode != 0 or result.stdout or result.stderr:
            c.fail(name, f"stdout run: exit {result.returncode}, stdout {result.stdout!r}")
            continue
        jsonl = os.path.join(out_dir, "e.jsonl")
        result = c.run(["run", "--model", model, "--input", path, "--output", jsonl, "--quiet"])
        if result.returncode != 0 or os.path.getsize(jsonl) != 0:
            c.fail(name, f".jsonl run: exit {result.returncode}, size {os.path.getsize(jsonl)}")
            continue
        c.passed += 1
        c.rows.append(("input", f"no sequences: {label}", 0, f"(no error) .npy of shape [0, 0, {HIDDEN}]; "
                                                            "empty .jsonl; nothing on stdout"))
        print(f"ok   {name}: exit 0, [0, 0, {HIDDEN}]", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="vecformer run: hostile input")
    parser.add_argument("--binary", required=True, help="path to the vecformer executable")
    parser.add_argument("--markdown", action="store_true", help="print the cases as markdown table rows")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    binary = executable_or_none("test_bad_inputs", args.binary)
    if binary is None:
        return 1

    with scratch_folder("vecformer_bad_", args.keep) as workdir:
        c = Checker(binary, workdir)
        try:
            model = write_model(os.path.join(workdir, "model"))
            tokens = c.file("tokens.txt", "1 2 3\n4 5\n")
            check_model_folders(c, model, tokens)
            check_inputs(c, model)
            check_options(c, model, tokens)
            check_no_sequences(c, model)
        except subprocess.TimeoutExpired as e:
            c.fail("timeout", f"`{' '.join(e.cmd)}` took longer than {TIMEOUT_S} s")

    if args.markdown:
        print("\n| class | case | exit | stderr |\n|---|---|---|---|")
        for group, name, code, line in c.rows:
            print(f"| {group} | {name} | {code} | `{line}` |")
    return report("test_bad_inputs", c.failures, f"{c.passed} checks passed")


if __name__ == "__main__":
    sys.exit(main())
