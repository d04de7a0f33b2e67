#!/usr/bin/env bash
# Fuzzes the lane link's frame decoder and message codec with libFuzzer for a
# bounded time. Exits non-zero when the fuzzer finds a crash (its input is
# left as crash-* in the work directory) or a build fails.
#
#   scripts/fuzz-link.sh [SECONDS]        default 60
#
# Environment: FUZZ_WORK (default .build-fuzz/work) holds the corpus and any crash
# inputs; FUZZ_JOBS (default 1) runs that many fuzzing processes;
# FUZZ_ARGS adds libFuzzer options.
#
# LinkFuzz is built with -sanitize=fuzzer -DLINK_FUZZ in its own scratch
# path (every Swift module gets coverage instrumentation). SwiftPM renames an
# executable's entry point to LinkFuzz_main and links main to it; libFuzzer
# links its own main whole-archive, which the renamed one overrides, so the
# fuzz build defines LinkFuzz_main to run LLVMFuzzerRunDriver, and
# -parse-as-library keeps Swift from emitting a main. Without these flags the
# same target is a plain program that only writes the seed corpus, so the
# package's normal build is unaffected. Both builds take `seeds DIR`.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${FUZZ_WORK:-$root/.build-fuzz/work}"
jobs="${FUZZ_JOBS:-1}"
cd "$root"

echo "== building the fuzzer (-sanitize=fuzzer)"
swift build -c debug --scratch-path .build-fuzz --product LinkFuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DLINK_FUZZ 2>&1 | tail -n 3
fuzzer="$root/.build-fuzz/debug/LinkFuzz"

echo "== fuzzing for ${seconds}s"
mkdir -p "$work/corpus" "$work/seeds"
cd "$work"
# Fork mode (-jobs) only when asked: it moves the output into fuzz-N.log.
parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
# Swift's own backtracer would catch the crash signal first; off, libFuzzer
# reports the crash, writes its input and exits non-zero.
status=0
"$fuzzer" seeds "$work/seeds"
SWIFT_BACKTRACE=enable=no "$fuzzer" corpus seeds \
    -max_total_time="$seconds" -max_len=9000 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "${parallel[@]}" ${FUZZ_ARGS:-} || status=$?

if [ "$status" -ne 0 ]; then
    echo "== fuzzer FAILED (exit $status); inputs: $(ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | tr '\n' ' ')"
    exit "$status"
fi
echo "== no crash in ${seconds}s; corpus: $(ls "$work/corpus" | wc -l) inputs in $work/corpus"
