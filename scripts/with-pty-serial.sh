#!/usr/bin/env bash
# A null-modem serial line made of two Linux ptys (socat), for running the lane
# link over "serial" without hardware, through the real libserialport.
#
# Usage: scripts/with-pty-serial.sh [--pairs N] [COMMAND [ARG...]]
#
# Makes N pty pairs (default 1), each pair joined by one socat like a null-modem
# cable, and exports:
#   SERIAL_PTY_A, SERIAL_PTY_B      the two ends of pair 1 (/dev/pts/N paths)
#   SERIAL_PTY_A2, SERIAL_PTY_B2    pair 2, and so on
#   SERIAL_PTY_CABLE_PIDS           socat's pid per pair, in order: kill one to
#                                   pull that cable (both ends hang up)
# then runs COMMAND with the serial-pty shim preloaded (the real libserialport
# otherwise refuses ptys) and exits with its status. Without COMMAND it prints
# the exports and waits until interrupted, for running the ends by hand under
# TestSupport/serial-pty/launch.sh. See docs/serial-testing.md.
#
# Example: scripts/with-pty-serial.sh -- sh -c \
#   'clearanced ... --serial "$SERIAL_PTY_A" & laned ... --serial "$SERIAL_PTY_B"'
set -euo pipefail
package=$(cd "$(dirname "$0")/.." && pwd)

pairs=1
while [ $# -gt 0 ]; do
    case $1 in
    --pairs) pairs=${2:?--pairs needs a number}; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) break ;;
    esac
done
case $pairs in '' | *[!0-9]* | 0) echo "with-pty-serial: --pairs wants a positive number" >&2; exit 64 ;; esac
if ! command -v socat >/dev/null 2>&1; then
    echo "with-pty-serial: socat is missing (scripts/install-deps.sh test installs it)" >&2
    exit 69
fi

shim=$("$package/TestSupport/serial-pty/build.sh" ${SERIAL_PTY_SHIM:+"$SERIAL_PTY_SHIM"})
work=$(mktemp -d "${TMPDIR:-/tmp}/with-pty-serial.XXXXXX")
started=()
cleanup() {
    # Only what this script started, by pid.
    for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cable_pids=()
for ((i = 1; i <= pairs; i++)); do
    # rawer: no echo and no line editing from the start, so bytes written before
    # a program opens its end are not echoed back or mangled.
    socat pty,rawer,link="$work/a$i" pty,rawer,link="$work/b$i" 2>"$work/socat$i.log" &
    socat_pid=$!
    started+=("$socat_pid")
    cable_pids+=("$socat_pid")
    for _ in $(seq 100); do
        [ -L "$work/a$i" ] && [ -L "$work/b$i" ] && break
        kill -0 "$socat_pid" 2>/dev/null || break
        sleep 0.05
    done
    if ! [ -L "$work/a$i" ] || ! [ -L "$work/b$i" ]; then
        echo "with-pty-serial: socat made no ptys:" >&2
        cat "$work/socat$i.log" >&2
        exit 70
    fi
    a=$(readlink "$work/a$i")
    b=$(readlink "$work/b$i")
    suffix=$([ "$i" -eq 1 ] && echo "" || echo "$i")
    export "SERIAL_PTY_A$suffix=$a" "SERIAL_PTY_B$suffix=$b"
done
export SERIAL_PTY_CABLE_PIDS="${cable_pids[*]}"

if [ $# -eq 0 ]; then
    env | grep '^SERIAL_PTY_' | sort | sed 's/^/export /'
    echo "# run each end as: TestSupport/serial-pty/launch.sh PROGRAM ... (Ctrl-C here to unplug)"
    while true; do sleep 3600; done
fi

status=0
LD_PRELOAD=$shim${LD_PRELOAD:+:$LD_PRELOAD} "$@" || status=$?
exit "$status"
