#!/usr/bin/env bash
# Builds DisplayBench in release mode and runs it: render + present time of
# every screen on both boards (median, p95, ratio to a 60 Hz frame) beside a
# one-colour frame presented the same way in the same run. Arguments go to
# the benchmark, e.g.
#   scripts/bench-displays.sh --frames 300
#   scripts/bench-displays.sh --headless
# Without a display server SDL's offscreen driver is used (software
# rendering); on a kiosk run it with SDL_VIDEODRIVER=KMSDRM to measure the
# real path. Figures are printed, not asserted: this is not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${DISPLAY_BENCH_SCRATCH:-.build-bench-displays}
if [ -z "${SDL_VIDEODRIVER:-}" ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    export SDL_VIDEODRIVER=offscreen
    # laned keeps SDL off Mesa under offscreen (docs/displays.md); the
    # benchmark's figures were taken with Mesa's OpenGL renderer, so it asks
    # for it here (environment variables win over laned's hints).
    export SDL_RENDER_DRIVER=${SDL_RENDER_DRIVER:-opengl} SDL_FRAMEBUFFER_ACCELERATION=${SDL_FRAMEBUFFER_ACCELERATION:-1}
fi
swift build -c release --scratch-path "$scratch" --product DisplayBench
exec "$scratch/release/DisplayBench" "$@"
