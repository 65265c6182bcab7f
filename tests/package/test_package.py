#!/usr/bin/python3
"""The installed package, used the way an outside project uses it.

1. `cmake --install BUILD_DIR --prefix TMP/installed`, then moves the tree to TMP/prefix (relocatable)
   and checks what is there: the public headers and nothing else under include/, the CMake package, the
   library and a CLI that runs from the moved prefix.
2. Copies examples/similarity out of the source tree, configures and builds it with only
   -DCMAKE_PREFIX_PATH=TMP/prefix, and checks that its compile commands name neither the source tree's
   include/ nor the build tree.
3. Runs it on a random checkpoint (tools/make_checkpoint.py) with the bert-base-uncased vocabulary: an
   N×N cosine matrix, ones on the diagonal, symmetric, the same from arguments as from stdin; a missing
   model folder is one line on stderr and exit status 1. With a sentence longer than the model's
   positions, the example and the installed `vecformer run --text` truncate alike (to the folder's limit,
   Model::max_sequence_length()) and give the same cosines.
4. Compiles a small program with `g++ app.cpp $(pkg-config --cflags --libs vecformer)` against the moved
   prefix (PKG_CONFIG_PATH=TMP/prefix/<libdir>/pkgconfig) and runs it without LD_LIBRARY_PATH: it loads
   the checkpoint of step 3 and prints its hidden size.

Usage: test_package.py --build-dir BUILD_DIR [--cmake CMAKE] [--config CONFIG] [--generator G] [--cxx CXX]
"""

import argparse
import json

import numpy as np
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2]
VOCAB = SOURCE_DIR / "models" / "vocab" / "bert-base-uncased" / "vocab.txt"

SENTENCES = [
    "The cat sat on the mat.",
    "A dog is playing in the park!",
    "The cat sat on the mat.",
    "Transformers encode text into vectors; unaffable résumés, too.",
]
# The example prints %.6f of a dot product of two L2-normalized float vectors accumulated in double:
# the printed diagonal is within 5e-7 (rounding) + a few float ulps of 1, far inside 1e-5.
TOLERANCE = 1e-5

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, file=sys.stderr)
    return condition


def run(command, **kwargs):
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)


def run_ok(command, **kwargs):
    result = run(command, **kwargs)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"FAIL: exit status {result.returncode}: {' '.join(str(c) for c in command)}")
    return result


def is_within(path, directory):
    try:
        Path(path).resolve().relative_to(Path(directory).resolve())
        return True
    except ValueError:
        return False


def check_install(prefix):
    headers = sorted(p.name for p in (SOURCE_DIR / "include" / "vecformer").glob("*.hpp"))
    installed = sorted(str(p.relative_to(prefix / "include"))
                       for p in (prefix / "include").rglob("*") if p.is_file())
    check(installed == [f"vecformer/{h}" for h in headers],
          f"include/ should hold exactly the public headers {headers}, holds {installed}")

    configs = list(prefix.rglob("vecformerConfig.cmake"))
    check(len(configs) == 1, f"one vecformerConfig.cmake under the prefix, found {configs}")
    if configs:
        check((configs[0].parent / "vecformerConfigVersion.cmake").is_file(),
              "vecformerConfigVersion.cmake next to vecformerConfig.cmake")
        # Relocatable: the installed package files name no absolute path of this machine's trees.
        for f in configs[0].parent.glob("*.cmake"):
            text = f.read_text()
            check(str(prefix.parent) not in text and str(SOURCE_DIR) not in text,
                  f"{f.name} names an absolute path (install prefix or source tree)")
    check(any(prefix.rglob("libvecformer.so*")), "libvecformer installed")

    cli = prefix / "bin" / "vecformer"
    if check(cli.is_file(), "bin/vecformer installed"):
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        result = run([cli, "--help"], env=env)
        check(result.returncode == 0, f"installed CLI runs from the prefix: {result.stderr.strip()}")


