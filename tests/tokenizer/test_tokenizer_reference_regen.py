#!/usr/bin/python3
"""The committed tokenizer reference (tests/tokenizer/data/reference) is what Hugging Face's `tokenizers`
gives today: regenerates it with tools/make_test_tokenizers.py and tools/make_tokenizer_reference.mjs
(Node, npm `tokenizers@0.23.2` in tools/node/node_modules, which scripts/install-deps.sh installs) into a
scratch folder and compares every file byte for byte. Exits 77 (ctest: skipped) when node or the npm
package is missing, naming which.

    /usr/bin/python3 tests/tokenizer/test_tokenizer_reference_regen.py [--binary IGNORED] [--keep]
        [--node-modules DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from script_support import report, scratch_folder  # noqa: E402

NAME = "test_tokenizer_reference_regen"
REFERENCE = os.path.join(REPO, "tests", "tokenizer", "data", "reference")
SKIP = 77


def files_under(root: str) -> list[str]:
    found = []
    for folder, _, names in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, name), root) for name in names]
    return sorted(found)


def first_difference(a: bytes, b: bytes) -> str:
    la, lb = a.split(b"\n"), b.split(b"\n")
    for number, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return f"line {number}: committed {x[:300]!r}, regenerated {y[:300]!r}"
    return f"{len(la)} lines committed, {len(lb)} regenerated"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary")  # ctest passes it to every script; unused here
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--node-modules", default=os.path.join(REPO, "tools", "node", "node_modules"))
    args = parser.parse_args()
    node = shutil.which("node")
    package = os.path.join(args.node_modules, "tokenizers", "package.json")
    if node is None or not os.path.isfile(package):
        missing = "node" if node is None else f"npm tokenizers@0.23.2 in {args.node_modules}"
        print(f"{NAME}: SKIPPED: {missing} is missing (scripts/install-deps.sh installs it)")
        return SKIP

    problems: list[str] = []
    with scratch_folder("vecformer-tokregen-", args.keep) as scratch:
        folders = os.path.join(scratch, "tokenizers")
        out = os.path.join(scratch, "reference")
        steps = [
            ["/usr/bin/python3", os.path.join(REPO, "tools", "make_test_tokenizers.py"), "--out", folders],
            [node, os.path.join(REPO, "tools", "make_tokenizer_reference.mjs"), "--repo", REPO,
             "--folders", folders, "--node-modules", args.node_modules, "--out", out],
        ]
        for command in steps:
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
            if result.returncode != 0:
                return report(NAME, [f"{' '.join(command[:2])}: exit {result.returncode}: "
                                     f"{result.stderr.strip()[-2000:]}"])
        committed, regenerated = files_under(REFERENCE), files_under(out)
        if committed != regenerated:
            problems.append(f"file sets differ: only committed {sorted(set(committed) - set(regenerated))}, "
                            f"only regenerated {sorted(set(regenerated) - set(committed))}")
        for name in sorted(set(committed) & set(regenerated)):
            with open(os.path.join(REFERENCE, name), "rb") as f:
                a = f.read()
            with open(os.path.join(out, name), "rb") as f:
                b = f.read()
            if a != b:
                problems.append(f"{name} differs from a fresh regeneration: {first_difference(a, b)}")
    return report(NAME, problems, f"{len(committed)} reference files compared")


if __name__ == "__main__":
    sys.exit(main())
