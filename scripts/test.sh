#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds,
# fuzzes the HTTP API against its OpenAPI document, checks formatting, then
# runs every Swift test. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test

# SDL renders headless in tests; no display server is needed.
export SDL_VIDEODRIVER=offscreen
# Tests must not depend on the host's zone: everything is Hong Kong time at the
# edges, and UTC inside makes a zone bug show.
export TZ=UTC

echo "== build"
swift build --build-tests 2>&1 | grep -v -E '^\[[0-9]+/[0-9]+\]' || { echo "build failed" >&2; exit 1; }
# grep above may hide the real exit status of swift build; build again quietly to be sure.
swift build --build-tests -q

echo "== format"
if out=$(swift format lint --strict --recursive Sources Tests Package.swift 2>&1) && [ -z "$out" ]; then
    echo "swift format: clean"
else
    printf '%s\n' "$out" | head -40
    echo "swift format lint found problems; run: swift format -i -r Sources Tests Package.swift" >&2
    exit 1
fi

echo "== API fuzzing (schemathesis against a live clearanced)"
scripts/api-fuzz.sh

echo "== link kill tests (real clearanced and linkprobe processes, SIGKILL mid-traffic)"
scripts/link-kill-test.sh --no-build
scripts/link-kill-test.sh --serial --no-build

echo "== lane kill test (laned and clearanced processes, 1000 passages, SIGKILL at random points)"
python3 scripts/lane-kill-test.py --bin "$(swift build --show-bin-path)"

echo "== lanesim scenarios (every clearance rule and lane state, real lanes and central on a simulated clock)"
"$(swift build --show-bin-path)/lanesim" run scenarios/*.yaml --junit .build/lanesim-junit.xml
# The same over pty serial lines, through the real libserialport at both ends.
scripts/with-pty-serial.sh -- "$(swift build --show-bin-path)/lanesim" run --serial scenarios/*.yaml

echo "== officers' console in headless Chromium (real clearanced and laned; help call, phrase, override)"
python3 scripts/console-browser-test.py --bin "$(swift build --show-bin-path)"

# Strangers at clearanced's HTTP door, bounded counts (issue 13).
echo "== HTTP door (414/431, 40 log-ins, 12 parallel guesses, name spraying during trucks, 1,100 idle connections)"
python3 scripts/http-door-test.py --bin "$(swift build --show-bin-path)"

echo "== field tests (laned in Debian's kernel under qemu: gpio-sim chip, 16550 UART to clearanced; docs/field-tests.md)"
scripts/field-test.sh --clearanced "$(swift build --show-bin-path)/clearanced"

echo "== units"
scripts/check-units.sh

# No blocking on the cooperative pool, liveness, durability (issue 13).
echo "== blocking calls (no synchronous GRDB call outside scripts/blocking-allowlist.txt; the check's own fixtures)"
scripts/check-blocking.sh --self-test
scripts/check-blocking.sh
echo "== watchdog (a clearanced with a frozen store stops pinging, is killed and restarted; harness plays systemd)"
python3 scripts/watchdog-test.py --bin "$(swift build --show-bin-path)"
echo "== syncs per commit (strace: central's store syncs every commit, 20 commits)"
scripts/check-syncs.sh --bin "$(swift build --show-bin-path)" 20

# One bundle, one crossing (issue 14).
echo "== race test (two laned and clearanced, then two clearanced on one store: 200 rounds each, one CLEARED per bundle)"
python3 scripts/race-test.py --bin "$(swift build --show-bin-path)" --rounds 200
echo "== consistency test (clearanced and three laned: offline crossings reconciled, offline conflict, debundle reaching an offline lane, Unladen while pending and after SYSTEM_UNAVAILABLE, the printed earliest crossing)"
python3 scripts/consistency-test.py --bin "$(swift build --show-bin-path)"

# A throwaway PostgreSQL 15 cluster as the PostgreSQL store's tests will use
# it (issue 16): started unprivileged on loopback, logged into, stopped, gone.
echo "== PostgreSQL harness (scripts/with-postgres.sh --self-test)"
scripts/with-postgres.sh --self-test

# Lane failover (issue 16): laned with two clearanced nodes of one
# PostgreSQL store, the one it is linked to killed mid-traffic.
echo "== failover test (laned with two clearanced nodes on PostgreSQL: SIGKILL and SIGSTOP of the linked node, moved within 5 s, each journaled request one crossing)"
scripts/with-postgres.sh -- python3 scripts/failover-test.py --postgres --bin "$(swift build --show-bin-path)"

# Several nodes on one database (issue 16, part 3): two clearanced on one
# PostgreSQL store (the cluster's tables in it too), two laned each linked
# to a different node.
echo "== cluster test (two clearanced nodes on PostgreSQL, two laned: the race over 200 rounds, consoles and commands across nodes, a help call answered from the other node, split brain, one clock)"
scripts/with-postgres.sh -- python3 scripts/cluster-test.py --bin "$(swift build --show-bin-path)" --rounds 200

# The PostgreSQL store from outside (issue 16, parts 1 and 7): a SQLite
# central moved with `clearanced store copy`, then served by two nodes on it.
echo "== PostgreSQL store test (store copy from SQLite, two serve --store nodes on one database)"
scripts/with-postgres.sh -- python3 scripts/pgstore-test.py --bin "$(swift build --show-bin-path)"

# A fault campaign (issue 17): PostgreSQL, two clearanced nodes and six
# laned on a simulated network of namespaces; every kind of fault once on a
# fixed seed; the checker reads the whole history (docs/faults.md).
echo "== fault campaign (4.5 min, seed 1: partitions, a noisy link, kills and stops of lanes, nodes and the database, clock steps, a full disk; zero violations)"
scripts/fault-campaign --bin "$(swift build --show-bin-path)" --minutes 4.5 --seed 1 --out .build/fault-campaign

# Every Swift test beside a throwaway PostgreSQL server: the store suite
# runs on both backends; REQUIRE turns a missing server into a failure
# rather than skipped PostgreSQL tests.
echo "== swift test (with a PostgreSQL server)"
LANEKIOSK_REQUIRE_POSTGRES=1 scripts/with-postgres.sh -- scripts/swift-tests.sh
