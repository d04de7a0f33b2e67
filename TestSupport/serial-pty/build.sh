#!/usr/bin/env bash
# Builds the serial-pty LD_PRELOAD shim and prints the path of the .so.
# Usage: TestSupport/serial-pty/build.sh [OUTPUT.so]
# Default output: .build/serial-pty/libserial_pty_shim.so in the package.
# Exits 69 when there is no C compiler (see ../build-shim.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
package=$(cd "$here/../.." && pwd)
exec "$here/../build-shim.sh" serial-pty "$here/serial_pty_shim.c" "${1:-$package/.build/serial-pty/libserial_pty_shim.so}" "$0"
