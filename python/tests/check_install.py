#!/usr/bin/python3
"""The Python package installed the two documented ways, used from outside the source tree.

1. `pip install --no-build-isolation --no-index SRC` into a venv made with --system-site-packages,
   where SRC is a copy of this checkout's files (tracked and new, not ignored: what a clean clone
   holds plus uncommitted work), so no build tree of the checkout is reused.
2. `cmake --install BUILD_DIR --prefix VENV2` into a second such venv.
Each venv's python imports vecformer (from its own site-packages, run from a scratch folder) and
encodes the demo's sentences; the bytes must equal the build tree's module's (same code, same
options: any difference means the installed module is not the one built here).

Usage: check_install.py --build-dir BUILD_DIR [--cmake CMAKE] [--launcher ccache]
Not collected by pytest (its name does not start with test_); ctest runs it as python_install.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2]
PROBE = """
import sys, vecformer, vecformer.dask, numpy as np
assert vecformer.__file__.startswith(sys.prefix), vecformer.__file__
m = vecformer.Model.load(sys.argv[1])
lines = open(sys.argv[1] + "/sentences.txt").read().splitlines()
np.save(sys.argv[2], m.encode(lines, pooling="mean", threads=1))
"""


def run(command, **kwargs):
    print("+", " ".join(str(c) for c in command), flush=True)
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-4000:] + result.stderr[-4000:])
        sys.exit(f"FAIL: exit status {result.returncode}: {' '.join(str(c) for c in command)}")
    return result


def probe(python, out, env, cwd):
    run([python, "-c", PROBE, SOURCE_DIR / "models" / "demo", out], env=env, cwd=cwd)
    return Path(out).read_bytes()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True, type=Path)
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--launcher", default="")
    args = parser.parse_args()
    # Under the build folder rather than /tmp: a compiler cache keyed on paths relative to a base
    # folder (ccache's CCACHE_BASEDIR) can then serve the pip build.
    work = args.build_dir.resolve() / "python-install-check"
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    listed = subprocess.run(["git", "-C", str(SOURCE_DIR), "ls-files", "-z", "--cached",
                             "--others", "--exclude-standard"], capture_output=True, text=True)
    if listed.returncode == 0:
        files = listed.stdout.split("\0")
    else:  # not a git checkout (an unpacked release): every file outside build folders
        files = [str(p.relative_to(SOURCE_DIR)) for p in SOURCE_DIR.rglob("*")
                 if not p.relative_to(SOURCE_DIR).parts[0].startswith("build")]
    for name in filter(None, files):
        if (SOURCE_DIR / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(SOURCE_DIR / name, src / name)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if args.launcher:
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = args.launcher
    scratch = work / "scratch"
    scratch.mkdir()

    pip_venv = work / "venv-pip"
    run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", pip_venv])
    run([pip_venv / "bin" / "python", "-m", "pip", "install", "--no-build-isolation", "--no-index",
         src], env=env, cwd=scratch, timeout=1800)
    from_pip = probe(pip_venv / "bin" / "python", scratch / "pip.npy", env, scratch)

    cmake_venv = work / "venv-cmake"
    run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", cmake_venv])
    run([args.cmake, "--install", args.build_dir, "--prefix", cmake_venv], env=env)
    from_cmake = probe(cmake_venv / "bin" / "python", scratch / "cmake.npy", env, scratch)

    tree_env = dict(env, PYTHONPATH=str(args.build_dir.resolve() / "python"))
    run(["/usr/bin/python3", "-c", PROBE.replace("assert vecformer", "# assert vecformer"),
         SOURCE_DIR / "models" / "demo", scratch / "tree.npy"], env=tree_env, cwd=scratch)
    from_tree = (scratch / "tree.npy").read_bytes()

    failures = []
    if from_pip != from_tree:
        failures.append("pip-installed module: embeddings differ from the build tree's")
    if from_cmake != from_tree:
        failures.append("cmake --install'ed module: embeddings differ from the build tree's")
    for f in failures:
        print("FAIL:", f)
    if not failures:
        shutil.rmtree(work, ignore_errors=True)
        print("check_install: OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
