#!/usr/bin/python3
"""vecformer against PyTorch and ONNX Runtime on the same weights and shapes; writes docs/PERFORMANCE.md.

Run through bench/peers/run_peers.sh, which installs what this needs and passes the paths below. Steps:

1. Model folders (tools/make_checkpoint.py, BERT-base sizes, seed 1): one layer and twelve layers, cached.
2. The same weights as a float32 PyTorch module (bench/peers/torch_bert.py) and as ONNX exported from it.
3. Correctness: `vecformer run` on a few sequences against the PyTorch module, ONNX Runtime and the
   float64 reference of tools/make_checkpoint.py (max abs error <= 1e-3, else stop); then
   `vecformer run --dtype bf16 / int8` on the same sequences against vecformer's fp32 output (max abs
   error, mean-pooled cosine; reported against the issue's limits, never a reason to stop).
4. Timing: R rounds; in each round every case runs on every engine that has it (bf16 and int8 cases:
   vecformer in that dtype and ONNX Runtime in fp32 beside it, the reference of their targets), one
   after the other, the engine order rotating between rounds. Each measurement is
   a median over N iterations after a warm-up; a case's figure is the median over rounds, and each ratio
   is the median of the per-round ratios (the engines of one round ran seconds apart, so the ratio
   cancels most of the machine's drift).
5. Extras in the same run: an fp32 matmul measured through PyTorch (OpenBLAS and oneDNN), DNNL_VERBOSE
   matmul times inside one vecformer forward, ONNX Runtime's own profile of the same forward; once per
   run: the peak RSS of `vecformer run` on the 12-layer model, the allocation-counting test
   (build/tests/vecformer_allocation_test -s) and this CPU's fp32 FMA peak (BM_FmaPeak in
   build/bench/vecformer_bench, bench/bench_peak.cpp). A missing program or a failed extra is reported
   as "not measured".
6. docs/PERFORMANCE.md, SVG plots and the raw results as JSON.
"""
from __future__ import annotations

import argparse
import datetime
import glob
import hashlib
import json
import math
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import make_checkpoint  # noqa: E402

ENGINES = ("vecformer", "onnxruntime", "pytorch")
ENGINE_LABEL = {"vecformer": "vecformer", "onnxruntime": "ONNX Runtime", "pytorch": "PyTorch"}
ENGINE_COLOR = {"vecformer": "#d62728", "onnxruntime": "#1f77b4", "pytorch": "#ff7f0e"}
TOLERANCE = 1e-3

# BERT-base sizes; --seed 1 as the issue asks.
MODEL_ARGS = ["--hidden", "768", "--heads", "12", "--intermediate", "3072", "--vocab", "30522",
              "--max-positions", "512", "--seed", "1"]
MODELS = {"l1": 1, "l12": 12}


@dataclass
class Case:
    id: str
    title: str
    model: str
    batch: int
    seq: int
    threads: int
    padding: float
    iters: int
    dtype: str = "f32"  # vecformer's --dtype; ONNX Runtime and PyTorch always run fp32


def case_engines(case: Case) -> Tuple[str, ...]:
    """The engines that run a case: all three in fp32. bf16 and int8 exist in vecformer only; ONNX
    Runtime runs such a case in fp32, right beside vecformer, as the reference its target divides by
    (ratios pair measurements seconds apart: a reference taken earlier in the round would add the
    machine's drift to the ratio)."""
    return ENGINES if case.dtype == "f32" else ("vecformer", "onnxruntime")


CASES = [
    Case("layer_1x128", "1 layer, 1×128", "l1", 1, 128, 2, 0.0, 40),
    Case("layer_8x128", "1 layer, 8×128", "l1", 8, 128, 2, 0.0, 8),
    Case("bert12_1x128", "12 layers, 1×128", "l12", 1, 128, 2, 0.0, 8),
    Case("layer_8x128_pad", "1 layer, 8×128, half padding", "l1", 8, 128, 2, 0.5, 10),
    Case("layer_1x128_t1", "1 layer, 1×128, 1 thread", "l1", 1, 128, 1, 0.0, 20),
    Case("layer_1x32", "1 layer, 1×32", "l1", 1, 32, 2, 0.0, 100),
    Case("layer_1x64", "1 layer, 1×64", "l1", 1, 64, 2, 0.0, 60),
    Case("layer_1x256", "1 layer, 1×256", "l1", 1, 256, 2, 0.0, 20),
    Case("layer_1x512", "1 layer, 1×512", "l1", 1, 512, 2, 0.0, 10),
    Case("layer_1x128_bf16", "1 layer, 1×128, bf16", "l1", 1, 128, 2, 0.0, 40, "bf16"),
    Case("layer_1x128_int8", "1 layer, 1×128, int8", "l1", 1, 128, 2, 0.0, 40, "int8"),
]
SEQ_CURVE = [("layer_1x32", 32), ("layer_1x64", 64), ("layer_1x128", 128), ("layer_1x256", 256),
             ("layer_1x512", 512)]
THREAD_CURVE = [("layer_1x128_t1", 1), ("layer_1x128", 2)]
# The full run before the optimization work (vecformer a730a2e, 2026-11-28T00:04), for "Before and after".
DEFAULT_BASELINE = os.path.join(HERE, "baseline", "results-2026-11-28T00-04.json")


# Section titles the targets table and the reader's guide link to (GitHub's heading anchors).
TIMES_SECTION = "Median time per forward"
THREADS_SECTION = "Thread scaling (1 layer, 1×128)"
PADDING_SECTION = "Padding (1 layer, 8×128, 2 threads)"
CORRECTNESS_SECTION = "Correctness check (same run)"
MEMORY_SECTION = "Memory, load time and allocations"


def anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation and symbols dropped, spaces as hyphens."""
    return "#" + re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


@dataclass
class Target:
    """A row of the Performance issue's targets table. kind says where the number comes from (see
    target_cell in write_document); case names the case (timing kinds) or the dtype (accuracy kinds)."""
    id: str
    text: str
    kind: str
    limit: float
    op: str = "≤"
    case: Optional[str] = None
    fmt: str = "{:.2f}"
    layers: Optional[int] = None  # accuracy kinds: the model the limit applies to (None: the worst of all)
    section: str = TIMES_SECTION  # the section that measures it, linked from the targets table


# In the order of the issue's table.
TARGETS = [
    Target("layer_1x128", "fp32 one layer 1×128 (T=2): vecformer / ORT", "ratio_ort", 0.85,
           case="layer_1x128"),
    Target("layer_8x128", "fp32 one layer 8×128 (T=2): vecformer / ORT", "ratio_ort", 0.85,
           case="layer_8x128"),
    Target("bert12_1x128", "fp32 12 layers 1×128 (T=2): vecformer / ORT", "ratio_ort", 0.85,
           case="bert12_1x128"),
    Target("bf16", "bf16 one layer 1×128 (T=2): vecformer bf16 / ORT fp32", "ratio_ort_f32", 0.45,
           case="layer_1x128_bf16"),
    # The issue's bf16 and int8 rows are per layer: the limits apply to the 1-layer model; the
    # 12-layer figures are shown beside them (errors grow with depth).
    Target("bf16_max_abs", "bf16 one layer: max abs error vs vecformer fp32 (real tokens)",
           "max_abs", 5e-2, case="bf16", fmt="{:.2e}", layers=1,
           section=CORRECTNESS_SECTION),
    Target("bf16_cosine", "bf16 one layer: pooled cosine vs vecformer fp32 (mean pooling; worst sequence)",
           "cosine", 0.999, op="≥", case="bf16", fmt="{:.5f}", layers=1,
           section=CORRECTNESS_SECTION),
    Target("int8", "int8 one layer 1×128 (T=2): vecformer int8 / ORT fp32", "ratio_ort_f32", 0.35,
           case="layer_1x128_int8"),
    Target("int8_cosine", "int8 one layer: pooled cosine vs vecformer fp32 (mean pooling; worst sequence)",
           "cosine", 0.99, op="≥", case="int8", fmt="{:.4f}", layers=1,
           section=CORRECTNESS_SECTION),
    Target("padding", "half-padded 8×128 / full 8×128 (vecformer time)", "padding", 0.60,
           section=PADDING_SECTION),
    Target("threads", "1 → 2 threads, tokens/s gain (vecformer, 1 layer 1×128)", "threads", 1.8, op="≥",
           section=THREADS_SECTION),
    Target("peak_rss", "peak RSS of `vecformer run`, 12 layers fp32 / model.safetensors size",
           "peak_rss", 1.25, section=MEMORY_SECTION),
    Target("load", "load the 12-layer model, ready to encode (Model::load, ms)", "load_ms", 1000.0,
           fmt="{:.0f}", section=MEMORY_SECTION),
    Target("allocations", "allocations outside oneDNN per steady-state forward (allocation test)",
           "allocations", 0.0, op="=", fmt="{:.0f}", section=MEMORY_SECTION),
]


# ---------------------------------------------------------------------------------------------------
# The bench command's sequence lengths (src/cli/bench_command.cpp), reproduced so PyTorch and ONNX Runtime
# get the same lengths in their padded batch: std::mt19937(1234), then std::uniform_real_distribution
# <double>(0.5, 1.5) per sequence (libstdc++ generate_canonical: two 32-bit draws).


class Mt19937:
    def __init__(self, seed: int):
        self.mt = [0] * 624
        self.mt[0] = seed & 0xFFFFFFFF
        for i in range(1, 624):
            self.mt[i] = (1812433253 * (self.mt[i - 1] ^ (self.mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
        self.index = 624

    def __call__(self) -> int:
        if self.index >= 624:
            for i in range(624):
                y = (self.mt[i] & 0x80000000) | (self.mt[(i + 1) % 624] & 0x7FFFFFFF)
                self.mt[i] = self.mt[(i + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y


def _uniform(rng: Mt19937, a: float, b: float) -> float:
    total = float(rng()) + float(rng()) * 4294967296.0
    r = total / 18446744073709551616.0
    if r >= 1.0:
        r = math.nextafter(1.0, 0.0)
    return r * (b - a) + a


def _llround(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def bench_lengths(batch: int, seq: int, padding_fraction: float) -> List[int]:
    total = _llround((1.0 - padding_fraction) * batch * seq)
    lengths = [seq] * batch
    if padding_fraction == 0.0:
        return lengths
    rng = Mt19937(1234)
    weights = [_uniform(rng, 0.5, 1.5) for _ in range(batch)]
    s = sum(weights)
    assigned = 0
    for i in range(batch):
        lengths[i] = min(max(_llround(total * weights[i] / s), 1), seq)
        assigned += lengths[i]
    i = 0
    while assigned != total and i < 4 * batch:
        j = i % batch
        if assigned < total and lengths[j] < seq:
            lengths[j] += 1
            assigned += 1
        if assigned > total and lengths[j] > 1:
            lengths[j] -= 1
            assigned -= 1
        i += 1
    return lengths


def padded_inputs(case: Case, vocab: int) -> Tuple[List[List[int]], List[List[int]], List[int]]:
    lengths = bench_lengths(case.batch, case.seq, case.padding)
    rng = np.random.default_rng(1234 + case.batch * 1000 + case.seq)
    ids = rng.integers(0, vocab, size=(case.batch, case.seq))
    mask = np.zeros((case.batch, case.seq), dtype=np.int64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    ids = np.where(mask == 1, ids, 0)  # pad_token_id 0 in the padding slots
    return ids.tolist(), mask.tolist(), lengths


# ---------------------------------------------------------------------------------------------------
# processes


def log(message: str) -> None:
    print(f"[peers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class JsonWorker:
    """A child process answering one JSON object per request line."""

    def __init__(self, name: str, argv: List[str], env: Dict[str, str]):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env, cwd=ROOT)

    def ask(self, request: Dict[str, Any]) -> Dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} worker exited (status {self.proc.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name} worker: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run(argv: List[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, text=True, capture_output=True, cwd=ROOT, **kwargs)


CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def _machine_busy_s() -> float:
    """CPU seconds every process on the machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def _process_cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (every thread)
    except (OSError, IndexError, ValueError):
        return 0.0


