#!/usr/bin/env bash
# The README's first command: a small control point (Lok Ma Chau, one lane
# each way) through a scripted morning (scenarios/demo-morning.yaml), with the
# real lane runtime and the real central on one simulated clock. Prints what
# each lane showed as it happened and writes both boards of a lane as PNG at
# every moment the script checks them (into demo-screens/, or $1).
# With a display server (DISPLAY or WAYLAND_DISPLAY set) both lanes' boards
# show side by side in one window instead, paced so that a person can watch
# (WINDOW=0 keeps it off).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh demo
echo "Building lanesim (the first build takes a few minutes)..."
swift build --product lanesim -q
bin="$(swift build --show-bin-path)/lanesim"
pictures=${1:-demo-screens}

args=(run scenarios/demo-morning.yaml --narrate)
if [ "${WINDOW:-1}" = 1 ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    args+=(--window --pace 1500ms)
else
    rm -rf "$pictures"
    args+=(--pictures "$pictures")
fi
"$bin" "${args[@]}"
if [ -d "$pictures" ]; then
    echo
    echo "The boards at each check are in $pictures/ ($(ls "$pictures" | wc -l) pictures), e.g.:"
    ls "$pictures" | head -6 | sed 's/^/  /'
fi
