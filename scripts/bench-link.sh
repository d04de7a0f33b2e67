#!/usr/bin/env bash
# Builds LinkBench in release mode and runs it: request/response latency over
# loopback TCP (median, p99) for a bare NIO baseline and for each layer of the
# link beside it, with the ratio. Arguments go to the benchmark, e.g.
#   scripts/bench-link.sh --iterations 50000 --sizes 64,512
# Figures are printed, not asserted: this is not a test. Run it on a quiet
# machine; other load shows up in p99 first.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${LINK_BENCH_SCRATCH:-.build-bench-link}
swift build -c release --scratch-path "$scratch" --product LinkBench
exec "$scratch/release/LinkBench" "$@"
