#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan) into build-fuzz/ and runs each for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 60 s each, every target
#   targets: safetensors config token_input tokenizer tokenizer_json bpe unigram precompiled
#   SECONDS 0: only replay the seeds and the saved corpus once (a quick regression check).
#
# Each target starts from its committed seeds (fuzz/corpus/TARGET, never written to) and the inputs
# earlier runs found (build-fuzz/corpus/TARGET, where new ones are added), with its dictionary
# (fuzz/dict). A summary line per target gives executions, exec/s, coverage (libFuzzer's cov: edges
# and ft: features) and corpus size; full logs are in build-fuzz/logs/. A crash, leak, timeout
# (> 10 s for one input) or out-of-memory (> 2 GB) fails the run: the reproducer is saved under
# build-fuzz/artifacts/TARGET/ and the command that replays it is printed.
#
# FUZZ_BUILD_DIR=DIR builds and keeps corpus, logs and artifacts there instead of build-fuzz/.
# Exit status: 0 all clean, 1 a target failed (or bad arguments), 77 no clang (ctest: skipped).
# Needs clang-14 and libclang-rt-14-dev (scripts/install-deps.sh --fuzz installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ALL_TARGETS=(safetensors config token_input tokenizer tokenizer_json bpe unigram precompiled)
# Longest input per target: room for a few-kB model file or tokenizer.json, and texts long enough
# for super-linear behaviour to show up as a slow unit.
declare -A MAX_LEN=([safetensors]=8192 [config]=4096 [token_input]=4096 [tokenizer]=4096
                    [tokenizer_json]=8192 [bpe]=4096 [unigram]=4096 [precompiled]=4096)
# Dictionaries: JSON syntax for the JSON readers, then each target's own keys and values.
declare -A DICTS=([safetensors]="json safetensors" [config]="json config" [token_input]="json token_input"
                  [tokenizer]="tokenizer" [tokenizer_json]="json tokenizer_json" [bpe]="models"
                  [unigram]="models" [precompiled]="models")

seconds=60
if (($# > 0)) && [[ $1 =~ ^[0-9]+$ ]]; then
  # Base 10 even with leading zeros.
  seconds=$((10#$1))
  shift
fi
targets=("$@")
((${#targets[@]} > 0)) || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  if [[ -z ${MAX_LEN[$t]+set} ]]; then
    echo "fuzz.sh: unknown target '$t' (targets: ${ALL_TARGETS[*]})" >&2
    exit 1
  fi
done

CXX_FUZZ=${CXX_FUZZ:-}
if [[ -z $CXX_FUZZ ]]; then
  for candidate in clang++-14 clang++; do
    if command -v "$candidate" >/dev/null; then
      CXX_FUZZ=$candidate
      break
    fi
  done
fi
if [[ -z $CXX_FUZZ ]]; then
  echo "fuzz.sh: SKIPPED: no clang++ (run scripts/install-deps.sh --fuzz)" >&2
  exit 77
fi

# FUZZ_BUILD_DIR: another build folder, e.g. for a long campaign that must not see rebuilds.
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
# Symbolized stack traces in reports (llvm-14 package; without it, addresses only).
for symbolizer in /usr/lib/llvm-14/bin/llvm-symbolizer "$(command -v llvm-symbolizer || true)"; do
  if [[ -x $symbolizer ]]; then
    export ASAN_SYMBOLIZER_PATH=$symbolizer
    break
  fi
done
mkdir -p "$BUILD"
# One build at a time when several runs start together (ctest -j).
exec 9>"$BUILD/.build.lock"
flock 9
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S fuzz -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_FUZZ" >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >"$BUILD/build.log" 2>&1 || {
  cat "$BUILD/build.log" >&2
  echo "fuzz.sh: build failed" >&2
  exit 1
}
flock -u 9

printf '%-15s %8s %12s %9s %7s %7s %8s  %s\n' target seconds executions exec/s cov ft corpus result
failed=0
for t in "${targets[@]}"; do
  corpus=$BUILD/corpus/$t
  artifacts=$BUILD/artifacts/$t
  log=$BUILD/logs/$t.log
  dict=$BUILD/$t.dict
  mkdir -p "$corpus" "$artifacts" "$BUILD/logs"
  : >"$dict"
  for d in ${DICTS[$t]}; do cat "fuzz/dict/$d.dict" >>"$dict"; done

  # libFuzzer's -max_total_time=0 means no limit; SECONDS 0 means one pass over the corpus.
  if ((seconds > 0)); then limit=(-max_total_time="$seconds"); else limit=(-runs=0); fi
  status=0
  # -use_value_profile: comparisons guide the search (header lengths, offsets, limits).
  # Leak detection is on (libFuzzer's default): a leak is a failure like a crash.
  # A 256 kB stack (ulimit -s, this subshell only): recursion that would need megabytes of stack on
  # a 100 MB input (nlohmann's dump() of deeply nested JSON did) overflows already on the few-kB
  # inputs the fuzzer makes.
  (
    ulimit -s 256
    UBSAN_OPTIONS=print_stacktrace=1 exec "$BUILD/fuzz_$t" "${limit[@]}" -max_len="${MAX_LEN[$t]}" \
      -timeout=10 -rss_limit_mb=2048 -use_value_profile=1 -dict="$dict" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "fuzz/corpus/$t"
  ) >"$log" 2>&1 || status=$?

  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  units=$(find "$corpus" -type f | wc -l)
  result=ok
  if ((status != 0)); then
    result="FAILED (exit $status)"
    failed=1
  fi
  printf '%-15s %8s %12s %9s %7s %7s %8s  %s\n' "$t" "$seconds" "${executions:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$units" "$result"
  if ((status != 0)); then
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written|deadly signal|==[0-9]+==' "$log" | head -20 >&2
    echo "--- last lines of $log:" >&2
    tail -40 "$log" >&2
    for artifact in "$artifacts"/*; do
      [[ -e $artifact ]] || continue
      echo "reproduce: $BUILD/fuzz_$t $artifact" >&2
    done
  fi
done
exit "$failed"
