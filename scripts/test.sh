#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
# Tests run one at a time: several use every core and the parity scripts time nothing but run models.
ctest --test-dir build --output-on-failure "$@"
