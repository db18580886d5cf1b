#!/usr/bin/env bash
# The C++ tests and a bounded fuzz run under AddressSanitizer and UndefinedBehaviorSanitizer:
#
#   npm run test:sanitize [-- --fuzz-seconds N]
#
# Configures build/sanitize with -DTRACEINDEX_SANITIZE=ON (clang++ when installed, which adds the libFuzzer
# target; else the default compiler and the standalone fuzz driver), builds with -j 2, runs
# traceindex_native_tests with the randomized batteries scaled down (TRACEINDEX_TEST_SCALE=0.2), then
# test/fuzz/run.sh for N seconds (default 60). Ends with "native: N passed, N failed" over both (the fuzz
# run counts as one test), which .ci/run sums with the other runners.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build/sanitize
fuzz_seconds=60
build_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    *) echo "usage: npm run test:sanitize [-- --fuzz-seconds N]" >&2; exit 2 ;;
  esac
done

compiler=()
if [ -z "${CXX:-}" ] && command -v clang++ >/dev/null 2>&1; then
  compiler=(-DCMAKE_CXX_COMPILER=clang++)
  if command -v clang >/dev/null 2>&1; then compiler+=(-DCMAKE_C_COMPILER=clang); fi
fi
t0=$(date +%s)
cmake -S . -B "$build" -DTRACEINDEX_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "${compiler[@]}" >/dev/null || exit 1
cmake --build "$build" -j 2 || exit 1
echo "sanitize: built in $(( $(date +%s) - t0 )) s"
[ "$build_only" = 1 ] && exit 0

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
t1=$(date +%s)
log=$(mktemp)
TRACEINDEX_TEST_SCALE="${TRACEINDEX_TEST_SCALE:-0.2}" "$build/traceindex_native_tests" 2>&1 | tee "$log"
tests_rc=${PIPESTATUS[0]}
echo "sanitize: native tests in $(( $(date +%s) - t1 )) s"
line=$(grep -oE 'native: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
rm -f "$log"
passed=$(echo "${line:-native: 0 passed, 0 failed}" | sed -E 's/native: ([0-9]+) passed.*/\1/')
failed=$(echo "${line:-native: 0 passed, 0 failed}" | sed -E 's/.* ([0-9]+) failed/\1/')
# A test binary that died (a sanitizer report) printed no count: one failure.
if [ "$tests_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

if TRACEINDEX_FUZZ_REBUILD=0 bash test/fuzz/run.sh --build "$build" --seconds "$fuzz_seconds"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
echo "sanitize: total $(( $(date +%s) - t0 )) s"
echo "native: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
