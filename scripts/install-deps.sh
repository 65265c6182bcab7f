#!/usr/bin/env bash
# Installs every Debian package that the build, the tests, the demo and the parity checks need.
# (ocl-icd-opencl-dev: Debian's oneDNN CMake package requires OpenCL because its GPU runtime is OCL.)
# Idempotent: runs `apt-get update` and `apt-get install` only when something is missing.
set -euo pipefail

PACKAGES=(
  cmake g++ make pkg-config
  libdnnl-dev ocl-icd-opencl-dev libxsimd-dev
  catch2 libbenchmark-dev nlohmann-json3-dev libcli11-dev
  python3-torch python3-numpy
)

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
