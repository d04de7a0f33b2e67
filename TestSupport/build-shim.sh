#!/usr/bin/env bash
# Builds one of the test-support LD_PRELOAD shims and prints the path of the .so.
# Usage: TestSupport/build-shim.sh NAME SOURCE.c OUTPUT.so [SCRIPT]
#   NAME names the shim in messages; SCRIPT (the caller's build.sh) also makes
#   the output stale when it changes.
# Exits 69 (EX_UNAVAILABLE) when there is no C compiler, so that callers can
# tell "this machine cannot" from "the shim does not compile".
set -euo pipefail
name=${1:?name}
source_file=${2:?source}
out=${3:?output}
caller=${4:-$0}

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
    echo "$name: no C compiler (cc, gcc, clang or the Swift toolchain's clang)" >&2
    exit 69
fi

mkdir -p "$(dirname "$out")"
# Up to date: nothing to do (tests call this once per run; scripts on every launch).
if [ "$out" -nt "$source_file" ] && [ "$out" -nt "$0" ] && [ "$out" -nt "$caller" ]; then
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
