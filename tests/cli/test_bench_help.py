#!/usr/bin/python3
"""`vecformer bench --help` shows every option's default: a timing is only comparable when one knows the
batch, sequence length, backend, dtype and iterations it ran with.

    /usr/bin/python3 tests/cli/test_bench_help.py --binary build/vecformer
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from script_support import Failures, binary_argument, report  # noqa: E402

NAME = "test_bench_help"
# The defaults of BenchOptions (src/cli/bench_command.cpp).
DEFAULTS = {"--batch": "1", "--seq": "128", "--backend": "optimized", "--dtype": "f32", "--iters": "20",
            "--padding-fraction": "0"}


def main() -> int:
    binary = binary_argument(NAME)
    if binary is None:
        return 1
    failures = Failures()
    result = subprocess.run([binary, "bench", "--help"], capture_output=True, text=True, timeout=60)
    failures.check(result.returncode == 0, f"bench --help: exit {result.returncode}, {result.stderr!r}")
    for option, default in DEFAULTS.items():
        # CLI11 prints "--seq INT:INT in [1 - 65536]=128": the type, then "=default".
        shown = re.search(rf"^\s*{re.escape(option)} \S.*?=(\S+)\s*$", result.stdout, re.MULTILINE)
        failures.check(shown is not None and shown.group(1) == default,
                       f"{option}: default {default} not shown; its line: "
                       f"{shown.group(0).strip() if shown else 'none with a default'}")
    return report(NAME, failures.messages)


if __name__ == "__main__":
    sys.exit(main())
