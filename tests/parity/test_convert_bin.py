#!/usr/bin/python3
"""tools/convert_bin.py on checkpoints written by torch.save: a folder holding only pytorch_model.bin is
refused by `vecformer run` with a message naming the converter; once converted, `vecformer run` gives
bit-identical output to the shipped model.safetensors it came from. The converter keeps bfloat16 bits,
leaves integer buffers out, refuses to overwrite without --force, runs no code from a pickle, and leaves
no partial file when it fails.

    /usr/bin/python3 tests/parity/test_convert_bin.py --binary build/vecformer
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import convert_bin  # noqa: E402
import make_checkpoint as mc  # noqa: E402
from script_support import (SHIPPED_RUNS, Failures, binary_argument, report, run_to_npy,  # noqa: E402
                            scratch_folder)

NAME = "test_convert_bin"
CONVERTER = os.path.join(REPO, "tools", "convert_bin.py")
TIMEOUT_S = 300
TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def convert(folder: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, CONVERTER, folder, *extra], capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def torch_copy(source: str, folder: str) -> None:
    """folder: source's files, with model.safetensors replaced by a torch.save'd pytorch_model.bin of the
    same tensors in their stored dtypes, plus the int64 position_ids buffer old BERT checkpoints carry."""
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    weights, dtypes, _ = mc.read_safetensors(os.path.join(source, "model.safetensors"))
    state = {name: torch.from_numpy(values.astype(np.float32)).to(TORCH_DTYPES[dtypes[name]])
             for name, values in weights.items()}
    state["embeddings.position_ids"] = torch.arange(8).unsqueeze(0)
    torch.save(state, os.path.join(folder, "pytorch_model.bin"))


class RunsCode:
    """A pickle that would create a file if unpickled freely."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def main() -> int:
    binary = binary_argument(NAME)
    if binary is None:
        return 1
    failures = Failures()
    with scratch_folder("vecformer-convert-bin-") as work:
        for model, input_args in SHIPPED_RUNS:
            folder = os.path.join(work, model)
            torch_copy(os.path.join(REPO, "models", model), folder)

            refused, _ = run_to_npy(binary, folder, input_args, os.path.join(work, "refused.npy"))
            failures.check(refused.returncode == 1 and "pytorch_model.bin" in refused.stderr
                           and "tools/convert_bin.py" in refused.stderr
                           and len(refused.stderr.splitlines()) == 1,
                           f"{model}: pytorch_model.bin only: exit {refused.returncode}, {refused.stderr!r}")

            converted = convert(folder)
            failures.check(converted.returncode == 0, f"{model}: convert_bin.py failed: {converted.stderr!r}")
            failures.check("left out embeddings.position_ids" in converted.stderr,
                           f"{model}: the int64 buffer is not reported as left out: {converted.stderr!r}")
            _, expected = run_to_npy(binary, os.path.join(REPO, "models", model), input_args,
                                     os.path.join(work, f"{model}-expected.npy"))
            result, got = run_to_npy(binary, folder, input_args, os.path.join(work, f"{model}-got.npy"))
            same = expected is not None and got == expected
            failures.check(same, f"{model}: converted output differs ({result.stderr.strip()!r})")
            print(f"{model}: converted run {'identical' if same else 'DIFFERENT'}")

        # bfloat16 bits survive; no overwrite without --force, and with it the file is replaced.
        folder = os.path.join(work, "bf16")
        os.makedirs(folder)
        bits = torch.tensor([1.5, -2.25, 3e-3, 1e30]).to(torch.bfloat16)
        torch.save({"w": bits}, os.path.join(folder, "pytorch_model.bin"))
        failures.check(convert(folder).returncode == 0, "bf16: convert failed")
        weights, dtypes, _ = mc.read_safetensors(os.path.join(folder, "model.safetensors"))
        failures.check(dtypes == {"w": "BF16"} and np.array_equal(weights["w"], bits.float().numpy()),
                       f"bf16: read back {dtypes} {weights.get('w')}")
        again = convert(folder)
        failures.check(again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr,
                       f"second convert without --force: exit {again.returncode}, {again.stderr!r}")
        torch.save({"w": bits[:2]}, os.path.join(folder, "pytorch_model.bin"))
        failures.check(convert(folder, "--force").returncode == 0, "convert --force failed")
        weights, _, _ = mc.read_safetensors(os.path.join(folder, "model.safetensors"))
        failures.check(weights["w"].shape == (2,), "convert --force did not replace the file")

        # A pickle that would run code is refused before it does, and nothing is written.
        folder = os.path.join(work, "hostile")
        os.makedirs(folder)
        marker = os.path.join(work, "code-ran")
        with open(os.path.join(folder, "pytorch_model.bin"), "wb") as f:
            pickle.dump({"w": RunsCode(marker)}, f)
        hostile = convert(folder)
        failures.check(hostile.returncode == 1 and "weights_only" in hostile.stderr,
                       f"hostile pickle: exit {hostile.returncode}, {hostile.stderr!r}")
        failures.check(not os.path.exists(marker), "hostile pickle: its code ran")
        failures.check(os.listdir(folder) == ["pytorch_model.bin"],
                       f"hostile pickle: left {sorted(os.listdir(folder))}")

        # A damaged pickle is an error of one line, and nothing is written.
        folder = os.path.join(work, "truncated")
        os.makedirs(folder)
        torch.save({"w": torch.ones(4)}, os.path.join(folder, "pytorch_model.bin"))
        with open(os.path.join(folder, "pytorch_model.bin"), "r+b") as f:
            f.truncate(os.path.getsize(os.path.join(folder, "pytorch_model.bin")) // 2)
        truncated = convert(folder)
        failures.check(truncated.returncode == 1 and len(truncated.stderr.splitlines()) == 1,
                       f"truncated pickle: exit {truncated.returncode}, {truncated.stderr!r}")
        failures.check(os.listdir(folder) == ["pytorch_model.bin"],
                       f"truncated pickle: left {sorted(os.listdir(folder))}")

        # A failure while writing (here the final fsync) leaves neither the output nor the temporary.
        folder = os.path.join(work, "write-fails")
        os.makedirs(folder)
        torch.save({"w": torch.ones(4)}, os.path.join(folder, "pytorch_model.bin"))
        fsync = os.fsync

        def failing_fsync(fd: int) -> None:
            raise OSError(28, "No space left on device")

        os.fsync = failing_fsync
        try:
            convert_bin.convert(folder)
            failures.check(False, "write failure: convert() did not raise")
        except OSError:
            pass
        finally:
            os.fsync = fsync
        failures.check(os.listdir(folder) == ["pytorch_model.bin"],
                       f"write failure: left {sorted(os.listdir(folder))}")
    return report(NAME, failures.messages)


if __name__ == "__main__":
    sys.exit(main())
