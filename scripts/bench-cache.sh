#!/usr/bin/env bash
# Builds CacheBench in release mode and runs it: a push of N active bundles
# (default 10,000, two CCRNs each) split and encoded at central, then staged
# and installed in a lane's journal, beside bare SQLite writing the same rows
# in the same transactions. Figures are printed, not asserted: not a test.
#   scripts/bench-cache.sh 50000
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${CACHE_BENCH_SCRATCH:-.build-bench-cache}
swift build -c release --scratch-path "$scratch" --product CacheBench
exec "$scratch/release/CacheBench" "$@"