class ForeignLoad:
    """The share of the machine's CPU time spent by processes other than this run's, over an interval:
    (busy CPU seconds of the machine - ours) / (wall seconds x CPUs). Ours: this process, its finished
    children (the vecformer runs) and the long-lived workers."""

    def __init__(self, worker_pids: Sequence[int]):
        self.pids = list(worker_pids)

    def _ours(self) -> float:
        import resource
        me = os.times()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (me.user + me.system + children.ru_utime + children.ru_stime
                + sum(_process_cpu_s(p) for p in self.pids))

    def start(self) -> Tuple[float, float, float]:
        return time.monotonic(), _machine_busy_s(), self._ours()

    def share(self, start: Tuple[float, float, float]) -> float:
        t0, busy0, ours0 = start
        wall = time.monotonic() - t0
        foreign = (_machine_busy_s() - busy0) - (self._ours() - ours0)
        return max(0.0, foreign) / (wall * NCPU) if wall > 0 else 0.0

    def wait_quiet(self, limit: float, max_wait_s: float) -> Tuple[float, float]:
        """Samples 2 s windows until the foreign share is below limit or max_wait_s passes."""
        waited = 0.0
        while True:
            start = self.start()
            time.sleep(2.0)
            share = self.share(start)
            waited += 2.0
            if share <= limit or waited >= max_wait_s:
                return share, waited


def snapshot_binary(binary: str, work: str) -> Tuple[str, Dict[str, str]]:
    """A private copy of the vecformer binary and the libvecformer it loads, so a rebuild of build/
    during the run (others work in this tree) cannot change what is measured halfway. Returns the copy
    and the environment that makes it load the copied library (the binary's RUNPATH yields to
    LD_LIBRARY_PATH)."""
    d = os.path.join(work, "bin")
    os.makedirs(d, exist_ok=True)
    copy = os.path.join(d, os.path.basename(binary))
    shutil.copy2(binary, copy)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in ldd.splitlines():
        m = re.match(r"\s*(libvecformer\S*)\s+=>\s+(\S+)", line)
        if m:
            shutil.copy2(os.path.realpath(m.group(2)), os.path.join(d, m.group(1)))
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = d + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return copy, env


def vecformer_bench(binary: str, model_dir: str, case: Case, iters: int,
                    env: Optional[Dict[str, str]] = None) -> Tuple[Dict[str, Any], str]:
    argv = [binary, "bench", "--model", model_dir, "--batch", str(case.batch), "--seq", str(case.seq),
            "--threads", str(case.threads), "--json", "--iters", str(iters)]
    if case.padding:
        argv += ["--padding-fraction", str(case.padding)]
    if case.dtype != "f32":
        argv += ["--dtype", case.dtype]
    out = run(argv, env=env)
    text = out.stdout + out.stderr
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line), text
    raise RuntimeError(f"no JSON from {' '.join(argv)}:\n{text}")


# ---------------------------------------------------------------------------------------------------
# setup


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ensure_models(cache: str) -> Dict[str, str]:
    """Model folders, regenerated when the generator or its arguments change."""
    generator = os.path.join(ROOT, "tools", "make_checkpoint.py")
    stamp_base = {"generator_sha256": sha256_file(generator)}
    dirs = {}
    for key, layers in MODELS.items():
        d = os.path.join(cache, "models", f"bert-base-{layers}l")
        argv = ["/usr/bin/python3", "tools/make_checkpoint.py", d, "--layers", str(layers)] + MODEL_ARGS
        stamp = dict(stamp_base, argv=argv[2:])
        stamp_path = os.path.join(d, "peers_stamp.json")
        current = None
        if os.path.exists(stamp_path):
            with open(stamp_path) as f:
                current = json.load(f)
        if current != stamp or not os.path.exists(os.path.join(d, "model.safetensors")):
            log(f"generating {d}")
            run(argv)
            with open(stamp_path, "w") as f:
                json.dump(stamp, f)
        dirs[key] = d
    return dirs


def ensure_onnx(model_dirs: Dict[str, str], env: Dict[str, str]) -> Dict[str, str]:
    exporter = os.path.join(HERE, "torch_bert.py")
    paths = {}
    for key, d in model_dirs.items():
        path = os.path.join(d, "model.onnx")
        stamp = {"exporter_sha256": sha256_file(exporter),
                 "weights_mtime": os.path.getmtime(os.path.join(d, "model.safetensors"))}
        stamp_path = os.path.join(d, "onnx_stamp.json")
        current = None
        if os.path.exists(stamp_path):
            with open(stamp_path) as f:
                current = json.load(f)
        if current != stamp or not os.path.exists(path):
            log(f"exporting {path}")
            run(["/usr/bin/python3", exporter, "export", d, path], env=env)
            with open(stamp_path, "w") as f:
                json.dump(stamp, f)
        paths[key] = path
    return paths


# ---------------------------------------------------------------------------------------------------
# machine and versions


def lscpu() -> Dict[str, str]:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    info = {}
    for line in out.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    return info


NOTABLE_FLAGS = ["avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni",
                 "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8"]


def machine_info() -> Dict[str, Any]:
    cpu = lscpu()
    flags = set(cpu.get("Flags", "").split())
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    debian = ""
    if os.path.exists("/etc/debian_version"):
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    return {
        "model_name": cpu.get("Model name", "?"),
        "cpus": cpu.get("CPU(s)", "?"),
        "threads_per_core": cpu.get("Thread(s) per core", "?"),
        "cores_per_socket": cpu.get("Core(s) per socket", "?"),
        "sockets": cpu.get("Socket(s)", "?"),
        "hypervisor": cpu.get("Hypervisor vendor", ""),
        "l1d": cpu.get("L1d cache", "?"), "l2": cpu.get("L2 cache", "?"), "l3": cpu.get("L3 cache", "?"),
        "flags_present": [f for f in NOTABLE_FLAGS if f in flags],
        "flags_absent": [f for f in NOTABLE_FLAGS if f not in flags],
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "debian": debian,
    }


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def git_state() -> Dict[str, Any]:
    def git(*args: str) -> str:
        r = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT)
        return r.stdout.rstrip("\n") if r.returncode == 0 else ""
    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if len(line) > 3]
    changed = [c for c in changed if not c.startswith(("bench/peers/", "docs/PERFORMANCE.md"))]
    return {"commit": git("rev-parse", "--short=12", "HEAD"), "changed": changed}


def versions(binary: str, snapshot: str, vf_env: Dict[str, str], torch_info: Dict[str, Any],
             ort_info: Dict[str, Any], openblas_version: str) -> Dict[str, str]:
    v: Dict[str, str] = {}
    r = subprocess.run([snapshot, "--version"], capture_output=True, text=True, env=vf_env)
    v["vecformer"] = (r.stdout or r.stderr).strip()
    cache = os.path.join(os.path.dirname(binary), "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", f.read(), re.M)
        if m:
            built = datetime.datetime.fromtimestamp(os.path.getmtime(snapshot)).astimezone()
            v["vecformer"] += (f" ({m.group(1) or 'no'} build, {os.path.relpath(binary, ROOT)}, "
                               f"built {built.isoformat(timespec='minutes')})")
    dpkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libdnnl-dev"], capture_output=True,
                          text=True)
    v["oneDNN"] = f"{dpkg.stdout.strip()} (Debian libdnnl-dev)" if dpkg.returncode == 0 else "?"
    v["compiler"] = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout \
        .splitlines()[0] if shutil.which("g++") else "?"
    v["PyTorch"] = f"{torch_info['torch']} (Debian python3-torch), numpy {torch_info['numpy']}"
    v["PyTorch BLAS"] = (f"OpenBLAS {openblas_version} (Debian libopenblas0-openmp, "
                         f"{torch_info['blas']})" if "openblas" in torch_info["blas"]
                         else torch_info["blas"] or "?")
    v["ONNX Runtime"] = f"{ort_info['versions'].get('node', '?')} (npm onnxruntime-node, CPU EP)"
    v["Node.js"] = ort_info["node"]
    v["Python"] = platform.python_version()
    return v


# ---------------------------------------------------------------------------------------------------
# correctness


def correctness(binary: str, vf_env: Dict[str, str], model_dirs: Dict[str, str], onnx: Dict[str, str],
                torch_w: JsonWorker,
                ort_w: JsonWorker, work: str) -> List[Dict[str, Any]]:
    rows = []
    lengths = [7, 32, 1, 19]
    for key, d in model_dirs.items():
        with open(os.path.join(d, "config.json")) as f:
            config = json.load(f)
        rng = np.random.default_rng(7)
        seqs = [rng.integers(0, config["vocab_size"], size=n).tolist() for n in lengths]
        token_file = os.path.join(work, f"check_{key}.txt")
        with open(token_file, "w") as f:
            for s in seqs:
                f.write(" ".join(map(str, s)) + "\n")
        vf_path = os.path.join(work, f"check_{key}_vecformer.npy")
        run([binary, "run", "--model", d, "--input", token_file, "--output", vf_path, "--threads", "2",
             "--quiet"], env=vf_env)
        vf = np.load(vf_path)
        dtypes = dtype_accuracy(binary, vf_env, d, token_file, vf, lengths,
                                os.path.join(work, f"check_{key}"))
        L = max(lengths)
        ids = [s + [0] * (L - len(s)) for s in seqs]
        mask = [[1] * len(s) + [0] * (L - len(s)) for s in seqs]
        pt_path = os.path.join(work, f"check_{key}_torch.npy")
        torch_w.ask({"op": "forward", "model": d, "input_ids": ids, "attention_mask": mask, "out": pt_path})
        pt = np.load(pt_path)
        ort_path = os.path.join(work, f"check_{key}_ort.bin")
        dims = ort_w.ask({"op": "forward", "onnx": onnx[key], "threads": 2, "input_ids": ids,
                          "attention_mask": mask, "out": ort_path})["dims"]
        ort = np.fromfile(ort_path, dtype="<f4").reshape(dims)
        raw, _, _ = make_checkpoint.read_safetensors(os.path.join(d, "model.safetensors"))
        ref = make_checkpoint.reference_forward(raw, config, seqs)
        del raw

        def err(a: np.ndarray, b) -> float:
            return max(float(np.abs(np.asarray(a[i, :n], np.float64) - np.asarray(b[i][:n])).max())
                       for i, n in enumerate(lengths))
        row = {"model": key, "layers": MODELS[key], "lengths": lengths,
               "vecformer_vs_pytorch": err(vf, pt), "vecformer_vs_ort": err(vf, ort),
               "ort_vs_pytorch": err(ort, pt), "vecformer_vs_f64": err(vf, ref),
               "pytorch_vs_f64": err(pt, ref), "ort_vs_f64": err(ort, ref)}
        row["ok"] = all(v <= TOLERANCE for k, v in row.items() if k.endswith(("_pytorch", "_ort", "_f64")))
        row["dtypes"] = dtypes  # not part of "ok": reported against the issue's own limits
        rows.append(row)
        log(f"check {key}: " + ", ".join(f"{k} {v:.2e}" for k, v in row.items() if isinstance(v, float)))
        for dtype, acc in dtypes.items():
            log(f"check {key} {dtype} vs fp32: " + (acc["error"] if "error" in acc else
                f"max abs {acc['max_abs']:.2e}, pooled cosine {acc['pooled_cosine']:.6f}"))
    return rows


ACCURACY_DTYPES = ("bf16", "int8")


def error_text(e: BaseException) -> str:
    """One line about a failed step: a command's last stderr line, else the exception."""
    if isinstance(e, subprocess.CalledProcessError):
        lines = (e.stderr or e.stdout or "").strip().splitlines()
        return f"exit status {e.returncode}" + (f": {lines[-1]}" if lines else "")
    if isinstance(e, subprocess.TimeoutExpired):
        return f"timed out after {e.timeout:.0f} s"
    return f"{type(e).__name__}: {e}"


def compare_to_f32(f32: np.ndarray, other: np.ndarray, lengths: Sequence[int]) -> Dict[str, float]:
    """Max abs difference over real tokens, and the cosine of the mean-pooled vectors (mean over real
    tokens), the worst sequence's."""
    max_abs, cosine = 0.0, 1.0
    for i, n in enumerate(lengths):
        a = np.asarray(f32[i, :n], np.float64)
        b = np.asarray(other[i, :n], np.float64)
        max_abs = max(max_abs, float(np.abs(a - b).max()))
        pa, pb = a.mean(axis=0), b.mean(axis=0)
        cosine = min(cosine, float(pa @ pb / (np.linalg.norm(pa) * np.linalg.norm(pb))))
    return {"max_abs": max_abs, "pooled_cosine": cosine}


def dtype_accuracy(binary: str, vf_env: Dict[str, str], model_dir: str, token_file: str,
                   f32: np.ndarray, lengths: Sequence[int], prefix: str) -> Dict[str, Dict[str, Any]]:
    """`vecformer run --dtype D` on the fp32 check's inputs, against the fp32 output; a dtype that fails
    gets {"error": ...}."""
    out: Dict[str, Dict[str, Any]] = {}
    for dtype in ACCURACY_DTYPES:
        path = f"{prefix}_vecformer_{dtype}.npy"
        try:
            run([binary, "run", "--model", model_dir, "--input", token_file, "--output", path,
                 "--threads", "2", "--dtype", dtype, "--quiet"], env=vf_env)
            low = np.load(path)
            if low.shape != f32.shape:
                raise ValueError(f"output shape {low.shape}, fp32's {f32.shape}")
            out[dtype] = compare_to_f32(f32, low, lengths)
        except (subprocess.CalledProcessError, OSError, ValueError) as e:
            out[dtype] = {"error": error_text(e)}
    return out


