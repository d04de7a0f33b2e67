#!/usr/bin/env bash
# Runs a command with the serial-pty shim preloaded, so that the real
# libserialport in it can open Linux pseudo-terminals (/dev/pts/N).
# Usage: TestSupport/serial-pty/launch.sh COMMAND [ARG...]
# See docs/serial-testing.md. The shim only answers what ptys refuse; on real
# serial ports the command behaves exactly as without it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 64
fi
# SERIAL_PTY_SHIM names another output path (a scratch directory of your own).
shim=$("$here/build.sh" ${SERIAL_PTY_SHIM:+"$SERIAL_PTY_SHIM"})
# Prepend: a preload the caller already has (a sanitizer runtime, say) keeps working.
export LD_PRELOAD=$shim${LD_PRELOAD:+:$LD_PRELOAD}
exec "$@"
