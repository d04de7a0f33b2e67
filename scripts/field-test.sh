#!/usr/bin/env bash
# Field tests: laned inside a real Linux kernel (qemu, TCG) with a gpio-sim
# GPIO chip and an emulated 16550 UART, linked to clearanced on the host.
# Installs what it needs from Debian when missing (sudo when not root), then
# runs field/runner.py, which builds, caches under .build/field/, boots the VM
# and runs the tests. Exits with their result; prints SKIP and exits 0 only
# where qemu cannot run at all. See docs/field-tests.md.
#
# Usage: scripts/field-test.sh [--clearanced PATH] [--keep] [--kvm]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build

# The kernel, its headers and its sources come as one set from the archive's
# metapackages (same Debian version), so the module builds against the
# kernel that boots.
want=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-source-6.1 busybox-static
    cpio gcc make libc6-dev xz-utils python3 gpiod libgpiod-dev fonts-noto-cjk tzdata)
missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "field-test: installing ${missing[*]}" >&2
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${SUDO[@]}" apt-get update -qq &&
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
        echo "field-test: could not install ${missing[*]}" >&2
    fi
fi

# The only skip: no qemu that runs. Everything after this fails loudly.
if ! qemu-system-x86_64 --version >/dev/null 2>&1; then
    echo "field-test: SKIP: qemu-system-x86_64 cannot run on this machine (not installable here)"
    exit 0
fi

exec python3 field/runner.py "$@"
