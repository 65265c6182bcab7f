"""What the ctest Python scripts share: the --binary check, a scratch folder, the final report.

The scripts run as `/usr/bin/python3 tests/.../test_X.py --binary PATH` from the repository root.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Iterator, List, Sequence, Tuple


_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Shipped models and the `vecformer run` input each takes, for checks that a model folder written another
# way (sharded, converted) runs exactly like the shipped one: tiny-bert is F32 from token ids, demo F16
# from text.
SHIPPED_RUNS = (
    ("tiny-bert", ["--input", os.path.join(_REPO, "models", "tiny-bert", "sample_tokens.txt")]),
    ("demo", ["--text", "--input", os.path.join(_REPO, "models", "demo", "sentences.txt")]),
)


def run_to_npy(binary: str, model: str, input_args: Sequence[str], out: str,
               timeout_s: float = 120) -> Tuple[subprocess.CompletedProcess, bytes | None]:
    """`vecformer run --model MODEL --output OUT INPUT_ARGS...`: the finished process (text output) and
    the bytes of the .npy it wrote (None when it failed)."""
    result = subprocess.run([binary, "run", "--model", model, "--output", out, *input_args],
                            capture_output=True, text=True, timeout=timeout_s)
    if result.returncode != 0:
        return result, None
    with open(out, "rb") as f:
        return result, f.read()


class Failures:
    """Collects failed checks; each is printed when it happens and again in the final report."""

    def __init__(self) -> None:
        self.messages: List[str] = []

    def check(self, condition: bool, message: str) -> bool:
        if not condition:
            self.messages.append(message)
            print(f"  FAIL: {message}", flush=True)
        return condition


class ErrorChecker:
    """Runs the binary on inputs that must fail and checks every failure the same way: the expected
    exit code, exactly one line on stderr starting with `prefix` and containing the expected phrases,
    nothing on stdout and nothing left in the output folder. Each check gets its own numbered folder
    under `workdir`. The CLI test scripts subclass it with their own way to run and report."""

    def __init__(self, binary: str, workdir: str, prefix: str) -> None:
        self.binary = binary
        self.workdir = workdir
        self.prefix = prefix
        self.failures: List[str] = []
        self.passed = 0
        self._counter = 0

    def fail(self, name: str, message: str) -> None:
        self.failures.append(f"{name}: {message}")
        print(f"FAIL {name}: {message}", flush=True)

    def fresh_dir(self, label: str) -> str:
        self._counter += 1
        path = os.path.join(self.workdir, f"{self._counter:02d}_{label}")
        os.makedirs(path)
        return path

    def check_failure(self, name: str, returncode: int, stderr: str, stdout: str | bytes, code: int,
                      contains: Sequence[str], out_dir: str | None) -> bool:
        """Every check of one failed run (stderr as text); True when all hold."""
        ok = True
        if returncode != code:
            self.fail(name, f"exit code {returncode}, expected {code}; stderr {stderr!r}")
            ok = False
        lines = stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith(self.prefix) or not stderr.endswith("\n"):
            self.fail(name, f"stderr must be exactly one line starting with {self.prefix!r}; got {stderr!r}")
            ok = False
        for text in contains:
            if text not in stderr:
                self.fail(name, f"message does not contain {text!r}: {stderr.strip()!r}")
                ok = False
        if out_dir is not None and os.listdir(out_dir):
            self.fail(name, f"left files behind in the output folder: {sorted(os.listdir(out_dir))}")
            ok = False
        if stdout:
            self.fail(name, f"wrote to stdout: {stdout[:200]!r}")
            ok = False
        return ok


def executable_or_none(name: str, binary: str) -> str | None:
    """The absolute path of --binary, or None (with one line on stderr) when it is not executable."""
    if os.path.isfile(binary) and os.access(binary, os.X_OK):
        return os.path.abspath(binary)
    print(f"{name}: FAIL: no executable at --binary {binary}", file=sys.stderr)
    return None


def script_arguments(name: str, description: str) -> argparse.Namespace | None:
    """Parses the options every script takes: --binary (made absolute) and --keep. None (with one line on
    stderr) when --binary is not executable."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--binary", required=True, help="path to the vecformer executable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    args.binary = executable_or_none(name, args.binary)
    return args if args.binary is not None else None


def binary_argument(name: str) -> str | None:
    """The --binary a ctest script is given, as executable_or_none returns it."""
    args = script_arguments(name, "")
    return args.binary if args is not None else None


@contextlib.contextmanager
def scratch_folder(prefix: str, keep: bool = False) -> Iterator[str]:
    """A temporary folder, removed afterwards unless `keep` (then its path is printed)."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def report(name: str, problems: Sequence[str], passed: str = "") -> int:
    """Prints the verdict and returns the exit status: the problems on stderr, or OK."""
    if problems:
        print(f"\n{name}: FAILED ({len(problems)} problems{', ' + passed if passed else ''}):",
              file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"\n{name}: OK{' (' + passed + ')' if passed else ''}")
    return 0
