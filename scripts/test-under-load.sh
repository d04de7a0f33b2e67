#!/usr/bin/env bash
# The Swift tests on a busy machine: one CPU hog per core (stress-ng, at the
# tests' own priority) for the whole time, and the Swift test targets run
# three times in a row as scripts/test.sh runs them. Every run must pass: a
# test that waits a fixed time instead of for an event fails here first.
#
# Usage: scripts/test-under-load.sh [--runs N] [--hogs N]
#   --runs N   runs in a row (default 3)
#   --hogs N   CPU hogs (default: one per core, `nproc`)
# Logs: .build/test-under-load/run-K.log. Exits 1 at the first failed run.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
hogs=$(nproc)
while (($#)); do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --hogs) hogs=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--hogs N]" >&2; exit 64 ;;
    esac
done

scripts/install-deps.sh test
scripts/install-deps.sh load
export SDL_VIDEODRIVER=offscreen TZ=UTC

echo "== build (before the load starts)"
swift build --build-tests -q

logs=.build/test-under-load
mkdir -p "$logs"
# --cpu-method: a plain integer loop keeps each hog on its core without
# memory traffic skewing what is measured; no --timeout: it runs until we stop it.
stress-ng --cpu "$hogs" --cpu-method int64 --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null || true' EXIT
hogs_running() { pgrep -c -P "$hog" || true; }
echo "== $hogs CPU hogs started (stress-ng pid $hog) on $(nproc) cores"

for run in $(seq 1 "$runs"); do
    log="$logs/run-$run.log"
    started=$(date +%s)
    echo "== run $run of $runs (log: $log)"
    if LANEKIOSK_REQUIRE_POSTGRES=1 scripts/with-postgres.sh -- scripts/swift-tests.sh >"$log" 2>&1; then
        # The load must have lasted the whole run, not only its start.
        if [ "$(hogs_running)" -lt "$hogs" ]; then
            echo "run $run: only $(hogs_running) of $hogs CPU hogs still running; the run proves nothing" >&2
            exit 1
        fi
        echo "run $run: passed in $(($(date +%s) - started)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    else
        echo "run $run: FAILED after $(($(date +%s) - started)) s" >&2
        grep -E '✘|error:|recorded an issue' "$log" | head -40 >&2 || true
        exit 1
    fi
done
echo "test-under-load: $runs runs in a row passed with $hogs CPU hogs"
