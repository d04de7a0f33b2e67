#!/usr/bin/env bash
# Installs the Debian packages LaneKiosk needs, only those missing.
# Usage: scripts/install-deps.sh [build|test|demo|field|load|postgres|campaign]
# Uses sudo when not root. The Swift toolchain itself is not a Debian
# package; it must be on PATH (see README).
set -euo pipefail

want=(pkg-config libsqlite3-dev libgpiod-dev gpiod libserialport-dev libsdl2-dev libsdl2-ttf-dev libpng-dev
    fonts-noto-cjk libxml2-dev curl ca-certificates)
case "${1:-build}" in
test) want+=(socat libxml2-utils python3 python3-venv python3-pip jq systemd chromium chromium-driver strace) ;;
demo) want+=(jq) ;;
# scripts/test-under-load.sh: the Swift tests with every core busy.
load) want+=(stress-ng) ;;
# scripts/with-postgres.sh: a throwaway PostgreSQL 15 cluster (issue 16).
postgres) want+=(postgresql-15 postgresql-client-15 python3) ;;
# scripts/fault-campaign: PostgreSQL, and hosts made of network namespaces (issue 17).
campaign) want+=(postgresql-15 postgresql-client-15 python3 iproute2 util-linux coreutils) ;;
# The field tests' VM: the kernel, its headers and its sources come as one set
# from the archive's metapackages (same Debian version), so the gpio-sim
# module builds against the kernel that boots.
field) want+=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 linux-source-6.1 busybox-static
    cpio gcc make libc6-dev xz-utils python3 gpiod libgpiod-dev fonts-noto-cjk tzdata) ;;
build) ;;
*) echo "usage: $0 [build|test|demo|field|load|postgres|campaign]" >&2; exit 64 ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}" >&2
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: no 'swift' on PATH. Install the Swift 6.3 toolchain for Debian 12" \
        "(swift.org, 'Installing Swift'), put its usr/bin on PATH, and run this again." >&2
    exit 69
fi