# ---------------------------------------------------------------------------------------------------
# once per run: peak RSS, allocations per forward, the CPU's FMA peak

# A fresh interpreter whose only child is the measured command: RUSAGE_CHILDREN's ru_maxrss (KiB on
# Linux) is then that command's peak RSS.
RSS_WRAPPER = """import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
sys.stderr.write(r.stderr)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss(binary: str, vf_env: Dict[str, str], model_dir: str, vocab: int, work: str) -> Dict[str, Any]:
    """Peak RSS of one `vecformer run` (fp32, 2 threads, one sequence of 16 tokens, a fresh process)
    against the size of the model's safetensors file."""
    model_file = os.path.join(model_dir, "model.safetensors")
    tokens = os.path.join(work, "rss_input.txt")
    with open(tokens, "w") as f:
        f.write(" ".join(map(str, np.random.default_rng(11).integers(0, vocab, size=16).tolist())) + "\n")
    argv = [binary, "run", "--model", model_dir, "--input", tokens, "--output",
            os.path.join(work, "rss_output.npy"), "--threads", "2", "--quiet"]
    try:
        out = run(["/usr/bin/python3", "-c", RSS_WRAPPER, *argv], env=vf_env, timeout=600)
        status, kib = map(int, out.stdout.split())
        if status != 0:
            last = out.stderr.strip().splitlines()[-1:]
            return {"error": f"vecformer run exited with status {status}" + (f": {last[0]}" if last else "")}
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        return {"error": error_text(e)}
    size = os.path.getsize(model_file)
    return {"peak_rss_bytes": kib * 1024, "model_bytes": size, "ratio": kib * 1024 / size,
            "tokens": 16, "threads": 2}


