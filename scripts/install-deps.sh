#!/usr/bin/env bash
# Installs every Debian package that the build, the tests, the demo and the parity checks need.
# (ocl-icd-opencl-dev: Debian's oneDNN CMake package requires OpenCL because its GPU runtime is OCL.)
# Idempotent: runs `apt-get update` and `apt-get install` only when something is missing.
#   --fuzz   also what scripts/fuzz.sh needs: clang and its libFuzzer / sanitizer runtimes, and
#            llvm-symbolizer for readable stack traces (scripts/test.sh passes it: CI fuzzes).
#   --tsan   also LLVM's OpenMP runtime and its Archer tool, which the ThreadSanitizer suite runs
#            OpenMP with (scripts/sanitize.sh tsan). Otherwise the GCC sanitizers need nothing
#            more: libasan, libubsan and libtsan come with g++.
set -euo pipefail

PACKAGES=(
  cmake g++ make pkg-config
  libdnnl-dev ocl-icd-opencl-dev libxsimd-dev
  catch2 libbenchmark-dev nlohmann-json3-dev libcli11-dev
  python3-torch python3-numpy
  chromium  # tests/cli/test_explain.py renders `vecformer explain`'s HTML page headless (~30 s)
)
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev llvm-14)
TSAN_PACKAGES=(libomp-14-dev)

for arg in "$@"; do
  case $arg in
    --fuzz) PACKAGES+=("${FUZZ_PACKAGES[@]}") ;;
    --tsan) PACKAGES+=("${TSAN_PACKAGES[@]}") ;;
    *)
      echo "install-deps.sh: unknown argument '$arg' (known: --fuzz, --tsan)" >&2
      exit 2
      ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
