#!/usr/bin/env bash
# Checks the systemd units and udev rules as CI can, without installing them:
#
# 1. `systemd-analyze verify` on laned@.service (as instance laned@LMC-IN-01)
#    and clearanced.service. verify insists that ExecStart's binary exists,
#    and these name /usr/local/bin/laned and /usr/local/bin/clearanced, which
#    a build host does not have. So the check runs with --root on a temporary
#    root: the host's own systemd units (for the targets the units name),
#    the real /usr/bin/kill (ExecReload), and empty stand-in scripts at
#    /usr/local/bin/{laned,clearanced}. What this proves is that the files
#    parse and every key and value is one this systemd accepts; not that the
#    binaries start (the laned and clearanced tests do that). verify prints
#    problems as warnings and still exits 0, so any output fails the check.
# 2. `systemd-analyze security --offline=yes` on laned@LMC-IN-01 and
#    clearanced.service: fails when either is above 2.0 (the issue's bar);
#    then that clearanced.service keeps Type=notify, WatchdogSec=,
#    LimitNOFILE=65536 and a Restart= that covers the watchdog.
# 3. The udev rules: `udevadm verify` where this systemd has it (254 and
#    later); Debian 12 has 252, so there a syntax check of udev(7)'s grammar
#    (scripts/check-udev-rules.py) runs instead, and says so.
#
# Needs only Debian packages: systemd (for systemd-analyze) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

threshold=2.0
lane=LMC-IN-01
status=0

command -v systemd-analyze >/dev/null || {
    echo "check-units: systemd-analyze is missing; run scripts/install-deps.sh test" >&2
    exit 69
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd" "$root/usr/bin" "$root/usr/local/bin"
ln -s usr/lib "$root/lib"
ln -s usr/bin "$root/bin"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp /usr/bin/kill "$root/usr/bin/kill"
for binary in laned clearanced; do
    printf '#!/bin/sh\n# stand-in for check-units.sh: verify only needs the file to exist\nexit 0\n' \
        >"$root/usr/local/bin/$binary"
    chmod 0755 "$root/usr/local/bin/$binary"
done
cp systemd/laned@.service systemd/clearanced.service "$root/etc/systemd/system/"

echo "-- systemd-analyze verify ($(systemd-analyze --version | head -n 1))"
for unit in "laned@$lane.service" clearanced.service; do
    if out=$(systemd-analyze verify --man=no --root="$root" "$unit" 2>&1) && [ -z "$out" ]; then
        echo "$unit: verified"
    else
        printf '%s\n' "$out" | sed "s|$root||g" >&2
        echo "$unit: systemd-analyze verify found problems" >&2
        status=1
    fi
done

echo "-- systemd-analyze security --offline=yes"
score() { # unit -> the overall exposure, e.g. 1.6
    systemd-analyze security --offline=yes --no-pager --root="$root" "$1" 2>&1 |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p'
}
for unit in "laned@$lane.service" clearanced.service; do
    got=$(score "$unit")
    if [ -z "$got" ]; then
        echo "$unit: systemd-analyze security printed no score" >&2
        systemd-analyze security --offline=yes --no-pager --root="$root" "$unit" >&2 || true
        status=1
        continue
    fi
    if awk -v s="$got" -v t="$threshold" 'BEGIN { exit !(s > t) }'; then
        echo "$unit: exposure $got, above the limit $threshold" >&2
        systemd-analyze security --offline=yes --no-pager --root="$root" "$unit" 2>&1 | sed "s|$root||g" | grep "✗" >&2 || true
        status=1
    else
        echo "$unit: exposure $got (limit $threshold)"
    fi
done

# clearanced's liveness contract (docs/threads.md): systemd waits for READY=1,
# restarts it when WATCHDOG=1 stops, and gives it descriptors for every lane
# and client. A unit that lost one of these would still verify.
echo "-- clearanced.service: notify, watchdog, descriptors"
for want in '^Type=notify$' '^WatchdogSec=[1-9][0-9]*s$' '^LimitNOFILE=65536$' '^Restart=on-(failure|watchdog|abnormal)$'; do
    if grep -Eq "$want" systemd/clearanced.service; then
        echo "clearanced.service: has ${want//[\^$]/}"
    else
        echo "clearanced.service: no line matching $want" >&2
        status=1
    fi
done

echo "-- udev rules"
if udevadm verify --help >/dev/null 2>&1; then
    udevadm verify --resolve-names=never udev/*.rules || status=1
else
    echo "udevadm verify is not in this systemd ($(systemd-analyze --version | head -n 1 | cut -d' ' -f2));" \
        "checking udev(7) syntax with scripts/check-udev-rules.py instead"
    python3 scripts/check-udev-rules.py udev/*.rules || status=1
fi

exit $status
