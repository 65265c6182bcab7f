#!/usr/bin/env bash
# vecformer against PyTorch and ONNX Runtime on the same weights and shapes; writes docs/PERFORMANCE.md,
# SVG plots and results.json (bench/peers/results/). One command, about 10 minutes on 2 cores:
#
#   bench/peers/run_peers.sh                 # 5 interleaved rounds of every case
#   bench/peers/run_peers.sh --rounds 7      # options go to bench/peers/peers.py; --help lists them
#   bench/peers/run_peers.sh --rounds 1 --iters-scale 0.3 --doc /tmp/PERF.md --results-dir /tmp/r  # smoke
#   bench/peers/run_peers.sh --heads         # task heads: vecformer and ONNX Runtime's exported task
#                                            # models (bench/peers/heads_peers.py; options go to it)
#   bench/peers/run_peers.sh --modern        # ModernBERT-base and nomic-embed shapes against ONNX Runtime,
#                                            # sequence-length curve to 8192 and peak RSS
#                                            # (bench/peers/modern_peers.py; options go to it)
#
# Installs what is missing, without touching the system's BLAS choice:
#   - Debian packages of the build and of PyTorch: scripts/install-deps.sh
#   - Node.js + npm from Debian when no `node` is on PATH
#   - OpenBLAS for PyTorch: Debian's libopenblas0-openmp, fetched with `apt-get download` and unpacked
#     into the cache (used through LD_LIBRARY_PATH by the PyTorch worker only)
#   - onnxruntime-node@1.30.0 from npm with --ignore-scripts into the cache (its CPU library ships in the
#     package; the install script only fetches GPU parts)
# Cache: $VECFORMER_PEERS_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/vecformer-peers (models, ONNX files,
# OpenBLAS, node_modules). vecformer itself: build/vecformer, built with scripts/build.sh when missing;
# VECFORMER_BIN picks another binary.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exec /usr/bin/python3 "$ROOT/bench/peers/peers.py" --help
fi
CACHE=${VECFORMER_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vecformer-peers}
ORT_VERSION=1.30.0
OPENBLAS_PACKAGE=libopenblas0-openmp
mkdir -p "$CACHE"

say() { echo "[run_peers] $*" >&2; }
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

"$ROOT/scripts/install-deps.sh"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing nodejs and npm (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# OpenBLAS for the PyTorch worker, unpacked rather than installed: installing it would switch every
# program's libblas.so.3 on this machine.
OPENBLAS_ROOT="$CACHE/openblas"
OPENBLAS_DIR="$OPENBLAS_ROOT/usr/lib/x86_64-linux-gnu/openblas-openmp"
if [[ ! -e "$OPENBLAS_DIR/libblas.so.3" ]]; then
  say "fetching $OPENBLAS_PACKAGE (apt-get download) into $OPENBLAS_ROOT"
  debs="$CACHE/debs"
  mkdir -p "$debs"
  chmod a+rwx "$debs"  # apt's _apt user downloads into it
  if ! (cd "$debs" && apt-get download -q "$OPENBLAS_PACKAGE" 2>/dev/null); then
    $SUDO apt-get update -qq
    (cd "$debs" && apt-get download -q "$OPENBLAS_PACKAGE")
  fi
  rm -rf "$OPENBLAS_ROOT"
  dpkg-deb -x "$(ls -t "$debs"/${OPENBLAS_PACKAGE}_*.deb | head -1)" "$OPENBLAS_ROOT"
fi
OPENBLAS_VERSION=$(dpkg-deb -f "$(ls -t "$CACHE"/debs/${OPENBLAS_PACKAGE}_*.deb | head -1)" Version)

ORT_PREFIX="$CACHE/ort"
ORT_MODULE="$ORT_PREFIX/node_modules/onnxruntime-node"
installed=$(node -p "try { require('$ORT_MODULE/package.json').version } catch (e) { '' }")
if [[ "$installed" != "$ORT_VERSION" ]]; then
  say "installing onnxruntime-node@$ORT_VERSION (npm, --ignore-scripts) into $ORT_PREFIX"
  mkdir -p "$ORT_PREFIX"
  [[ -f "$ORT_PREFIX/package.json" ]] || echo '{"private": true}' >"$ORT_PREFIX/package.json"
  (cd "$ORT_PREFIX" && npm install --ignore-scripts --no-audit --no-fund --save-exact \
    "onnxruntime-node@$ORT_VERSION" >/dev/null)
fi

BIN=${VECFORMER_BIN:-$ROOT/build/vecformer}
if [[ ! -x "$BIN" ]]; then
  say "building vecformer (scripts/build.sh)"
  "$ROOT/scripts/build.sh"
fi

if [[ "${1:-}" == "--heads" ]]; then
  shift
  exec /usr/bin/python3 "$ROOT/bench/peers/heads_peers.py" --binary "$BIN" --cache "$CACHE" \
    --ort-module "$ORT_MODULE" "$@"
fi

if [[ "${1:-}" == "--modern" ]]; then
  shift
  exec /usr/bin/python3 "$ROOT/bench/peers/modern_peers.py" --binary "$BIN" --cache "$CACHE" \
    --ort-module "$ORT_MODULE" "$@"
fi

COMMAND="bench/peers/run_peers.sh${*:+ $*}"
exec /usr/bin/python3 "$ROOT/bench/peers/peers.py" --binary "$BIN" --cache "$CACHE" \
  --ort-module "$ORT_MODULE" --openblas-dir "$OPENBLAS_DIR" --openblas-version "$OPENBLAS_VERSION" \
  --command "$COMMAND" "$@"
