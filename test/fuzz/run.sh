#!/usr/bin/env bash
# A bounded fuzz session over the core's open and query paths (test/fuzz/fuzz_index.cpp):
#
#   npm run fuzz -- [--seconds N] [--build DIR] [--driver]
#
# Builds DIR (default build/sanitize: AddressSanitizer + UndefinedBehaviorSanitizer, with clang when it is
# installed) if needed, generates the seed corpus (fuzz_seeds), then runs libFuzzer's fuzz_index when it
# was built (clang) or the standalone fuzz_index_driver (any compiler, or --driver) for N seconds
# (default 60). The corpus grows in DIR/fuzz-corpus; a finding is saved in DIR/fuzz-crashes and the
# command fails. Prints "fuzz: ..." with the runs made.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=60
build=build/sanitize
engine=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --driver) engine=driver; shift ;;
    *) echo "usage: npm run fuzz -- [--seconds N] [--build DIR] [--driver]" >&2; exit 2 ;;
  esac
done

if [ ! -x "$build/fuzz_index_driver" ] || [ "${TRACEINDEX_FUZZ_REBUILD:-1}" = 1 ]; then
  bash test/sanitize.sh --build-only --build "$build"
fi

seeds="$build/fuzz-seeds"
corpus="$build/fuzz-corpus"
crashes="$build/fuzz-crashes"
rm -rf "$seeds"
mkdir -p "$corpus" "$crashes"
"$build/fuzz_seeds" "$seeds"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
start=$(date +%s)
if [ "$engine" = auto ] && [ -x "$build/fuzz_index" ]; then
  echo "fuzz: libFuzzer ($build/fuzz_index) for ${seconds} s"
  log="$build/fuzz.log"
  # -rss_limit_mb (also the malloc limit): a hostile file must not make the reader allocate without bound.
  # libFuzzer exits 0 only when the time ran out without a finding.
  if ! "$build/fuzz_index" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "$seeds" >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz: FAILED (the input is in $crashes)"
    exit 1
  fi
  grep -E '^(INFO: seed corpus|#[0-9]+ +(INITED|DONE))|^Done|stat::number_of_executed_units|stat::peak_rss_mb' "$log" || true
else
  echo "fuzz: standalone driver ($build/fuzz_index_driver) for ${seconds} s"
  "$build/fuzz_index_driver" --seconds "$seconds" --crash-dir "$crashes" "$seeds" "$corpus" || {
    echo "fuzz: FAILED (the input is in $crashes)"; exit 1; }
fi
echo "fuzz: passed in $(( $(date +%s) - start )) s"
