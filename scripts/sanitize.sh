#!/usr/bin/env bash
# Builds and runs the whole test suite (ctest) under sanitizers, one CMakePresets.json preset at a time:
#
#   scripts/sanitize.sh [PRESET...] [-- CTEST_ARGS...]
#     asan-ubsan  AddressSanitizer + UndefinedBehaviorSanitizer, build-asan/   (default: both presets)
#     tsan        ThreadSanitizer, build-tsan/
#
# The environment each suite runs with (ASAN_OPTIONS, TSAN_OPTIONS, ...) is the preset's test
# environment; docs/RELIABILITY.md explains every setting. Any sanitizer report fails its test.
#
# TSan and OpenMP: GCC's libgomp is not instrumented, so TSan cannot see the synchronization at the
# start and end of a parallel region and reports every hand-over of data to the team as a race
# (66 reports in one small test). For the tsan suite the OpenMP runtime is therefore LLVM's libomp,
# which implements libgomp's ABI (tests/reliability/tsan-openmp/libgomp.so.1 is a link to it, found
# through the preset's LD_LIBRARY_PATH), with its Archer tool (OMP_TOOL_LIBRARIES), which reports
# OpenMP's barriers, reductions and locks to TSan: real races inside parallel regions are still
# found, and nothing is suppressed.
set -euo pipefail
cd "$(dirname "$0")/.."

presets=()
while (($# > 0)) && [[ $1 != -- ]]; do
  case $1 in
    asan-ubsan | tsan) presets+=("$1") ;;
    *)
      echo "sanitize.sh: unknown preset '$1' (presets: asan-ubsan tsan)" >&2
      exit 2
      ;;
  esac
  shift
done
[[ ${1:-} == -- ]] && shift
((${#presets[@]} > 0)) || presets=(asan-ubsan tsan)

deps=()
[[ " ${presets[*]} " == *" tsan "* ]] && deps=(--tsan)
./scripts/install-deps.sh "${deps[@]}"
for preset in "${presets[@]}"; do
  echo "== sanitize.sh: $preset" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$(nproc)"
  if [[ $preset == tsan && ! -e tests/reliability/tsan-openmp/libgomp.so.1 ]]; then
    # Without it the suite would run on GCC's libgomp and fail on false reports.
    echo "sanitize.sh: tests/reliability/tsan-openmp/libgomp.so.1 does not resolve to LLVM's" \
      "libomp (/usr/lib/llvm-14/lib/libomp.so.5, package libomp5-14)" >&2
    exit 1
  fi
  runner=()
  # GCC 12's ThreadSanitizer cannot map its shadow memory on kernels with more ASLR entropy than it
  # knows (vm.mmap_rnd_bits = 32: "unexpected memory mapping"); without address randomization it
  # always can. setarch -R turns it off for ctest and the tests it starts, where that is allowed.
  if [[ $preset == tsan ]] && setarch "$(uname -m)" -R true 2>/dev/null; then
    runner=(setarch "$(uname -m)" -R)
  fi
  "${runner[@]}" ctest --preset "$preset" "$@"
done
