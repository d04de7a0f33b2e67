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

# What cannot be installed shows below as a skip (no qemu) or a failure.
scripts/install-deps.sh field || echo "field-test: could not install every package it needs" >&2

# The only skip: no qemu that runs. Everything after this fails loudly.
if ! qemu-system-x86_64 --version >/dev/null 2>&1; then
    echo "field-test: SKIP: qemu-system-x86_64 cannot run on this machine (not installable here)"
    exit 0
fi

exec python3 field/runner.py "$@"
