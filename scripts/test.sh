#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test with ctest (the release build,
# including 30 s of each fuzz target), then the same suite built with AddressSanitizer +
# UndefinedBehaviorSanitizer (scripts/sanitize.sh; docs/RELIABILITY.md).
#   ./scripts/test.sh                release suite, then ASan + UBSan      (what CI runs)
#   ./scripts/test.sh --sanitize     ... then ThreadSanitizer as well
#   ./scripts/test.sh --no-sanitize  the release suite only
# Any other arguments go to every ctest run (e.g. -R wordpiece).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=(asan-ubsan)
ctest_args=()
for arg in "$@"; do
  case $arg in
    --sanitize) sanitizers=(asan-ubsan tsan) ;;
    --no-sanitize) sanitizers=() ;;
    *) ctest_args+=("$arg") ;;
  esac
done
# Everything the suite needs (build.sh itself installs only the --build set), and --fuzz: clang and
# the libFuzzer runtime, for the fuzz targets the suite runs.
./scripts/install-deps.sh --fuzz
./scripts/build.sh
# Tests run one at a time: several use every core and the parity scripts time nothing but run models.
ctest --test-dir build --output-on-failure "${ctest_args[@]}"
if ((${#sanitizers[@]} > 0)); then
  ./scripts/sanitize.sh "${sanitizers[@]}" -- "${ctest_args[@]}"
fi
