#!/usr/bin/python3
"""scripts/install-deps.sh splits the build's packages from the test tools: `--build` (what build.sh and
demo.sh install) must not pull PyTorch, NumPy or Chromium, while the default set (what test.sh installs)
has everything. Checked with --list, which installs nothing.

    /usr/bin/python3 tests/cli/test_install_deps.py [--binary IGNORED]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from script_support import Failures, report  # noqa: E402

NAME = "test_install_deps"
SCRIPT = os.path.join(REPO, "scripts", "install-deps.sh")
BUILD = {"cmake", "g++", "make", "pkg-config", "libdnnl-dev", "libxsimd-dev", "nlohmann-json3-dev",
         "libcli11-dev", "catch2", "libbenchmark-dev", "python3", "libicu-dev", "libpcre2-dev",
         "libcpp-httplib-dev", "pybind11-dev",
         "python3-dev"}
TEST_ONLY = {"python3-torch", "python3-numpy", "chromium", "python3-sentencepiece", "nodejs",
             "python3-pytest", "python3-dask", "python3-distributed", "python3-pandas", "python3-venv"}


def packages(*args: str) -> set[str] | None:
    result = subprocess.run([SCRIPT, *args, "--list"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        print(f"  install-deps.sh {' '.join(args)} --list: exit {result.returncode}: {result.stderr.strip()}")
        return None
    return set(result.stdout.split())


def install_calls(script: str) -> list[str]:
    """The argument strings of every install-deps.sh / build.sh call in a script (comments skipped)."""
    with open(os.path.join(REPO, "scripts", script)) as f:
        lines = [line.split("#", 1)[0] for line in f]
    return [m.group(0).strip() for line in lines
            for m in re.finditer(r"\./scripts/(install-deps|build)\.sh[^;&|>\n]*", line)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary")  # ctest passes it to every script of tests/cli; unused here
    parser.parse_args()
    failures = Failures()

    build = packages("--build")
    everything = packages()
    fuzz = packages("--fuzz")
    failures.check(build is not None and everything is not None and fuzz is not None, "--list failed")
    if build is not None and everything is not None and fuzz is not None:
        failures.check(BUILD <= build, f"--build lacks {sorted(BUILD - build)}")
        failures.check(not (TEST_ONLY & build), f"--build installs test tools {sorted(TEST_ONLY & build)}")
        failures.check((BUILD | TEST_ONLY) <= everything,
                       f"the default set lacks {sorted((BUILD | TEST_ONLY) - everything)}")
        failures.check(everything < fuzz and "clang-14" in fuzz, "--fuzz does not add clang to everything")
    unknown = subprocess.run([SCRIPT, "--bogus"], capture_output=True, text=True, timeout=60)
    failures.check(unknown.returncode == 2 and "--build" in unknown.stderr,
                   f"unknown argument: exit {unknown.returncode}, {unknown.stderr!r}")

    # The README's two commands: demo.sh installs through build.sh, which takes the --build set only;
    # test.sh installs everything (and the fuzzers) before it builds.
    failures.check(install_calls("build.sh") == ["./scripts/install-deps.sh --build"],
                   f"build.sh: {install_calls('build.sh')}")
    failures.check(all(c.startswith("./scripts/build.sh") for c in install_calls("demo.sh")),
                   f"demo.sh: {install_calls('demo.sh')}")
    calls = install_calls("test.sh")
    failures.check(len(calls) == 2 and calls[0] == "./scripts/install-deps.sh --fuzz"
                   and calls[1] == "./scripts/build.sh", f"test.sh: {calls}")
    return report(NAME, failures.messages)


if __name__ == "__main__":
    sys.exit(main())
