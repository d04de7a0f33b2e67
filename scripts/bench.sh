#!/usr/bin/env bash
# Builds clearance-bench in release mode and runs it; arguments go to the
# benchmark (e.g. --bundles 100000, --db /var/tmp/bench.sqlite to reuse a
# populated file between runs). Figures are printed, not asserted: this is
# not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-bench
swift build -c release --scratch-path "$scratch" --product clearance-bench
exec "$scratch/release/clearance-bench" "$@"