def build_example(prefix, work, build_dir, args):
    source = work / "similarity-src"
    shutil.copytree(SOURCE_DIR / "examples" / "similarity", source)
    build = work / "similarity-build"
    configure = [args.cmake, "-S", source, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
                 "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
                 "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"]
    if args.generator:
        configure += ["-G", args.generator]
    if args.cxx:
        configure += [f"-DCMAKE_CXX_COMPILER={args.cxx}"]
    run_ok(configure)
    run_ok([args.cmake, "--build", build])

    cache = (build / "CMakeCache.txt").read_text()
    found = [line.split("=", 1)[1] for line in cache.splitlines() if line.startswith("vecformer_DIR:")]
    check(found and is_within(found[0], prefix), f"vecformer found in the prefix, not {found}")

    commands = json.loads((build / "compile_commands.json").read_text())
    check(len(commands) == 1, f"one compile command, found {len(commands)}")
    for entry in commands:
        command = entry.get("command") or " ".join(entry.get("arguments", []))
        check(str(SOURCE_DIR / "include") not in command,
              f"the example's compile command uses the source tree's include/: {command}")
        check(str(build_dir) not in command,
              f"the example's compile command names the build tree: {command}")
        check(str(prefix / "include") in command,
              f"the example's compile command takes headers from the prefix: {command}")
    executable = build / "similarity"
    check(executable.is_file(), "similarity built")
    return executable


def make_model(work):
    model = work / "model"
    run_ok(["/usr/bin/python3", SOURCE_DIR / "tools" / "make_checkpoint.py", model, "--hidden", "32",
            "--heads", "2", "--layers", "1", "--intermediate", "64", "--vocab", "30522",
            "--max-positions", "64", "--seed", "1"])
    shutil.copy(VOCAB, model / "vocab.txt")
    return model


def parse_matrix(text):
    return [[float(x) for x in line.split()] for line in text.strip().splitlines()]


def check_matrix(matrix, n):
    if not check(len(matrix) == n and all(len(row) == n for row in matrix),
                 f"a {n}×{n} matrix, got {matrix}"):
        return
    for i in range(n):
        check(abs(matrix[i][i] - 1.0) <= TOLERANCE, f"diagonal [{i}][{i}] = {matrix[i][i]}")
        for j in range(n):
            check(abs(matrix[i][j] - matrix[j][i]) <= TOLERANCE,
                  f"symmetry [{i}][{j}] = {matrix[i][j]}, [{j}][{i}] = {matrix[j][i]}")
            check(-1.0 - TOLERANCE <= matrix[i][j] <= 1.0 + TOLERANCE,
                  f"cosine [{i}][{j}] = {matrix[i][j]} outside [-1, 1]")
    # Sentences 0 and 2 are the same text: the same ids, the same vector.
    check(abs(matrix[0][2] - 1.0) <= TOLERANCE, f"identical sentences: [0][2] = {matrix[0][2]}")


def check_example(executable, model):
    from_args = run_ok([executable, model, *SENTENCES])
    print(from_args.stdout, end="")
    matrix = parse_matrix(from_args.stdout)
    check_matrix(matrix, len(SENTENCES))

    from_stdin = run_ok([executable, model], input="\n".join(SENTENCES) + "\n")
    check(from_stdin.stdout == from_args.stdout, "the same matrix from stdin as from arguments")

    missing = run([executable, model.parent / "no-such-model", "a sentence"])
    check(missing.returncode == 1, f"a missing model folder exits 1, got {missing.returncode}")
    check(len(missing.stderr.strip().splitlines()) == 1 and missing.stdout == "",
          f"a missing model folder is one line on stderr: {missing.stderr!r}")


PKG_CONFIG_APP = r"""
#include <iostream>
#include <vecformer/vecformer.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const vecformer::Model model = vecformer::Model::load(argv[1]);
  std::cout << "hidden " << model.config().hidden_size << "\n";
}
"""


