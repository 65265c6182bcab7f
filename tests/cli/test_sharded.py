#!/usr/bin/python3
"""Sharded checkpoints end to end: a shipped model split by tools/shard_safetensors.py into shards plus
model.safetensors.index.json must give bit-identical `vecformer run` output to the unsharded folder,
and a broken index must fail with one line naming the index and the tensor.

    /usr/bin/python3 tests/cli/test_sharded.py --binary build/vecformer
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import shard_safetensors  # noqa: E402
from script_support import (SHIPPED_RUNS, Failures, binary_argument, report, run_to_npy,  # noqa: E402
                            scratch_folder)

NAME = "test_sharded"
TIMEOUT_S = 120


def run(binary: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "run"] + args, capture_output=True, timeout=TIMEOUT_S)


def expect_error(failures: Failures, binary: str, label: str, args: list[str], needles: list[str]) -> None:
    """The run fails with exit status 1 and one line on stderr holding every needle."""
    result = run(binary, args)
    stderr = result.stderr.decode(errors="replace")
    failures.check(result.returncode == 1 and len(stderr.splitlines()) == 1
                   and all(n in stderr for n in needles),
                   f"{label}: exit {result.returncode}, stderr {stderr!r}, expected {needles}")
    print(f"{label}: {stderr.strip()}")


def main() -> int:
    binary = binary_argument(NAME)
    if binary is None:
        return 1
    failures = Failures()
    with scratch_folder("vecformer-sharded-") as work:
        for model, input_args in SHIPPED_RUNS:
            source = os.path.join(REPO, "models", model)
            result, expected = run_to_npy(binary, source, input_args, os.path.join(work, f"{model}.npy"))
            failures.check(expected is not None, f"{model}: the unsharded folder does not run: {result.stderr!r}")
            for count in (2, 3):
                sharded = os.path.join(work, f"{model}-{count}")
                shard_safetensors.shard(source, sharded, count)
                result, got = run_to_npy(binary, sharded, input_args, os.path.join(work, f"{model}-{count}.npy"))
                failures.check(got is not None and got == expected,
                               f"{model} in {count} shards: output differs from the unsharded folder "
                               f"({result.stderr.strip()!r})")
                print(f"{model} in {count} shards: {'identical' if got == expected else 'DIFFERENT'}")

        # A tensor of a shard that weight_map does not list: the index and the shards disagree. Then the
        # same tensor gone from the shard as well: the encoder needs it, and the index is what names the
        # checkpoint as a whole.
        tensor = "encoder.layer.0.output.dense.bias"
        broken = os.path.join(work, "tiny-bert-2")
        index = os.path.join(broken, "model.safetensors.index.json")
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        shard = weight_map.pop(tensor)
        with open(index, "w") as f:
            json.dump({"weight_map": weight_map}, f)
        tokens = ["--input", os.path.join(REPO, "models", "tiny-bert", "sample_tokens.txt")]
        expect_error(failures, binary, "unlisted tensor", ["--model", broken] + tokens,
                     [index + ": ", f"shard '{shard}'", f"'{tensor}'", "does not list"])
        header, metadata, data = shard_safetensors.read_raw(os.path.join(broken, shard))
        kept = [(name, entry, data[entry["data_offsets"][0]:entry["data_offsets"][1]])
                for name, entry in header.items() if name != tensor]
        shard_safetensors.write_raw(os.path.join(broken, shard), kept, metadata)
        expect_error(failures, binary, "missing tensor", ["--model", broken] + tokens,
                     [index + ": ", f"'{tensor}' is missing"])
    return report(NAME, failures.messages)


if __name__ == "__main__":
    sys.exit(main())
