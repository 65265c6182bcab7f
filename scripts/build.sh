#!/usr/bin/env bash
# Configures and builds vecformer (Release) into build/. Extra arguments go to the CMake configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the build's own packages: scripts/test.sh installs the test tools before calling this.
./scripts/install-deps.sh --build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
