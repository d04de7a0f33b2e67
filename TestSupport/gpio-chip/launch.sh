#!/usr/bin/env bash
# Runs a command with the gpio-chip shim preloaded, so that the real libgpiod
# in it sees a GPIO chip that this kernel does not have.
# Usage: TestSupport/gpio-chip/launch.sh COMMAND [ARG...]
# The chips come from LANEKIOSK_GPIO_CHIPS ("label:lines[:name,...]" items
# separated by ';'); without it, one chip labelled lane-buttons with the
# lines below. LANEKIOSK_GPIO_CONTROL=FIFO lets you change levels from a shell
# ("level 0 0 0", "vanish 0", "restore 0"). See docs/gpio-testing.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 64
fi
# GPIO_CHIP_SHIM names another output path (a scratch directory of your own).
shim=$("$here/build.sh" ${GPIO_CHIP_SHIM:+"$GPIO_CHIP_SHIM"})
export LANEKIOSK_GPIO_CHIPS=${LANEKIOSK_GPIO_CHIPS:-lane-buttons:8:UNLADEN,HELP,EXIT_LOOP,,LAMP_UNLADEN,LAMP_HELP}
# Prepend: a preload the caller already has (a sanitizer runtime, say) keeps working.
export LD_PRELOAD=$shim${LD_PRELOAD:+:$LD_PRELOAD}
exec "$@"
