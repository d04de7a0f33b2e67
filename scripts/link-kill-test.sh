#!/usr/bin/env bash
# The lane link's kill test, with real processes: clearanced and linkprobe
# exchange N decisions while both are killed with SIGKILL and restarted in the
# middle of traffic (the probe three times at random points, central once, on
# the same store and port). At the end the store must hold exactly N crossings
# with N distinct request ids, and the probe must hold a decision for each.
#
# Usage: scripts/link-kill-test.sh [--serial] [--requests N] [--build-path DIR] [--no-build]
#   --serial      run the link over a socat pty pair through the real
#                 libserialport (scripts/with-pty-serial.sh) instead of TCP
#   --requests N  decision requests in total (default 300)
#   --build-path  SwiftPM scratch path (default .build)
#   --no-build    use the binaries already built there
# Prints "link-kill-test: P passed, F failed" and exits non-zero on any failure.
set -euo pipefail
package=$(cd "$(dirname "$0")/.." && pwd)
cd "$package"

serial=0 requests=300 build_path=.build build=1
while [ $# -gt 0 ]; do
    case $1 in
    --serial) serial=1; shift ;;
    --requests) requests=${2:?--requests needs a number}; shift 2 ;;
    --build-path) build_path=${2:?--build-path needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "link-kill-test: unknown argument $1 (see --help)" >&2; exit 64 ;;
    esac
done

if [ "$build" = 1 ]; then
    swift build --scratch-path "$build_path" --product clearanced -q
    swift build --scratch-path "$build_path" --product linkprobe -q
fi
bin=$(swift build --scratch-path "$build_path" --show-bin-path)

# The serial variant runs itself again inside a pty pair, with the shim that
# lets libserialport open ptys preloaded for every child.
if [ "$serial" = 1 ] && [ -z "${SERIAL_PTY_A:-}" ]; then
    exec scripts/with-pty-serial.sh -- "$0" --serial --requests "$requests" --build-path "$build_path" --no-build
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/link-kill-test.XXXXXX")
central_pid='' probe_pid=''
cleanup() {
    # Only the processes this script started, by pid.
    for pid in $central_pid $probe_pid; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${keep_work:-0}" = 1 ]; then echo "link-kill-test: logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

lane=LMC-IN-01
mkdir -m 700 "$work/keys"
"$bin/clearanced" lane add --db "$work/central.db" --id "$lane" --control-point LMC --direction import \
    --keys-dir "$work/keys" >"$work/provision.log"
key="$work/keys/$lane.key"

link_port=0
# Starts central on the store; on the first start with --link-port 0 it learns
# the port, and every restart binds the same one, as the lanes expect.
start_central() {
    local args=(serve --db "$work/central.db" --port 0 --link-keys "$work/keys" --laden-rate 0 --unladen-rate 0)
    if [ "$serial" = 1 ]; then args+=(--link-serial "$SERIAL_PTY_A"); else args+=(--link-port "$link_port"); fi
    : >"$work/central.out"
    "$bin/clearanced" "${args[@]}" >"$work/central.out" 2>>"$work/central.err" &
    central_pid=$!
    for _ in $(seq 1 100); do
        grep -q '^listening on ' "$work/central.out" && { [ "$serial" = 1 ] || grep -q '^link listening on ' "$work/central.out"; } && break
        sleep 0.1
    done
    if [ "$serial" = 0 ] && [ "$link_port" = 0 ]; then
        link_port=$(sed -n 's/^link listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/central.out")
        [ -n "$link_port" ] || { keep_work=1; echo "link-kill-test: central did not start its link" >&2; exit 1; }
    fi
}

start_probe() {
    local line
    if [ "$serial" = 1 ]; then line=(--serial "$SERIAL_PTY_B"); else line=(--tcp "127.0.0.1:$link_port"); fi
    "$bin/linkprobe" --lane "$lane" --key "$key" "${line[@]}" --outbox "$work/probe.db" \
        --requests "$requests" --rate 30 --timeout 120 >>"$work/probe.out" 2>>"$work/probe.err" &
    probe_pid=$!
}

# A random pause of 0.5 to 2 s: kills land at different points of the traffic.
pause() { sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + 1.5 * r / 32767 }')"; }

start_central
start_probe
for round in 1 2 3; do
    pause
    kill -9 "$probe_pid" 2>/dev/null || true
    wait "$probe_pid" 2>/dev/null || true
    echo "link-kill-test: killed the probe (round $round)"
    start_probe
    if [ "$round" = 2 ]; then
        # Central dies while the probe is sending: decisions it recorded but
        # the probe never acknowledged must come back from its reply outbox,
        # and requests sent meanwhile wait in the probe's outbox.
        pause
        kill -9 "$central_pid" 2>/dev/null || true
        wait "$central_pid" 2>/dev/null || true
        echo "link-kill-test: killed central"
        pause
        start_central
        echo "link-kill-test: restarted central"
    fi
done
probe_status=0
wait "$probe_pid" || probe_status=$?
probe_pid=''

passed=0 failed=0
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)); echo "ok   $1"
    else
        failed=$((failed + 1)); echo "FAIL $1: expected $2, got $3"
    fi
}
check "probe exits 0 with every decision" 0 "$probe_status"
q() { sqlite3 "$work/central.db" "$1"; }
check "crossings recorded" "$requests" "$(q 'SELECT count(*) FROM crossings')"
check "distinct request ids" "$requests" "$(q 'SELECT count(DISTINCT request_id) FROM crossings')"
expected_ids=$(seq 1 "$requests" | sed "s/^/link:$lane:/" | sort | sha256sum)
check "request ids are 1..N" "$expected_ids" "$(q 'SELECT request_id FROM crossings' | sort | sha256sum)"
check "decisions the probe holds" "$requests" "$(sqlite3 "$work/probe.db" 'SELECT count(*) FROM probe_decisions')"
check "probe decisions match crossings" "$requests" "$(
    sqlite3 "$work/probe.db" "ATTACH '$work/central.db' AS c;
        SELECT count(*) FROM probe_decisions p JOIN c.crossings x
        ON x.request_id = 'link:$lane:' || p.request_id AND x.id = p.decision_id AND x.instruction = p.instruction")"
check "probe outbox drained" 0 "$(sqlite3 "$work/probe.db" 'SELECT count(*) FROM link_outbox')"
tail -1 "$work/probe.out"

transport=tcp
[ "$serial" = 1 ] && transport=serial
echo "link-kill-test ($transport, $requests requests): $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then keep_work=1; exit 1; fi