def allocation_counts(test: str) -> Dict[str, Any]:
    """tests/allocation's program run with -s: per (dtype, threads) section, the allocations made
    outside oneDNN while it counted (its CHECK counted.ours == 0) and oneDNN's own per execution."""
    if not os.path.exists(test):
        return {"error": f"{os.path.relpath(test, ROOT)} is not built"}
    try:
        r = subprocess.run([test, "-s"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    except (subprocess.TimeoutExpired, OSError) as e:
        return {"error": error_text(e)}
    dtypes = ("f32", "bf16", "int8")  # ComputeType's order (include/vecformer/model.hpp)
    sections = []
    pattern = re.compile(r"CHECK\( counted\.ours == 0 \)\s*with expansion:\s*(\d+) == 0\s*"
                         r"with messages?:(.*?)(?:\n\s*\n|\Z)", re.S)
    for m in pattern.finditer(r.stdout):
        messages = m.group(2)
        dtype = re.search(r"static_cast<int>\(dtype\) := (\d+)", messages)
        threads = re.search(r"threads := (\d+)", messages)
        onednn = re.search(r"oneDNN allocated (\d+) times in (\d+) executions", messages)
        sections.append({
            "dtype": dtypes[int(dtype.group(1))] if dtype and int(dtype.group(1)) < 3 else "?",
            "threads": int(threads.group(1)) if threads else None,
            "ours": int(m.group(1)),
            "onednn": int(onednn.group(1)) if onednn else None,
            "executions": int(onednn.group(2)) if onednn else None,
        })
    if not sections:
        return {"error": f"no allocation counts in its output (exit status {r.returncode})"}
    return {"sections": sections, "exit_status": r.returncode,
            "test": os.path.relpath(test, ROOT)}


def fma_peak(bench: str) -> Dict[str, Any]:
    """bench/bench_peak.cpp's BM_FmaPeak: fp32 AVX-512 FMA GFLOP/s summed over threads, per thread
    count (the best of three repetitions: a peak)."""
    if not os.path.exists(bench):
        return {"error": f"{os.path.relpath(bench, ROOT)} is not built"}
    argv = [bench, "--benchmark_filter=FmaPeak", "--benchmark_format=json", "--benchmark_repetitions=3"]
    try:
        r = run(argv, timeout=600)
        data = json.loads(r.stdout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        return {"error": error_text(e)}
    gflops: Dict[str, float] = {}
    errors = []
    for b in data.get("benchmarks", []):
        m = re.match(r"BM_FmaPeak/(\d+)", b.get("name", ""))
        if not m or b.get("run_type", "iteration") != "iteration":
            continue
        if b.get("error_occurred"):
            errors.append(b.get("error_message", "error"))
        elif "GFLOP" in b:
            gflops[m.group(1)] = max(gflops.get(m.group(1), 0.0), float(b["GFLOP"]))
    if not gflops:
        return {"error": errors[0] if errors else "BM_FmaPeak not in vecformer_bench"}
    return {"gflops": gflops, "repetitions": 3}


# ---------------------------------------------------------------------------------------------------
# DNNL_VERBOSE: matmul time inside one forward


def parse_dnnl_verbose(text: str, timed_iters: int) -> Dict[str, Any]:
    execs = []
    for line in text.splitlines():
        if not line.startswith(("onednn_verbose,", "dnnl_verbose,")):
            continue
        parts = line.split(",")
        if len(parts) < 6 or "exec" not in parts[1:3]:
            continue
        kind = next((p for p in parts[2:6] if p in ("matmul", "inner_product", "reorder", "eltwise",
                                                        "softmax", "layer_normalization", "binary",
                                                        "sum", "convolution")), "other")
        try:
            ms = float(parts[-1])
        except ValueError:
            continue
        execs.append((kind, parts[-2], ms))
    keys = [(k, d) for k, d, _ in execs]
    period = 0
    for p in range(1, len(keys) // 3 + 1):
        if keys[-p:] == keys[-2 * p:-p] == keys[-3 * p:-2 * p]:
            period = p
            break
    if not period:
        return {"error": f"no repeating forward in {len(execs)} oneDNN exec lines"}
    chunks = []
    end = len(execs)
    while end - period >= 0 and keys[end - period:end] == keys[-period:]:
        chunks.append(execs[end - period:end])
        end -= period
    chunks.reverse()
    timed = chunks[-timed_iters:] if len(chunks) >= timed_iters else chunks
    per_forward = [sum(ms for _, _, ms in c) for c in timed]
    matmul = [sum(ms for k, _, ms in c if k in ("matmul", "inner_product")) for c in timed]
    shapes: Dict[str, List[float]] = {}
    order: List[str] = []
    for c in timed:
        sums: Dict[str, float] = {}
        for k, d, ms in c:
            if k in ("matmul", "inner_product"):
                sums[d] = sums.get(d, 0.0) + ms
        for d, ms in sums.items():
            if d not in shapes:
                order.append(d)
            shapes.setdefault(d, []).append(ms)
    counts: Dict[str, int] = {}
    for k, d, _ in chunks[-1]:
        if k in ("matmul", "inner_product"):
            counts[d] = counts.get(d, 0) + 1
    return {
        "forwards_seen": len(chunks), "timed_forwards": len(timed), "primitives_per_forward": period,
        "onednn_ms": statistics.median(per_forward), "matmul_ms": statistics.median(matmul),
        "kinds": sorted({k for k, _, _ in chunks[-1]}),
        "shapes": [{"desc": d, "calls": counts.get(d, 0), "ms": statistics.median(shapes[d])}
                   for d in order],
    }


def matmul_flop(desc: str) -> float:
    """2·M·K·N from a oneDNN matmul problem descriptor such as 128x768:768x2304:128x2304."""
    dims = [list(map(int, re.findall(r"\d+", part))) for part in desc.split(":")[:2]]
    if len(dims) == 2 and len(dims[0]) >= 2 and len(dims[1]) >= 2:
        src, wei = dims
        batch = math.prod(src[:-2]) if len(src) > 2 else 1
        return 2.0 * batch * src[-2] * src[-1] * wei[-1]
    return float("nan")


def layer_flop(tokens_per_seq: Sequence[int], hidden: int = 768, inter: int = 3072) -> float:
    """Multiply-adds ×2 of one BERT layer: the four projections, the FFN and the two attention products."""
    t = sum(tokens_per_seq)
    dense = 2.0 * t * (4 * hidden * hidden + 2 * hidden * inter)
    attention = sum(2.0 * 2 * n * n * hidden for n in tokens_per_seq)
    return dense + attention


# ---------------------------------------------------------------------------------------------------
# SVG


def _nice_ticks(vmax: float, count: int = 5) -> List[float]:
    if vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    ticks = [0.0]
    while ticks[-1] < vmax:
        ticks.append(ticks[-1] + step)
    return ticks


def _fmt_tick(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def svg_chart(title: str, xlabel: str, ylabel: str, xs: List[float], series: List[Dict[str, Any]],
              log2x: bool = False, note: str = "") -> str:
    """A line chart: series = [{"name", "color", "values": [y per x], "dash": bool}]."""
    W, H = 720, 440
    left, right, top, bottom = 80, 190, 50, 70
    pw, ph = W - left - right, H - top - bottom
    ymax = max((v for s in series for v in s["values"] if v is not None), default=1.0) * 1.08
    yticks = _nice_ticks(ymax)
    ytop = yticks[-1]

    def fx(x: float) -> float:
        if log2x:
            lo, hi = math.log2(xs[0]), math.log2(xs[-1])
            return left + (math.log2(x) - lo) / (hi - lo) * pw if hi > lo else left + pw / 2
        lo, hi = xs[0], xs[-1]
        pad = (hi - lo) * 0.1 or 0.5
        return left + (x - lo + pad) / (hi - lo + 2 * pad) * pw

    def fy(y: float) -> float:
        return top + ph - y / ytop * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="Helvetica, Arial, sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{left + pw / 2}" y="24" text-anchor="middle" font-size="15" '
           f'font-weight="bold">{_xml(title)}</text>']
    for t in yticks:
        y = fy(t)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_fmt_tick(t)}</text>')
    for x in xs:
        px = fx(x)
        out.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{px:.1f}" y="{top + ph + 18}" text-anchor="middle">{x:g}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{H - 25}" text-anchor="middle">{_xml(xlabel)}</text>')
    out.append(f'<text transform="translate(22,{top + ph / 2}) rotate(-90)" text-anchor="middle">'
               f'{_xml(ylabel)}</text>')
    if note:
        out.append(f'<text x="{left}" y="{H - 6}" font-size="10" fill="#555">{_xml(note)}</text>')
    for i, s in enumerate(series):
        pts = [(fx(x), fy(y), x, y) for x, y in zip(xs, s["values"]) if y is not None]
        dash = ' stroke-dasharray="6,4"' if s.get("dash") else ""
        out.append(f'<polyline fill="none" stroke="{s["color"]}" stroke-width="2"{dash} points="'
                   + " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in pts) + '"/>')
        if not s.get("dash"):
            for px, py, x, y in pts:
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{s["color"]}">'
                           f'<title>{_xml(s["name"])}: {x:g} → {y:,.0f}</title></circle>')
        ly = top + 10 + i * 20
        out.append(f'<line x1="{left + pw + 15}" y1="{ly}" x2="{left + pw + 40}" y2="{ly}" '
                   f'stroke="{s["color"]}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{left + pw + 46}" y="{ly + 4}">{_xml(s["name"])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------------------------------
# statistics over rounds


def med(values: List[float]) -> float:
    return statistics.median(values) if values else float("nan")


def per_round_ratio(results: Dict[str, Dict[str, List[Dict[str, Any]]]], num: Tuple[str, str],
                    den: Tuple[str, str]) -> List[float]:
    """ms(num case, num engine) / ms(den case, den engine), round by round (rounds where either is
    missing are left out)."""
    a = results.get(num[0], {}).get(num[1], [])
    b = {y.get("round", i): y for i, y in enumerate(results.get(den[0], {}).get(den[1], []))}
    return [x["median_ms"] / b[x.get("round", i)]["median_ms"] for i, x in enumerate(a)
            if x.get("round", i) in b]


def summary(results, case_id: str, engine: str, key: str = "median_ms") -> float:
    return med([m[key] for m in results.get(case_id, {}).get(engine, []) if key in m])


def ratio_text(values: List[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"**{fmt.format(med(values))}** ({fmt.format(min(values))}–{fmt.format(max(values))})"


def rounds_run(rep: Dict[str, Any]) -> int:
    if rep.get("round_loads"):
        return len(rep["round_loads"])
    return max((len(ms) for per in rep["results"].values() for ms in per.values()), default=0)


# ---------------------------------------------------------------------------------------------------
# main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "vecformer"))
    ap.add_argument("--bench-binary", help="Google Benchmark program with BM_FmaPeak "
                    "(default: bench/vecformer_bench next to --binary)")
    ap.add_argument("--allocation-test", help="the allocation-counting test program "
                    "(default: tests/vecformer_allocation_test next to --binary)")
    ap.add_argument("--cache", help="model folders and ONNX files go here (required to measure)")
    ap.add_argument("--ort-module", help="path of node_modules/onnxruntime-node (required to measure)")
    ap.add_argument("--openblas-dir", default="", help="directory holding OpenBLAS's libblas.so.3")
    ap.add_argument("--openblas-version", default="?")
    ap.add_argument("--rounds", type=int, default=5,
                    help="undisturbed rounds wanted (default 5); see --max-rounds")
    ap.add_argument("--max-rounds", type=int, default=0,
                    help="rounds in which other processes used more than --max-foreign of the CPUs do "
                         "not count; extra rounds run until --rounds undisturbed ones, this many rounds in "
                         "all (default 2 x --rounds) or --time-limit")
    ap.add_argument("--time-limit", type=float, default=15.0,
                    help="minutes after which no extra round starts (default 15)")
    ap.add_argument("--iters-scale", type=float, default=1.0, help="multiplies every case's iterations")
    ap.add_argument("--cases", default="", help="comma-separated case ids (default: all)")
    ap.add_argument("--max-foreign", type=float, default=0.10,
                    help="a measurement during which other processes used more than this share of the "
                         "CPUs is repeated (default 0.10)")
    ap.add_argument("--retries", type=int, default=1, help="repeats of a disturbed measurement")
    ap.add_argument("--budget", type=float, default=1.5,
                    help="after the first round, a measurement's iterations are cut to take about this "
                         "many seconds (never more than the case's count, at least 3)")
    ap.add_argument("--max-wait", type=float, default=60.0,
                    help="seconds to wait for a quiet machine before each round")
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"),
                    help="SVG plots and results.json")
    ap.add_argument("--command", default="", help="the command line to quote in the document")
    ap.add_argument("--from-results", metavar="JSON",
                    help="measure nothing: rewrite the document and plots from a results.json")
    ap.add_argument("--baseline", metavar="JSON", default=DEFAULT_BASELINE if os.path.exists(DEFAULT_BASELINE)
                    else "", help="an earlier run's results.json, compared with this run in the document's "
                    "\"Before and after\" section (default: bench/peers/baseline/"
                    f"{os.path.basename(DEFAULT_BASELINE)}, the run before the optimization work; '' for none)")
    args = ap.parse_args()
    if args.from_results:
        with open(args.from_results) as f:
            rep = json.load(f)
        fields = Case.__dataclass_fields__
        cases = [Case(**{k: v for k, v in c.items() if k in fields}) for c in rep["cases"]]
        os.makedirs(args.results_dir, exist_ok=True)
        write_document(rep, cases, args.doc, args.results_dir, args.baseline)
        return 0
    build_dir = os.path.dirname(os.path.abspath(args.binary))
    args.bench_binary = os.path.abspath(
        args.bench_binary or os.path.join(build_dir, "bench", "vecformer_bench"))
    args.allocation_test = os.path.abspath(
        args.allocation_test or os.path.join(build_dir, "tests", "vecformer_allocation_test"))
    if not args.cache or not args.ort_module:
        ap.error("--cache and --ort-module are required (run_peers.sh passes them)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below when killed

    started = time.time()
    load_start = loadavg()
    machine = machine_info()
    binary = os.path.abspath(args.binary)
    os.makedirs(args.results_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vecformer-peers-")

    torch_env = dict(os.environ)
    if args.openblas_dir:
        torch_env["LD_LIBRARY_PATH"] = args.openblas_dir + (
            ":" + torch_env["LD_LIBRARY_PATH"] if torch_env.get("LD_LIBRARY_PATH") else "")
    ort_env = dict(os.environ, ORT_NODE_MODULE=args.ort_module)

    vers_binary = binary
    binary, vf_env = snapshot_binary(binary, work)
    model_dirs = ensure_models(args.cache)
    onnx = ensure_onnx(model_dirs, torch_env)
    vocab = json.load(open(os.path.join(model_dirs["l1"], "config.json")))["vocab_size"]

    torch_w = JsonWorker("pytorch", ["/usr/bin/python3", os.path.join(HERE, "torch_bert.py"), "serve"],
                         torch_env)
    ort_w = JsonWorker("onnxruntime", ["node", os.path.join(HERE, "ort_worker.js")], ort_env)
    try:
        torch_info = torch_w.ask({"op": "info"})
        ort_info = ort_w.ask({"op": "info"})
        vers = versions(vers_binary, binary, vf_env, torch_info, ort_info, args.openblas_version)
        log("versions: " + "; ".join(f"{k} {v}" for k, v in vers.items()))

        checks = correctness(binary, vf_env, model_dirs, onnx, torch_w, ort_w, work)
        if not all(c["ok"] for c in checks):
            log(f"correctness check failed (tolerance {TOLERANCE}); not timing a wrong model")
            shutil.rmtree(work, ignore_errors=True)
            return 1

        cases = [c for c in CASES if not args.cases or c.id in args.cases.split(",")]
        inputs = {c.id: padded_inputs(c, vocab) for c in cases}
        results: Dict[str, Dict[str, List[Dict[str, Any]]]] = {c.id: {e: [] for e in case_engines(c)}
                                                                for c in cases}
        peaks: List[Dict[str, Any]] = []
        round_waits: List[Dict[str, Any]] = []
        load = ForeignLoad([torch_w.proc.pid, ort_w.proc.pid])
        verbose_runs: List[Dict[str, Any]] = []
        layer_case = next((c for c in cases if c.id == "layer_1x128"), None)
        max_rounds = args.max_rounds or 2 * args.rounds
        round_loads: List[float] = []
        r = -1
        while True:
            r += 1
            clean = sum(v <= args.max_foreign for v in round_loads)
            if r >= args.rounds and (clean >= args.rounds or r >= max_rounds
                                     or time.time() - started > args.time_limit * 60):
                break
            order = ENGINES[r % 3:] + ENGINES[:r % 3]
            quiet, waited = load.wait_quiet(args.max_foreign, args.max_wait)
            round_waits.append({"round": r, "foreign_load": quiet, "waited_s": waited})
            # Repeating a disturbed measurement helps against bursts, not against a machine that stays
            # busy: then every attempt is as disturbed, and the run only gets longer.
            retries = args.retries if quiet <= args.max_foreign else 0
            log(f"round {r + 1} ({clean} undisturbed so far, {args.rounds} wanted), engine order {', '.join(order)}; other processes' CPU share "
                f"{quiet:.0%} after {waited:.0f} s")
            for c in cases:
                ids, mask, _ = inputs[c.id]
                for e in (e for e in order if e in case_engines(c)):
                    iters = max(3, round(c.iters * args.iters_scale))
                    if results[c.id][e]:  # later rounds: about --budget seconds of timed iterations
                        last = results[c.id][e][-1]["median_ms"]
                        iters = max(3, min(iters, round(args.budget * 1000 / last)))
                    best = None
                    for attempt in range(1 + retries):
                        t = load.start()
                        if e == "vecformer" and c.dtype != "f32":
                            # bf16 / int8 are newer than the fp32 path: a binary or CPU without them
                            # leaves the case unmeasured in this round instead of ending the run.
                            try:
                                m, _ = vecformer_bench(binary, model_dirs[c.model], c, iters, env=vf_env)
                            except (subprocess.CalledProcessError, RuntimeError, ValueError) as err:
                                log(f"  {c.id} {e}: not measured ({error_text(err)})")
                                break
                        elif e == "vecformer":
                            m, _ = vecformer_bench(binary, model_dirs[c.model], c, iters, env=vf_env)
                        elif e == "pytorch":
                            m = torch_w.ask({"op": "bench", "model": model_dirs[c.model], "input_ids": ids,
                                             "attention_mask": mask, "threads": c.threads, "iters": iters})
                        else:
                            m = ort_w.ask({"op": "bench", "onnx": onnx[c.model], "input_ids": ids,
                                           "attention_mask": mask, "threads": c.threads, "iters": iters})
                        m["foreign_load"] = load.share(t)
                        m["attempts"] = attempt + 1
                        if best is None or m["foreign_load"] < best["foreign_load"]:
                            best = m
                        if m["foreign_load"] <= args.max_foreign:
                            break
                        log(f"  {c.id} {e}: other processes used {m['foreign_load']:.0%} of the CPUs "
                            f"during the measurement; {'retrying' if attempt < retries else 'keeping it'}")
                    if best is None:
                        continue
                    best["round"] = r
                    results[c.id][e].append(best)
                done = [(e, x[-1]) for e, x in results[c.id].items() if x and x[-1]["round"] == r]
                log(f"  {c.id:18s} " + "  ".join(f"{e} {x['median_ms']:8.2f} ms ({x['foreign_load']:.0%})"
                                                  for e, x in done))
            round_loads.append(med([x[-1]["foreign_load"] for c in cases for x in results[c.id].values()
                                    if x and x[-1]["round"] == r]))
            t = load.start()
            peaks.append(torch_w.ask({"op": "matmul", "m": 128, "k": 768, "n": 3072, "threads": 2,
                                      "iters": max(10, round(50 * args.iters_scale))}))
            peaks[-1]["foreign_load"] = load.share(t)
            peaks[-1]["round"] = r
            if layer_case:
                iters = max(5, round(30 * args.iters_scale))
                env = dict(vf_env, DNNL_VERBOSE="1", ONEDNN_VERBOSE="1")
                t = load.start()
                m, text = vecformer_bench(binary, model_dirs["l1"], layer_case, iters, env=env)
                parsed = parse_dnnl_verbose(text, iters)
                parsed["foreign_load"] = load.share(t)
                parsed["total_ms"] = m["median_ms"]
                parsed["round"] = r
                verbose_runs.append(parsed)
                if "error" in parsed:
                    log(f"  DNNL_VERBOSE: {parsed['error']}")
                else:
                    log(f"  DNNL_VERBOSE: matmul {parsed['matmul_ms']:.2f} ms of {m['median_ms']:.2f} ms")

        netlib = None
        if args.openblas_dir:
            out = run(["/usr/bin/python3", os.path.join(HERE, "torch_bert.py"), "matmul", "--iters", "5"])
            netlib = json.loads(out.stdout)
        ort_profile = None
        if layer_case:
            ids, mask, _ = inputs[layer_case.id]
            ort_profile = ort_w.ask({"op": "profile", "onnx": onnx["l1"], "threads": 2, "input_ids": ids,
                                     "attention_mask": mask, "iters": max(5, round(20 * args.iters_scale)),
                                     "dir": os.path.join(work, "ort_profile")})

        # Once per run. The FMA peak is a timing too: it waits for a quiet machine like a round.
        log("peak RSS of vecformer run on the 12-layer model")
        rss = peak_rss(binary, vf_env, model_dirs["l12"], vocab, work)
        log("  " + (rss["error"] if "error" in rss else
                    f"{rss['peak_rss_bytes'] / 2**20:.0f} MiB, {rss['ratio']:.2f} × model.safetensors"))
        log(f"allocation test: {os.path.relpath(args.allocation_test, ROOT)} -s")
        allocations = allocation_counts(args.allocation_test)
        log("  " + (allocations["error"] if "error" in allocations else ", ".join(
            f"{x['dtype']}/T={x['threads']}: ours {x['ours']}, oneDNN {x['onednn']}"
            for x in allocations["sections"])))
        quiet, waited = load.wait_quiet(args.max_foreign, args.max_wait)
        log(f"FMA peak: {os.path.relpath(args.bench_binary, ROOT)} --benchmark_filter=FmaPeak")
        peak: Dict[str, Any] = {}
        for attempt in range(1 + (args.retries if quiet <= args.max_foreign else 0)):
            t = load.start()
            m = fma_peak(args.bench_binary)
            m["foreign_load"] = load.share(t)
            m["attempts"] = attempt + 1
            if not peak or m["foreign_load"] < peak["foreign_load"]:
                peak = m
            if "error" in m or m["foreign_load"] <= args.max_foreign:
                break
            log(f"  other processes used {m['foreign_load']:.0%} of the CPUs during the measurement")
        peak["foreign_load_before"] = quiet
        log("  " + (peak["error"] if "error" in peak else ", ".join(
            f"{n} thread(s) {g:.0f} GFLOP/s" for n, g in peak["gflops"].items())))
        elapsed = time.time() - started
        load_end = loadavg()
    finally:
        torch_w.close()
        ort_w.close()
        if sys.exc_info()[0] is not None:
            shutil.rmtree(work, ignore_errors=True)

    report = {
        "generated": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": args.command, "machine": machine, "versions": vers, "git": git_state(),
        "load_start": load_start, "load_end": load_end, "elapsed_s": elapsed, "rounds": args.rounds,
        "round_loads": round_loads,
        "iters_scale": args.iters_scale, "checks": checks,
        "cases": [c.__dict__ | {"lengths": inputs[c.id][2]} for c in cases],
        "results": results, "matmul_peak": peaks, "matmul_netlib": netlib,
        "dnnl_verbose": verbose_runs, "ort_profile": ort_profile, "round_waits": round_waits,
        "peak_rss": rss, "allocations": allocations, "fma_peak": peak,
        "max_foreign": args.max_foreign, "retries": args.retries, "max_wait": args.max_wait,
        "budget": args.budget,
        "onnx": {k: os.path.getsize(p) for k, p in onnx.items()},
    }
    with open(os.path.join(args.results_dir, "results.json"), "w") as f:
        json.dump(report, f, indent=1)
    write_document(report, cases, args.doc, args.results_dir, args.baseline)
    shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {os.path.relpath(args.doc, ROOT)} and {os.path.relpath(args.results_dir, ROOT)}/ "
        f"in {elapsed / 60:.1f} min")
    return 0


# ---------------------------------------------------------------------------------------------------
# the document


def used_rounds(rep: Dict[str, Any]) -> List[int]:
    """The rounds the tables use: the undisturbed ones when there are at least min(3, --rounds) of them,
    else every round (and the document says the run was disturbed)."""
    loads = rep.get("round_loads") or []
    n = rounds_run(rep)
    clean = [i for i, v in enumerate(loads) if v <= rep.get("max_foreign", 0.10)]
    return clean if len(clean) >= min(3, rep.get("rounds", 5)) else list(range(n))


def results_used(rep: Dict[str, Any], used: Sequence[int]) -> Dict[str, Dict[str, List[Dict[str, Any]]]]:
    """rep["results"] restricted to the rounds used."""
    return {cid: {e: [x for i, x in enumerate(ms) if x.get("round", i) in used] for e, ms in per.items()}
            for cid, per in rep["results"].items()}


def peer_case(c: Case, res: Dict[str, Dict[str, List[Dict[str, Any]]]], engine: str) -> str:
    """The case whose `engine` time a case's ratios divide by: the case itself when that engine ran it
    (every fp32 case; bf16 / int8 cases for ONNX Runtime, in fp32); otherwise (PyTorch for bf16 / int8,
    and runs from before ONNX Runtime ran beside them) the fp32 case of the same shape, "" when there is
    none."""
    if c.dtype == "f32" or res.get(c.id, {}).get(engine):
        return c.id
    return "layer_1x128" if (c.batch, c.seq, c.model) == (1, 128, "l1") else ""


def time_breakdown(rep: Dict[str, Any], used: Sequence[int]) -> Optional[Dict[str, Any]]:
    """The "Where the time goes" figures (vecformer, 1 layer, 1×128) from the DNNL_VERBOSE runs of the
    rounds used: medians over those runs of the total per forward, of all oneDNN matmuls and of each
    matmul shape (the shapes of the last run, in its order); rest = total - matmuls. None when no run
    parsed."""
    vr = [v for i, v in enumerate(rep.get("dnnl_verbose") or [])
          if "error" not in v and v.get("round", i) in used]
    if not vr:
        return None
    total = med([v["total_ms"] for v in vr])
    mm = med([v["matmul_ms"] for v in vr])
    share = [v["matmul_ms"] / v["total_ms"] for v in vr]
    shapes = [{"desc": s["desc"], "calls": s["calls"],
               "ms": med([next((x["ms"] for x in v["shapes"] if x["desc"] == s["desc"]), float("nan"))
                          for v in vr])}
              for s in vr[-1]["shapes"]]
    return {"runs": vr, "total_ms": total, "matmul_ms": mm, "matmul_shares": share,
            "rest_ms": total - mm, "rest_share": 1 - med(share), "shapes": shapes}


def git_text(g: Dict[str, Any]) -> str:
    """"commit X, clean" or "commit X, with uncommitted changes in ..." from a results.json's "git"."""
    if not g:
        return "commit ? (not recorded)"
    return (f"commit {g.get('commit') or '?'}"
            + (f", with uncommitted changes in {', '.join(g['changed'])}" if g.get("changed") else ", clean"))


def load_baseline(path: str) -> Tuple[Optional[Dict[str, Any]], str]:
    """The --baseline run's results.json, or None and why there is none."""
    if not path:
        return None, "no baseline run given (`--baseline`)"
    shown = os.path.relpath(path, ROOT) if os.path.abspath(path).startswith(ROOT + os.sep) else path
    try:
        with open(path) as f:
            base = json.load(f)
    except FileNotFoundError:
        return None, f"the baseline file `{shown}` does not exist"
    except (OSError, ValueError) as e:
        return None, f"the baseline file `{shown}` could not be read ({type(e).__name__}: {e})"
    if not isinstance(base, dict) or not isinstance(base.get("results"), dict):
        return None, f"the baseline file `{shown}` is not a results.json of this script"
    return base, ""


def run_figures(rep: Dict[str, Any], cases: List[Case]) -> Dict[str, Any]:
    """What "Before and after" compares, for one run: per case, vecformer's median ms and the per-round
    vecformer / ORT ratios (the same run's ORT, on peer_case's case); the time breakdown."""
    used = used_rounds(rep)
    res = results_used(rep, used)
    by_id = {c.id: c for c in cases}
    per_case = {}
    for cid in res:
        peer = peer_case(by_id[cid], res, "onnxruntime") if cid in by_id else cid
        per_case[cid] = {"ms": summary(res, cid, "vecformer"),
                         "ort": per_round_ratio(res, (cid, "vecformer"), (peer, "onnxruntime")) if peer else []}
    return {"used": used, "rounds": rounds_run(rep), "cases": per_case,
            "breakdown": time_breakdown(rep, used)}


def before_after(rep: Dict[str, Any], cases: List[Case], baseline_path: str,
                 rel: Any) -> List[str]:
    """The "Before and after" section: this run against the --baseline run. A missing or unreadable
    baseline, or a case it lacks, reads "not in the baseline run"."""
    after = run_figures(rep, cases)
    base, why = load_baseline(baseline_path)
    before: Optional[Dict[str, Any]] = None
    if base is not None:
        try:
            before = run_figures(base, cases)
        except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError) as e:
            why = f"the baseline run could not be read ({type(e).__name__}: {e})"
    missing = "not in the baseline run"

    def when(r: Dict[str, Any], figures: Dict[str, Any]) -> str:
        used, total = len(figures["used"]), figures["rounds"]
        return (f"generated {r.get('generated', '?')} on vecformer {git_text(r.get('git'))}; "
                + (f"{used} of {total} rounds used" if used < total else
                   f"{total} round{'s' if total != 1 else ''}"))

    L = ["## Before and after", ""]
    if before is not None:
        same = base.get("generated") == rep.get("generated") and base.get("git") == rep.get("git")
        L += [f"Before: the run in [{os.path.basename(baseline_path)}]({rel(baseline_path)}) (`--baseline`), "
              f"{when(base, before)}. After: this run, {when(rep, after)}."
              + (" The baseline is this run itself." if same else ""), ""]
    else:
        L += [f"Before: none — {why}, so every \"before\" cell reads \"{missing}\". After: this run, "
              f"{when(rep, after)}.", ""]
    L += ["Absolute times of two runs are not comparable (the machine's load, clock and neighbours change "
          "between runs), so the fair comparison is the vecformer / ONNX Runtime ratio, each run's against "
          "its own ONNX Runtime measured in the same rounds; vecformer's milliseconds are shown for "
          "reference.", "",
          "| Case | vecformer ms, before | vecformer ms, after | after / before | vecformer / ORT, before "
          "| vecformer / ORT, after |", "|---|---:|---:|---:|---:|---:|"]

    def ms_text(v: float) -> str:
        return "not measured" if math.isnan(v) else f"{v:.2f}"

    def ort_text(c: Case, values: List[float]) -> str:
        if not values:
            return "not measured" if peer_case(c, {}, "onnxruntime") else "–"  # "–": nothing to divide by
        return ratio_text(values) + ("" if c.dtype == "f32" else " (vs fp32)")

    for c in cases:
        a = after["cases"].get(c.id, {"ms": float("nan"), "ort": []})
        b = before["cases"].get(c.id) if before else None
        if b is None:
            L.append(f"| {c.title} (T={c.threads}) | {missing} | {ms_text(a['ms'])} | – | {missing} | "
                     f"{ort_text(c, a['ort'])} |")
            continue
        change = a["ms"] / b["ms"] if b["ms"] > 0 else float("nan")
        L.append(f"| {c.title} (T={c.threads}) | {ms_text(b['ms'])} | {ms_text(a['ms'])} | "
                 f"{'–' if math.isnan(change) else f'{change:.2f}'} | {ort_text(c, b['ort'])} | "
                 f"{ort_text(c, a['ort'])} |")
    if before:
        have = {c.id for c in cases}
        titles = {x.get("id"): x.get("title", x.get("id")) for x in base.get("cases", []) if isinstance(x, dict)}
        only = [titles.get(cid, cid) for cid in base["results"] if cid not in have]
        if only:
            L += ["", "In the baseline run only (not measured in this run): " + "; ".join(only) + "."]
    L.append("")

    # The breakdown, before and after side by side.
    bb = before["breakdown"] if before else None
    ab = after["breakdown"]
    L += ["Where the time goes (vecformer, 1 layer, 1×128, 2 threads), before and after: the figures of "
          "the section above, computed the same way from each run's `DNNL_VERBOSE=1 vecformer bench` runs "
          "(medians over the rounds used; rest = total − all matmuls). Milliseconds of different runs "
          "compare only roughly; the shares compare better.", "",
          "| Part | before ms | before share | after ms | after share |", "|---|---:|---:|---:|---:|"]

    def cells(bd: Optional[Dict[str, Any]], ms: Optional[float], share: Optional[float],
              not_there: str) -> str:
        if bd is None:
            return f"{not_there} | –"
        if ms is None or math.isnan(ms):
            return "– | –"
        return f"{ms:.2f} | {share if share is not None else ms / bd['total_ms']:.0%}"

    none_before = missing if before is None else "not measured in the baseline run"
    shapes = {}
    for side, bd in (("after", ab), ("before", bb)):
        for s in (bd or {}).get("shapes", []):
            shapes.setdefault(s["desc"], {})[side] = s
    for desc, sides in shapes.items():
        calls = [sides[k]["calls"] for k in ("before", "after") if k in sides]
        calls_text = f"×{calls[0]}" if len(set(calls)) == 1 else f"×{calls[0]} → ×{calls[1]}"
        L.append(f"| matmul {desc} {calls_text} | "
                 + cells(bb, sides.get("before", {}).get("ms"), None, none_before) + " | "
                 + cells(ab, sides.get("after", {}).get("ms"), None, "not measured") + " |")
    for label, key, share_key in (("**all oneDNN matmuls**", "matmul_ms", None), ("rest", "rest_ms", "rest_share"),
                                  ("total (median of the DNNL_VERBOSE runs)", "total_ms", None)):
        def row(bd: Optional[Dict[str, Any]], not_there: str) -> str:
            if bd is None:
                return cells(None, None, None, not_there)
            share = (med(bd["matmul_shares"]) if key == "matmul_ms" else bd[share_key] if share_key else 1.0)
            return cells(bd, bd[key], share, not_there)
        L.append(f"| {label} | {row(bb, none_before)} | {row(ab, 'not measured')} |")
    runs = [f"{name}: {len(bd['runs'])} run{'s' if len(bd['runs']) != 1 else ''} of "
            f"{bd['runs'][-1].get('timed_forwards', '?')} timed forwards"
            for name, bd in (("before", bb), ("after", ab)) if bd]
    if runs:
        L += ["", "DNNL_VERBOSE runs used: " + "; ".join(runs) + "."]
    L.append("")
    return L


def reader_guide(rep: Dict[str, Any], res: Dict[str, Dict[str, List[Dict[str, Any]]]], have: set,
                 used: Sequence[int]) -> List[str]:
    """The document's opening for readers who did not do the work: the terms the tables use, and which
    dtype and thread count to choose, with this run's figures."""
    ort = rep.get("versions", {}).get("ONNX Runtime", "")
    ratios = per_round_ratio(res, ("layer_1x128", "vecformer"), ("layer_1x128", "onnxruntime")) \
        if "layer_1x128" in have else []
    example = (f": {ratio_text(ratios)} for one layer 1×128 means vecformer took {med(ratios):.2f} of ORT's "
               f"time in the median round, and between {min(ratios):.2f} and {max(ratios):.2f} of it over "
               "the rounds") if len(ratios) > 1 else ""
    L = ["## Reading this page", "",
         "- **Cases**: \"1 layer\" and \"12 layers\" are BERT-base-sized encoders (hidden 768, 12 heads, "
         "feed-forward 3072) with random weights ([What runs](#what-runs)); \"B×S\" is a batch of B "
         "sequences of S tokens; *real tokens* are the tokens that are not padding.",
         "- **T** is the number of threads each engine is given: `vecformer --threads T`, ONNX Runtime's "
         "intra-op threads, PyTorch's `torch.set_num_threads(T)`. This machine has "
         f"{rep['machine'].get('cpus', '?')} logical CPUs ([Machine](#machine)).",
         "- **ORT** is ONNX Runtime" + (f" {ort}" if ort else "") + ", the yardstick of the speed targets; "
         "**PyTorch** is Debian's python3-torch. Both run the same weights as vecformer.",
         "- **Rounds**: one round runs every case once on every engine, one after the other; the run "
         f"repeats rounds ({len(used)} used here) so that a burst of load from other processes lands in one "
         "round rather than on one engine. A time is the median over rounds; a ratio is taken within each "
         "round, then the median of those, with the range over rounds in parentheses" + example + ".",
         "- **Targets** are the limits the Performance issue set; each row of the "
         "[targets table](#targets-from-the-performance-issue) links to the section that measures it.", ""]

    L += ["## Which dtype, how many threads", ""]
    checks = {c["layers"]: c for c in rep.get("checks", [])}
    deep = checks.get(max(checks)) if checks else None
    f32_ms = summary(res, "layer_1x128", "vecformer") if "layer_1x128" in have else float("nan")
    corr = f"[{CORRECTNESS_SECTION}]({anchor(CORRECTNESS_SECTION)})"

    def speed(case_id: str) -> str:
        gain = per_round_ratio(res, ("layer_1x128", "vecformer"), (case_id, "vecformer"))
        if not gain or case_id not in have:
            return ""
        return (f"{med(gain):.1f}× the speed of f32 on one layer 1×128 at T=2 "
                f"({summary(res, case_id, 'vecformer'):.2f} ms against {f32_ms:.2f} ms)")

    def accuracy(dtype: str) -> str:
        a = (deep or {}).get("dtypes", {}).get(dtype, {})
        if "max_abs" not in a:
            return ""
        return (f"on the {deep['layers']}-layer model its hidden states differ from f32's by at most "
                f"{a['max_abs']:.1e}, and mean-pooled embeddings keep a cosine of at least "
                f"{a['pooled_cosine']:.6f} with f32's (worst of the sequences)")

    f32_error = f" ({deep['vecformer_vs_f64']:.1e} at most from a float64 reference on {deep['layers']} layers)" \
        if deep and "vecformer_vs_f64" in deep else ""
    L += [f"- **`--dtype f32`** (the default): the most accurate{f32_error}; the only dtype of the reference "
          "backend."]
    for dtype, what, use in (
            ("bf16", "bfloat16 matrix products, float32 everywhere else",
             "a good choice for embeddings when speed matters"),
            ("int8", "8-bit weights and per-token 8-bit inputs in the matrix products",
             "for search and ranking when that cosine is acceptable: check the rankings on your own data "
             "first, and prefer bf16 or f32 when you use the hidden states themselves")):
        parts = [x for x in (speed(f"layer_1x128_{dtype}"), accuracy(dtype)) if x]
        L.append(f"- **`--dtype {dtype}`** (optimized backend): {what}. " + ("; ".join(parts) + ". " if parts else "")
                 + use[0].upper() + use[1:] + ".")
    L += [f"- The accuracy figures come from random weights on four sequences ({corr}); a trained model "
          "may differ, so compare `vecformer run --dtype bf16|int8` with `vecformer run` on your own inputs. "
          "The speeds are this CPU's ([Machine](#machine) lists its flags); on a CPU without AVX-512 BF16 or "
          "VNNI instructions time them with `vecformer bench --dtype` before choosing."]
    gain = per_round_ratio(res, ("layer_1x128_t1", "vecformer"), ("layer_1x128", "vecformer")) \
        if {"layer_1x128", "layer_1x128_t1"} <= have else []
    scaling = (f"going from 1 to 2 threads gave {med(gain):.2f}× the tokens/s on one layer 1×128 "
               f"([{THREADS_SECTION}]({anchor(THREADS_SECTION)})). ") if gain else ""
    L += ["- **`--threads`** defaults to every core; " + scaling + "Give vecformer the cores it can have to "
          "itself: on a machine busy with other work, or with several vecformer processes, use fewer threads "
          "so that threads × processes ≤ cores, because a parallel step waits for its slowest thread and a "
          "thread that loses its core stalls the whole forward."]
    padding = per_round_ratio(res, ("layer_8x128_pad", "vecformer"), ("layer_8x128", "vecformer")) \
        if {"layer_8x128_pad", "layer_8x128"} <= have else []
    if padding:
        L += ["- **Batching**: vecformer packs the real tokens of a batch, so sequences of different lengths "
              f"cost no padding: a half-padded 8×128 batch took {med(padding):.2f} of the full batch's time "
              f"([{PADDING_SECTION}]({anchor(PADDING_SECTION)}))."]
    return L + [""]


def write_document(rep: Dict[str, Any], cases: List[Case], doc_path: str, results_dir: str,
                   baseline_path: str = "") -> None:
    used = used_rounds(rep)
    res = results_used(rep, used)
    rounds_total = rounds_run(rep)
    have = {c.id for c in cases}
    lengths_of = {c["id"]: c["lengths"] for c in rep["cases"] if "lengths" in c}
    doc_dir = os.path.dirname(os.path.abspath(doc_path))
    rel = lambda p: os.path.relpath(p, doc_dir)  # noqa: E731
    L: List[str] = []
    m = rep["machine"]
    L += ["# Performance", "",
          "<!-- Generated by bench/peers/run_peers.sh; every number below comes from the run described "
          "here. Rerun the script instead of editing by hand. -->", "",
          f"Generated {rep['generated']} by", "", "```sh", rep["command"] or "bench/peers/run_peers.sh",
          "```", "",
          f"in {rep['elapsed_s'] / 60:.1f} minutes: {rounds_total} interleaved rounds, each running every "
          "case on every engine in turn (engine order rotating between rounds). A measurement is the "
          "median of N timed iterations after a warm-up; the tables give the median over rounds, and "
          "each ratio is the median of the per-round ratios, with the range over rounds in parentheses. "
          "The machine is shared and noisy: trust the ratios more than the absolute times.", ""]
    L += reader_guide(rep, res, have, used)
    L += ["## Conditions of this run", ""]
    loads_by_round = rep.get("round_loads") or []
    if loads_by_round:
        L += [f"A round counts as undisturbed when other processes used at most {rep['max_foreign']:.0%} of "
              "the CPUs (median over its measurements; measured from /proc/stat minus this run's own CPU "
              "time); rounds that did not were followed by extra ones. Per round: "
              + ", ".join(f"{i + 1}: {v:.0%}" for i, v in enumerate(loads_by_round)) + ". "
              + (f"The tables use the {len(used)} undisturbed rounds ({', '.join(str(i + 1) for i in used)})."
                 if len(used) < rounds_total else f"The tables use all {rounds_total} rounds."), ""]

    # --- conditions
    all_loads = [x.get("foreign_load", 0.0) for c in cases for e in case_engines(c) for x in res[c.id][e]]
    load_note = f"; other processes used a median {med(all_loads):.0%} of the CPUs"
    if med(all_loads) > rep["max_foreign"]:
        L += [f"> **Disturbed run.** Other processes used a median {med(all_loads):.0%} of the CPUs while "
              "this run measured (table below), so the engines got only part of the machine. Two-thread "
              "figures suffer most (a descheduled thread stalls every parallel region), and how much "
              "differs between engines. Treat this document as a check that the pipeline works, not as "
              "the performance of vecformer; rerun on a quiet machine.", ""]
    L += ["Other processes' share of the CPUs during each measurement the tables use. In a round that started on a quiet machine, a measurement above "
          f"{rep['max_foreign']:.0%} was repeated up to {rep['retries']} time(s) and the least disturbed "
          "attempt kept; in a round that started on a busy machine, repeating would not help and was "
          "skipped:", "",
          "| Engine | median | max | kept above the limit | repeats |", "|---|---:|---:|---:|---:|"]
    for e in ENGINES:
        ms = [x for c in cases if e in case_engines(c) for x in res[c.id][e]]
        loads = [x.get("foreign_load", 0.0) for x in ms]
        if not loads:
            continue
        L.append(f"| {ENGINE_LABEL[e]} | {med(loads):.0%} | {max(loads):.0%} | "
                 f"{sum(v > rep['max_foreign'] for v in loads)} of {len(loads)} | "
                 f"{sum(x.get('attempts', 1) - 1 for x in ms)} |")
    waits = [w for w in rep.get("round_waits", []) if w["round"] in used]
    if waits:
        L += ["", "Before each round the script waited for a quiet machine (at most "
              f"{rep.get('max_wait', 60):.0f} s); for the rounds used: waited " + ", ".join(f"{w['waited_s']:.0f} s" for w in waits)
              + "; other processes' share then " + ", ".join(f"{w['foreign_load']:.0%}" for w in waits) + "."]
    L.append("")

    # --- targets
    def timing_values(t: Target) -> List[float]:
        if t.kind == "ratio_ort" and t.case in have:
            return per_round_ratio(res, (t.case, "vecformer"), (t.case, "onnxruntime"))
        if t.kind == "ratio_ort_f32" and t.case in have:
            c = next(c for c in cases if c.id == t.case)
            peer = peer_case(c, res, "onnxruntime")
            return per_round_ratio(res, (t.case, "vecformer"), (peer, "onnxruntime")) if peer in have else []
        if t.kind == "padding" and {"layer_8x128_pad", "layer_8x128"} <= have:
            return per_round_ratio(res, ("layer_8x128_pad", "vecformer"), ("layer_8x128", "vecformer"))
        if t.kind == "threads" and {"layer_1x128", "layer_1x128_t1"} <= have:
            return per_round_ratio(res, ("layer_1x128_t1", "vecformer"), ("layer_1x128", "vecformer"))
        if t.kind == "load_ms" and "bert12_1x128" in have:
            return [x["load_ms"] for x in res["bert12_1x128"]["vecformer"] if "load_ms" in x]
        return []

    def target_cell(t: Target) -> Tuple[str, Optional[float]]:
        """The measured cell and the value compared with the limit (None: not measured)."""
        f = t.fmt.format
        if t.kind in ("max_abs", "cosine"):
            key = "max_abs" if t.kind == "max_abs" else "pooled_cosine"
            per_model = [(c["layers"], c.get("dtypes", {}).get(t.case, {})) for c in rep["checks"]]
            got = [(n, a[key]) for n, a in per_model if key in a]
            if not got:
                errors = [a["error"] for _, a in per_model if "error" in a]
                return "not measured" + (f" ({errors[0]})" if errors else ""), None
            judged = [v for n, v in got if t.layers is None or n == t.layers]
            if not judged:
                return f"not measured ({t.layers}-layer model missing)", None
            worst = max(judged) if t.kind == "max_abs" else min(judged)
            return (f"**{f(worst)}** (" + "; ".join(f"{n} layer{'s' if n > 1 else ''} {f(v)}" for n, v in got)
                    + ")"), worst
        if t.kind == "peak_rss":
            m = rep.get("peak_rss") or {}
            if "ratio" not in m:
                return "not measured" + (f" ({m['error']})" if "error" in m else ""), None
            return (f"**{m['ratio']:.2f}** ({m['peak_rss_bytes'] / 2**20:.0f} MiB peak / "
                    f"{m['model_bytes'] / 2**20:.0f} MiB file)"), m["ratio"]
        if t.kind == "allocations":
            a = rep.get("allocations") or {}
            if not a.get("sections"):
                return "not measured" + (f" ({a['error']})" if "error" in a else ""), None
            ours = max(x["ours"] for x in a["sections"])
            where = ", ".join(f"{x['dtype']}/T={x['threads']}" for x in a["sections"] if x["ours"])
            per_exec = [x["onednn"] / x["executions"] for x in a["sections"] if x.get("executions")]
            text = f"**{ours}**" + (f" in {where}" if where else " in every case tested")
            if per_exec:
                text += f"; oneDNN's own, apart: {min(per_exec):.1f}–{max(per_exec):.1f} per execution"
            if a.get("exit_status"):
                text += f" (test exit status {a['exit_status']})"
            return text, float(ours)
        values = timing_values(t)
        return (ratio_text(values, t.fmt), med(values)) if values else ("not measured", None)

    L += ["## Targets (from the Performance issue)", "",
          "| Target | Limit | Measured (median of rounds, range) | Met |", "|---|---|---|---|"]
    for t in TARGETS:
        text, v = target_cell(t)
        linked = f"[{t.text}]({anchor(t.section)})"
        if v is None:
            L.append(f"| {linked} | {t.op} {t.fmt.format(t.limit)} | {text} | – |")
            continue
        met = v <= t.limit if t.op == "≤" else v >= t.limit if t.op == "≥" else v == t.limit
        L.append(f"| {linked} | {t.op} {t.fmt.format(t.limit)} | {text} | {'met' if met else 'not met'} |")
    L += ["", "Ratios of times: below 1 means vecformer is faster. The thread target is a ratio of "
          "tokens/s (time with 1 thread / time with 2 threads). The bf16 and int8 time targets divide "
          "vecformer's time in that dtype by ONNX Runtime's fp32 time on the same 1-layer 1×128 shape, "
          "measured right beside it, round by round. Accuracy: `vecformer run --dtype bf16|int8` against `vecformer run` in fp32 on "
          "the correctness check's sequences (see there). Peak RSS, load time and allocations: see "
          f"[{MEMORY_SECTION}]({anchor(MEMORY_SECTION)}).", ""]

    # --- main table
    L += [f"## {TIMES_SECTION}", "",
          "| Case | Real tokens | vecformer ms | ONNX Runtime ms | PyTorch ms | vecformer / ORT | "
          "vecformer / PyTorch |", "|---|---:|---:|---:|---:|---:|---:|"]
    def ms_cell(c: Case, e: str) -> str:
        if e not in case_engines(c):
            return "–"
        v = summary(res, c.id, e)
        if math.isnan(v):
            return "not measured"
        return f"{v:.2f}" + (" (fp32)" if c.dtype != "f32" and e != "vecformer" else "")
    for c in cases:
        tokens = sum(lengths_of.get(c.id, [c.seq] * c.batch))
        cells = [ms_cell(c, e) for e in ENGINES]
        if c.dtype == "f32":
            r_ort = ratio_text(per_round_ratio(res, (c.id, "vecformer"), (c.id, "onnxruntime")))
            r_pt = ratio_text(per_round_ratio(res, (c.id, "vecformer"), (c.id, "pytorch")))
        else:  # no bf16 / int8 peer: against the peers' fp32 time (ORT's measured beside it)
            r = per_round_ratio(res, (c.id, "vecformer"), (peer_case(c, res, "onnxruntime"), "onnxruntime"))
            r_ort = f"{ratio_text(r)} (vs fp32)" if r else "–"
            r = per_round_ratio(res, (c.id, "vecformer"), (peer_case(c, res, "pytorch"), "pytorch"))
            r_pt = f"{ratio_text(r)} (vs fp32)" if r else "–"
        L.append(f"| {c.title} (T={c.threads}) | {tokens} | " + " | ".join(cells) + f" | {r_ort} | {r_pt} |")
    def iters_range(c: Case) -> str:
        n = sorted({x["iters"] for e in case_engines(c) for x in res[c.id][e]})
        return "–" if not n else f"{n[0]}" if len(n) == 1 else f"{n[0]}–{n[-1]}"
    L += ["", "Timed iterations per measurement (after the first round, cut to about "
          f"{rep['budget']:g} s per measurement): " + "; ".join(f"{c.title}: {iters_range(c)}" for c in cases)
          + "."]
    if any(c.dtype != "f32" for c in cases):
        L.append("The bf16 and int8 cases run in vecformer only (`vecformer bench --dtype`); their ONNX "
                 "Runtime column is ONNX Runtime in fp32 on the same shape, measured right beside "
                 "vecformer in every round, and their ratios divide by it (PyTorch's: by the fp32 case of "
                 "the same shape).")
    L.append("")

    # --- threads
    if {"layer_1x128", "layer_1x128_t1"} <= have:
        L += [f"## {THREADS_SECTION}", "",
              "| Engine | tokens/s, 1 thread | tokens/s, 2 threads | 2-thread gain (per-round median) |",
              "|---|---:|---:|---:|"]
        for e in ENGINES:
            gain = per_round_ratio(res, ("layer_1x128_t1", e), ("layer_1x128", e))
            L.append(f"| {ENGINE_LABEL[e]} | {summary(res, 'layer_1x128_t1', e, 'tokens_per_s'):,.0f} | "
                     f"{summary(res, 'layer_1x128', e, 'tokens_per_s'):,.0f} | {ratio_text(gain)} |")
        svg = svg_chart("Tokens/s against threads (1 layer, 1×128)", "threads", "tokens/s", [1, 2],
                        [{"name": ENGINE_LABEL[e], "color": ENGINE_COLOR[e],
                          "values": [summary(res, cid, e, "tokens_per_s") for cid, _ in THREAD_CURVE]}
                         for e in ENGINES]
                        + [{"name": "vecformer ideal", "color": ENGINE_COLOR["vecformer"], "dash": True,
                            "values": [summary(res, "layer_1x128_t1", "vecformer", "tokens_per_s") * t
                                       for _, t in THREAD_CURVE]}],
                        note=f"median over {len(used)} rounds; dashed: vecformer's 1-thread rate × threads"
                        + load_note)
        path = os.path.join(results_dir, "tokens_per_s_threads.svg")
        with open(path, "w") as f:
            f.write(svg)
        L += ["", f"![tokens/s against threads]({rel(path)})", ""]

    # --- sequence length
    curve = [(cid, s) for cid, s in SEQ_CURVE if cid in have]
    if len(curve) >= 2:
        L += ["## Sequence length (1 layer, batch 1, 2 threads)", "",
              "| Sequence length | vecformer tokens/s | ONNX Runtime tokens/s | PyTorch tokens/s | "
              "vecformer / ORT (time) | vecformer / PyTorch (time) |", "|---:|---:|---:|---:|---:|---:|"]
        for cid, s in curve:
            L.append(f"| {s} | " + " | ".join(f"{summary(res, cid, e, 'tokens_per_s'):,.0f}" for e in ENGINES)
                     + f" | {ratio_text(per_round_ratio(res, (cid, 'vecformer'), (cid, 'onnxruntime')))}"
                     + f" | {ratio_text(per_round_ratio(res, (cid, 'vecformer'), (cid, 'pytorch')))} |")
        svg = svg_chart("Tokens/s against sequence length (1 layer, batch 1, 2 threads)", "sequence length",
                        "tokens/s", [s for _, s in curve],
                        [{"name": ENGINE_LABEL[e], "color": ENGINE_COLOR[e],
                          "values": [summary(res, cid, e, "tokens_per_s") for cid, _ in curve]}
                         for e in ENGINES], log2x=True, note=f"median over {len(used)} rounds" + load_note)
        path = os.path.join(results_dir, "tokens_per_s_seq_len.svg")
        with open(path, "w") as f:
            f.write(svg)
        L += ["", f"![tokens/s against sequence length]({rel(path)})", ""]

    # --- padding
    if {"layer_8x128_pad", "layer_8x128"} <= have:
        lengths = next(c["lengths"] for c in rep["cases"] if c["id"] == "layer_8x128_pad")
        L += [f"## {PADDING_SECTION}", "",
              f"Half the 8×128 slots are padding: sequence lengths {lengths} ({sum(lengths)} real tokens), "
              "the lengths `vecformer bench --padding-fraction 0.5` draws. vecformer packs the real tokens "
              "(no padding inside); PyTorch and ONNX Runtime get the batch padded to 128 with an attention "
              "mask, as a Hugging Face pipeline would.", "",
              "| Engine | full 8×128 ms | half-padded ms | padded / full (per-round median) |",
              "|---|---:|---:|---:|"]
        for e in ENGINES:
            L.append(f"| {ENGINE_LABEL[e]} | {summary(res, 'layer_8x128', e):.2f} | "
                     f"{summary(res, 'layer_8x128_pad', e):.2f} | "
                     f"{ratio_text(per_round_ratio(res, ('layer_8x128_pad', e), ('layer_8x128', e)))} |")
        L.append("")

    # --- matmul peak and achieved rate
    fma = rep.get("fma_peak") or {}
    fma_gflops = {int(k): v for k, v in (fma.get("gflops") or {}).items()}
    L += ["## Matmul peak, same run", "",
          "### This CPU's fp32 FMA peak", "",
          "`build/bench/vecformer_bench --benchmark_filter=FmaPeak` (bench/bench_peak.cpp): twelve "
          "independent chains of AVX-512 `vfmadd231ps` per thread, no memory traffic, 16 lanes × 2 FLOP "
          "per instruction; GFLOP/s summed over the threads, the best of 3 repetitions; run once after the "
          "rounds. No matmul runs faster than this.", ""]
    if fma_gflops:
        L += ["| Threads | fp32 FMA peak, GFLOP/s |", "|---:|---:|"]
        L += [f"| {n} | {g:.0f} |" for n, g in sorted(fma_gflops.items())]
        if "foreign_load" in fma:
            L += ["", "Other processes' share of the CPUs during the measurement: "
                  f"{fma['foreign_load']:.0%}"
                  + (f" (the least disturbed of {fma['attempts']} attempts)" if fma.get("attempts", 1) > 1
                     else "")
                  + (". **Disturbed**: the peak is understated, so the shares of it below are overstated."
                     if fma["foreign_load"] > rep["max_foreign"] else ".")]
    else:
        L.append("Not measured" + (f" ({fma['error']})." if "error" in fma else "."))
    L.append("")
    peaks = [p for i, p in enumerate(rep["matmul_peak"]) if p.get("round", i) in used]
    L += ["### fp32 matmul through PyTorch (not vecformer)", "",
          "fp32 [128×768]·[768×3072], 2 threads, median per round, median over rounds:", "",
          "| Path | ms | GFLOP/s |", "|---|---:|---:|"]
    if peaks:
        L.append(f"| torch.matmul → OpenBLAS sgemm | {med([p['blas_median_ms'] for p in peaks]):.3f} | "
                 f"{med([p['blas_gflops'] for p in peaks]):.0f} |")
        if all("onednn_gflops" in p for p in peaks):
            L.append(f"| torch mkldnn_linear → oneDNN (the library vecformer uses) | "
                     f"{med([p['onednn_median_ms'] for p in peaks]):.3f} | "
                     f"{med([p['onednn_gflops'] for p in peaks]):.0f} |")
    if rep.get("matmul_netlib"):
        n = rep["matmul_netlib"]
        L.append(f"| torch.matmul → Debian's default libblas.so.3 (reference BLAS), measured once | "
                 f"{n['blas_median_ms']:.3f} | {n['blas_gflops']:.0f} |")
    L.append("")
    f32_cases = [c for c in cases if c.dtype == "f32"]
    if f32_cases:
        ratio_limits = {t.case: t.limit for t in TARGETS if t.kind == "ratio_ort"}

        def rate_cell(flop: float, ms: float, threads: int) -> str:
            if math.isnan(ms):
                return "not measured"
            gflops = flop / (ms / 1000) / 1e9
            peak = fma_gflops.get(threads)
            return f"{gflops:.0f}" + (f" ({gflops / peak:.0%})" if peak else "")
        L += ["### Achieved rate against the peak", "",
              "Each fp32 case's matmul work (per layer: the four projections, the FFN and the two attention "
              "products, 2 FLOP per multiply-add, over real tokens only) divided by its median time; in "
              "parentheses the share of the FMA peak at the case's thread count. The last column is the "
              "rate the case's ≤ 0.85 × ONNX Runtime target implies (its GFLOP over 0.85 × ORT's median "
              "time): a lower bound, as the non-matmul work (softmax, layer norms, GELU, OpenMP "
              "fork/join) takes time too.", "",
              "| Case | GFLOP | vecformer GFLOP/s | ONNX Runtime GFLOP/s | PyTorch GFLOP/s | "
              "needed for the target |", "|---|---:|---:|---:|---:|---:|"]
        for c in f32_cases:
            layers = MODELS[c.model]
            flop = layers * layer_flop(lengths_of.get(c.id, [c.seq] * c.batch))
            cells = [rate_cell(flop, summary(res, c.id, e), c.threads) for e in ENGINES]
            need = "–"
            if c.id in ratio_limits:
                need = rate_cell(flop, ratio_limits[c.id] * summary(res, c.id, "onnxruntime"), c.threads)
            L.append(f"| {c.title} (T={c.threads}) | {flop / 1e9:.2f} | " + " | ".join(cells)
                     + f" | {need} |")
        L.append("")

    # --- where the time goes
    L += ["## Where the time goes (vecformer, 1 layer, 1×128, 2 threads)", "",
          "From `DNNL_VERBOSE=1 vecformer bench` (one per round): oneDNN's execution time of every "
          "matmul in a forward, summed, against the same run's median total per forward. Everything that "
          "is not a oneDNN matmul (embedding, attention scores / softmax / context in the xsimd kernels, "
          "layer norms, residual adds, OpenMP fork/join, output copy) is the rest.", ""]
    breakdown = time_breakdown(rep, used)
    if breakdown:
        vr = breakdown["runs"]
        total, mm, share = breakdown["total_ms"], breakdown["matmul_ms"], breakdown["matmul_shares"]
        L += ["| Part | ms per forward | share |", "|---|---:|---:|"]
        for s in breakdown["shapes"]:
            ms = s["ms"]
            L.append(f"| matmul {s['desc']} ×{s['calls']} ({matmul_flop(s['desc']) * s['calls'] / (ms / 1000) / 1e9:.0f} "
                     f"GFLOP/s) | {ms:.2f} | {ms / total:.0%} |")
        share_text = f"{med(share):.0%}" + (f" ({min(share):.0%}–{max(share):.0%})" if len(share) > 1 else "")
        L += [f"| **all oneDNN matmuls** | **{mm:.2f}** | **{share_text}** |",
              f"| rest | {breakdown['rest_ms']:.2f} | {breakdown['rest_share']:.0%} |",
              f"| total (median of the DNNL_VERBOSE runs) | {total:.2f} | 100% |", "",
              f"oneDNN primitive kinds executed per forward: {', '.join(vr[-1]['kinds'])} "
              f"({vr[-1]['primitives_per_forward']} executions); {vr[-1]['timed_forwards']} timed forwards "
              f"per run. The same case without verbose output: {summary(res, 'layer_1x128', 'vecformer'):.2f} "
              "ms (main table).", ""]
    else:
        L += ["| Part | ms per forward | share |", "|---|---:|---:|",
              "| all oneDNN matmuls | not measured | – |", "| rest | not measured | – |",
              "| total | not measured | – |", ""]
        if rep["dnnl_verbose"]:
            L += [f"(DNNL_VERBOSE parsing failed: {rep['dnnl_verbose'][0].get('error')})", ""]
    prof = rep.get("ort_profile")
    if prof and prof.get("runs"):
        runs = prof["runs"]
        tot = sum(prof["op_us"].values()) / runs / 1000
        L += ["For comparison, ONNX Runtime's own profiler on the same forward (kernel time summed by op "
              f"type over {runs} runs; kernels in the optimized graph in parentheses; the profiler adds "
              "its own overhead):", "", "| ONNX Runtime op | ms per forward | share of kernel time |",
              "|---|---:|---:|"]
        for op, us in sorted(prof["op_us"].items(), key=lambda kv: -kv[1]):
            ms = us / runs / 1000
            if ms / tot < 0.005:
                continue
            L.append(f"| {op} ({prof['kernels'].get(op, 0)}) | {ms:.2f} | {ms / tot:.0%} |")
        L += [f"| all kernels | {tot:.2f} | 100% |", "",
              "Optimized graph: " + ", ".join(f"{k} ×{v}" for k, v in sorted(prof["kernels"].items())) + ".", ""]

    # --- before and after
    L += before_after(rep, cases, baseline_path, rel)

    # --- correctness
    L += [f"## {CORRECTNESS_SECTION}", "",
          "Before timing, `vecformer run` (optimized backend, 2 threads) on four sequences of lengths "
          f"{rep['checks'][0]['lengths']} against the PyTorch module (padded batch with mask), ONNX Runtime "
          "(same padded batch) and tools/make_checkpoint.py's float64 `reference_forward`; max abs error "
          f"over real tokens, limit {TOLERANCE:g}:", "",
          "| Model | vecformer–PyTorch | vecformer–ORT | ORT–PyTorch | vecformer–f64 | PyTorch–f64 | "
          "ORT–f64 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for c in rep["checks"]:
        L.append(f"| {c['layers']} layer{'s' if c['layers'] > 1 else ''} | " + " | ".join(
            f"{c[k]:.1e}" for k in ("vecformer_vs_pytorch", "vecformer_vs_ort", "ort_vs_pytorch",
                                    "vecformer_vs_f64", "pytorch_vs_f64", "ort_vs_f64")) + " |")
    L.append("")
    if any("dtypes" in c for c in rep["checks"]):
        L += ["bf16 and int8: `vecformer run --dtype bf16|int8` on the same sequences against vecformer's "
              "fp32 output above: the max abs difference over real tokens, and the cosine between the "
              "mean-pooled vectors (mean over each sequence's real tokens), the lowest over the sequences. "
              "Limits from the issue: bf16 max abs ≤ 5e-2 and cosine ≥ 0.999; int8 cosine ≥ 0.99.", "",
              "| Model | dtype | max abs vs fp32 | pooled cosine vs fp32 (worst sequence) |",
              "|---|---|---:|---:|"]
        for c in rep["checks"]:
            for dtype, a in c.get("dtypes", {}).items():
                model = f"{c['layers']} layer{'s' if c['layers'] > 1 else ''}"
                if "error" in a:
                    L.append(f"| {model} | {dtype} | not measured ({a['error']}) | – |")
                else:
                    L.append(f"| {model} | {dtype} | {a['max_abs']:.1e} | {a['pooled_cosine']:.6f} |")
        L.append("")

    # --- memory, load time, allocations
    L += [f"## {MEMORY_SECTION}", ""]
    m_rss = rep.get("peak_rss") or {}
    if "ratio" in m_rss:
        L += [f"Peak RSS: {m_rss['peak_rss_bytes'] / 2**20:.0f} MiB for `vecformer run` on the 12-layer "
              f"model (fp32, {m_rss['threads']} threads, one sequence of {m_rss['tokens']} tokens, a fresh "
              "process; ru_maxrss of the child from getrusage(RUSAGE_CHILDREN) in a wrapper process "
              f"whose only child it is), {m_rss['ratio']:.2f} × the {m_rss['model_bytes'] / 2**20:.0f} MiB "
              "model.safetensors (limit 1.25 ×). RSS counts the mapped file's pages while they are resident "
              "as well as the prepared weights.", ""]
    else:
        L += ["Peak RSS: not measured" + (f" ({m_rss['error']})." if "error" in m_rss else "."), ""]
    loads = [x for x in res.get("bert12_1x128", {}).get("vecformer", []) if "load_ms" in x]
    if loads:
        first = [x["first_call_ms"] for x in loads if "first_call_ms" in x]
        L += [f"Load time of the 12-layer model (`Model::load`: safetensors mapped and validated, weights "
              "converted to the backend's layout; `load_ms` of `vecformer bench --json`, every bert12_1x128 "
              f"measurement of the rounds used): {ratio_text([x['load_ms'] for x in loads], '{:.0f}')} ms "
              "(limit 1000 ms)."
              + (" By phase (`load_open_ms`, `load_read_ms`, `load_prepare_ms`: files opened and "
                 "validated, tensors read out of the mapping with the NaN/Inf check, backend weight "
                 "reorders): " + ", ".join(
                     ratio_text([x[k] for x in loads], '{:.0f}') + " ms"
                     for k in ("load_open_ms", "load_read_ms", "load_prepare_ms")) + "."
                 if all("load_read_ms" in x for x in loads) else "")
              + (f" The first encode after it, which creates the oneDNN primitives (`first_call_ms`): "
                 f"{ratio_text(first, '{:.1f}')} ms; later calls take the case's median time, "
                 f"{summary(res, 'bert12_1x128', 'vecformer'):.1f} ms." if first else ""), ""]
    else:
        L += ["Load time of the 12-layer model: not measured (no bert12_1x128 case in this run, or a "
              "`vecformer bench` without `load_ms`).", ""]
    alloc = rep.get("allocations") or {}
    if alloc.get("sections"):
        L += [f"Allocations per forward in steady state: `{alloc['test']} -s` (tests/allocation; a small "
              "random 3-layer model, five forwards counted after two warm-up calls, malloc replaced and "
              "every allocation attributed by its call stack). Allocations outside oneDNN must be zero; "
              "oneDNN 2.x copies each execution's arguments into a map, so its own small allocations are "
              "counted apart"
              + (f"; the test exited with status {alloc['exit_status']}" if alloc.get("exit_status") else "")
              + ":", "",
              "| dtype | threads | allocations outside oneDNN | oneDNN's own | oneDNN executions | "
              "oneDNN's per execution |", "|---|---:|---:|---:|---:|---:|"]
        for x in alloc["sections"]:
            per = f"{x['onednn'] / x['executions']:.1f}" if x.get("executions") else "–"
            onednn = x["onednn"] if x.get("onednn") is not None else "–"
            L.append(f"| {x['dtype']} | {x['threads']} | {x['ours']} | {onednn} | "
                     f"{x['executions'] or '–'} | {per} |")
        L.append("")
    else:
        L += ["Allocations per forward: not measured"
              + (f" ({alloc['error']})." if "error" in alloc else "."), ""]

    # --- method
    L += ["## What runs", "",
          "- **Weights**: `/usr/bin/python3 tools/make_checkpoint.py DIR --hidden 768 --heads 12 "
          "--intermediate 3072 --layers L --vocab 30522 --max-positions 512 --seed 1` (L = 1 and 12): "
          "random BERT-base-sized weights, float32, in the Hugging Face layout. All three engines load "
          "these files.",
          "- **vecformer**: `build/vecformer bench --model DIR --batch B --seq S --threads T --json --iters N"
          " [--padding-fraction 0.5]`, a fresh process per measurement (load time excluded; the command "
          "warms up, then takes the median).",
          "- **PyTorch**: bench/peers/torch_bert.py, a float32 `nn.Module` mirroring Hugging Face's "
          "BertModel (embeddings + layers, additive mask), `torch.inference_mode()`, "
          "`torch.set_num_threads(T)`, one long-lived worker process. Debian's python3-torch calls the "
          "generic BLAS interface, whose default Debian provider is the reference BLAS; the worker gets "
          "OpenBLAS (Debian's libopenblas0-openmp, unpacked into the cache and put first on "
          "LD_LIBRARY_PATH for that process only, the system's alternatives untouched). See the matmul "
          "table for what the default would cost.",
          f"- **ONNX Runtime**: the same module exported with `torch.onnx.export` (opset 12, dynamic batch "
          "and sequence axes, inputs input_ids and attention_mask; opset 12 because ORT's in-session "
          "attention fusion matches opset ≤ 11 Unsqueeze/Softmax nodes only), run by onnxruntime-node "
          "(CPU execution provider, graph optimization level all, intra-op threads T, inter-op 1, "
          "sequential) in one long-lived Node worker; the timing loop (warm-up, N timed `session.run` "
          "calls, median) runs inside Node.",
          "- **bf16 / int8**: the same `vecformer bench` command with `--dtype bf16` or `--dtype int8` "
          "(bfloat16 GEMMs; 8-bit weights and per-token 8-bit inputs), with ONNX Runtime in fp32 on the "
          "same inputs right beside it as the reference of the bf16 / int8 targets.",
          "- Inputs: random token ids; batch 1 and the full 8×128 batch have no padding (mask all ones).",
          "- Once per run, after the rounds: peak RSS of a fresh `vecformer run` on the 12-layer model, "
          "the allocation-counting test, and the FMA peak (bench/bench_peak.cpp).",
          ""]

    # --- machine and versions
    L += ["## Machine", "",
          f"- CPU: {m['model_name']}, {m['cpus']} logical CPUs ({m['sockets']} socket × {m['cores_per_socket']} "
          f"cores × {m['threads_per_core']} thread{'s' if m['threads_per_core'] != '1' else ''})"
          + (f", {m['hypervisor']} guest" if m["hypervisor"] else ""),
          f"- Caches: L1d {m['l1d']}, L2 {m['l2']}, L3 {m['l3']}; memory {m['memory_gib']} GiB",
          f"- Flags of note present: {', '.join(m['flags_present']) or 'none'}; absent: "
          f"{', '.join(m['flags_absent']) or 'none'}",
          f"- OS: Debian {m['debian']}, Linux {m['kernel']}",
          f"- Load average (1, 5, 15 min) at start: {rep['load_start']}; at end: {rep['load_end']} "
          "(other work shares this machine)", "",
          "## Versions", ""]
    for k, v in rep["versions"].items():
        L.append(f"- {k}: {v}")
    L.append(f"- vecformer source: {git_text(rep['git'])}")
    L += ["", f"Raw measurements: [{rel(os.path.join(results_dir, 'results.json'))}]"
          f"({rel(os.path.join(results_dir, 'results.json'))}).", ""]
    with open(doc_path, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    sys.exit(main())
