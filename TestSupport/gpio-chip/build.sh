#!/usr/bin/env bash
# Builds the gpio-chip LD_PRELOAD shim (a GPIO chip for the real libgpiod) and prints the path of the .so.
# Usage: TestSupport/gpio-chip/build.sh [OUTPUT.so]
# Default output: .build/gpio-chip/libgpio_chip_shim.so in the package.
# Exits 69 when there is no C compiler (see ../build-shim.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
package=$(cd "$here/../.." && pwd)
exec "$here/../build-shim.sh" gpio-chip "$here/gpio_chip_shim.c" "${1:-$package/.build/gpio-chip/libgpio_chip_shim.so}" "$0"
