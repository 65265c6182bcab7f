"""What the ctest Python scripts share: the --binary check, a scratch folder, the final report.

The scripts run as `/usr/bin/python3 tests/.../test_X.py --binary PATH` from the repository root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from typing import Iterator, List, Sequence


class Failures:
    """Collects failed checks; each is printed when it happens and again in the final report."""

    def __init__(self) -> None:
        self.messages: List[str] = []

    def check(self, condition: bool, message: str) -> bool:
        if not condition:
            self.messages.append(message)
            print(f"  FAIL: {message}", flush=True)
        return condition


def executable_or_none(name: str, binary: str) -> str | None:
    """The absolute path of --binary, or None (with one line on stderr) when it is not executable."""
    if os.path.isfile(binary) and os.access(binary, os.X_OK):
        return os.path.abspath(binary)
    print(f"{name}: FAIL: no executable at --binary {binary}", file=sys.stderr)
    return None


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
