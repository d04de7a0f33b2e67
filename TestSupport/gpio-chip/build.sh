#!/usr/bin/env bash
# Builds the gpio-chip LD_PRELOAD shim (a GPIO chip for the real libgpiod) and prints the path of the .so.
# Usage: TestSupport/gpio-chip/build.sh [OUTPUT.so]
# Default output: .build/gpio-chip/libgpio_chip_shim.so in the package.
# Exits 69 (EX_UNAVAILABLE) when there is no C compiler, so that callers can
# tell "this machine cannot" from "the shim does not compile".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_file=$here/gpio_chip_shim.c
package=$(cd "$here/../.." && pwd)
out=${1:-$package/.build/gpio-chip/libgpio_chip_shim.so}

# cc first (Debian's gcc); else the clang that every Swift toolchain ships,
# which is there wherever `swift build` works.
compiler=${CC:-}
if [ -z "$compiler" ]; then
    for candidate in cc gcc clang; do
        if command -v "$candidate" >/dev/null 2>&1; then compiler=$candidate; break; fi
    done
fi
if [ -z "$compiler" ] && command -v swift >/dev/null 2>&1; then
    toolchain_clang=$(dirname "$(readlink -f "$(command -v swift)")")/clang
    if [ -x "$toolchain_clang" ]; then compiler=$toolchain_clang; fi
fi
if [ -z "$compiler" ]; then
    echo "gpio-chip: no C compiler (cc, gcc, clang or the Swift toolchain's clang)" >&2
    exit 69
fi

mkdir -p "$(dirname "$out")"
# Up to date: nothing to do (tests call this once per run; scripts on every launch).
if [ "$out" -nt "$source_file" ] && [ "$out" -nt "$0" ]; then
    echo "$out"
    exit 0
fi
# Build beside the target and rename, so that a concurrent run never preloads a
# half-written file.
tmp=$out.$$.tmp
trap 'rm -f "$tmp"' EXIT
"$compiler" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$tmp" "$source_file" -ldl -lpthread
mv -f "$tmp" "$out"
echo "$out"