def check_pkg_config(prefix, work, model, args):
    """A program built with pkg-config's flags against the prefix runs: its rpath finds the library."""
    pkg_config = shutil.which("pkg-config")
    if not check(pkg_config is not None, "pkg-config is installed (scripts/install-deps.sh --build)"):
        return
    pc_files = list(prefix.rglob("vecformer.pc"))
    if not check(len(pc_files) == 1 and pc_files[0].parent.name == "pkgconfig",
                 f"one <libdir>/pkgconfig/vecformer.pc under the prefix, found {pc_files}"):
        return
    text = pc_files[0].read_text()
    check(str(work) not in text and str(SOURCE_DIR) not in text,
          f"vecformer.pc names an absolute path (install prefix or source tree):\n{text}")
    # Found through its rpath, not a library path (the ThreadSanitizer suite's OpenMP runtime path
    # stays: under TSan, GCC's libgomp gives false reports).
    keep_path = "TSAN_OPTIONS" in os.environ
    env = {k: v for k, v in os.environ.items()
           if k != "PKG_CONFIG_PATH" and (k != "LD_LIBRARY_PATH" or keep_path)}
    env["PKG_CONFIG_PATH"] = str(pc_files[0].parent)
    flags = run_ok([pkg_config, "--cflags", "--libs", "vecformer"], env=env).stdout.split()
    version = run_ok([pkg_config, "--modversion", "vecformer"], env=env).stdout.strip()
    check(re.fullmatch(r"\d+\.\d+\.\d+", version) is not None, f"pkg-config --modversion: {version!r}")
    source = work / "app.cpp"
    source.write_text(PKG_CONFIG_APP)
    executable = work / "pkg-config-app"
    # The sanitizer suites build the library instrumented and say so in CXXFLAGS (CMakePresets.json);
    # a program linked with it needs the same flags, as the CMake-built example gets them.
    sanitize = os.environ.get("CXXFLAGS", "").split()
    run_ok([args.cxx or "g++", "-std=c++20", *sanitize, source, *flags, "-o", executable], env=env)
    result = run([executable, model], env=env)
    check(result.returncode == 0 and result.stdout == "hidden 32\n",
          f"the pkg-config program runs from the moved prefix: exit {result.returncode}, "
          f"stdout {result.stdout!r}, stderr {result.stderr.strip()!r}")


def check_agrees_with_cli(executable, cli, model, work):
    sentences = SENTENCES + [" ".join(["word"] * 100)]  # past the model's 64 positions
    example = np.array(parse_matrix(run_ok([executable, model, *sentences]).stdout))
    out = work / "cli.npy"
    # The installed CLI needs no library path; the ThreadSanitizer suite's one (an OpenMP runtime
    # whose barriers TSan understands) stays.
    keep_path = "TSAN_OPTIONS" in os.environ
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH" or keep_path}
    run_ok([cli, "run", "--model", model, "--text", "--input", "-", "--pooling", "mean", "--normalize",
            "--output", out, "--quiet"], input="\n".join(sentences) + "\n", env=env)
    embeddings = np.load(out).astype(np.float64)
    cosines = embeddings @ embeddings.T
    check(example.shape == cosines.shape and float(np.max(np.abs(example - cosines))) <= TOLERANCE,
          f"examples/similarity and `vecformer run --text` agree on truncated text: {example} vs {cosines}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True, type=Path)
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--config", default="")
    parser.add_argument("--generator", default="")
    parser.add_argument("--cxx", default="")
    args = parser.parse_args()
    build_dir = args.build_dir.resolve()

    if not VOCAB.is_file():
        sys.exit(f"FAIL: {VOCAB} is missing")
    with tempfile.TemporaryDirectory(prefix="vecformer-package-") as tmp:
        work = Path(tmp).resolve()
        # Installed in one place and used from another: the package must be relocatable.
        installed = work / "installed"
        install = [args.cmake, "--install", build_dir, "--prefix", installed]
        if args.config:
            install += ["--config", args.config]
        run_ok(install)
        prefix = work / "prefix"
        installed.rename(prefix)
        check_install(prefix)
        executable = build_example(prefix, work, build_dir, args)
        model = make_model(work)
        if executable.is_file():
            check_example(executable, model)
            check_agrees_with_cli(executable, prefix / "bin" / "vecformer", model, work)
        check_pkg_config(prefix, work, model, args)

    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("package: OK")


if __name__ == "__main__":
    main()
