#!/usr/bin/env bash
# Counts the syncs (fsync/fdatasync) per commit of central's store under
# strace: a real clearanced, N consignments submitted over HTTP, each one
# commit. With synchronous = FULL (docs/store.md) every commit syncs the WAL
# at least once; with GRDB's default for a pool (NORMAL) the WAL is synced
# only at checkpoints, and this fails (issue 13: 3 syncs per 30 commits).
#
# Usage: scripts/check-syncs.sh [--bin DIR] [N]   (N defaults to 20)
# Needs strace (scripts/install-deps.sh test), curl and a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=""
if [ "${1:-}" = "--bin" ]; then bin=$2; shift 2; fi
bin=${bin:-$(swift build --show-bin-path)}
n=${1:-20}
command -v strace >/dev/null || { echo "check-syncs: strace is missing; run scripts/install-deps.sh test" >&2; exit 69; }

work=$(mktemp -d)
server=""
cleanup() {
    # $server is strace; stopping strace would leave clearanced running, so
    # stop its child, clearanced, and strace ends with it.
    if [ -n "$server" ]; then
        pkill -TERM -P "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

db="$work/central.sqlite"
shipper=$("$bin/clearanced" account add --db "$db" --name winning-co --role shipper | tail -n 1)
strace -f -qq -e trace=fsync,fdatasync -o "$work/syncs" \
    "$bin/clearanced" serve --db "$db" --port 0 --simulated-clock --start 2026-11-26T09:00:00+08:00 \
    >"$work/stdout" 2>"$work/stderr" &
server=$!
for _ in $(seq 1 600); do
    grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
done
api="http://$(sed -n 's/^listening on //p' "$work/stdout" | head -n 1)"
[ "$api" != "http://" ] || { echo "check-syncs: clearanced did not listen within 60 s" >&2; exit 1; }

syncs() { grep -cE '(fsync|fdatasync)\(' "$work/syncs" || true; }
before=$(syncs)
for i in $(seq 1 "$n"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $shipper" \
        -H 'Content-Type: application/json' "$api/v1/consignments" -d "{
  \"direction\": \"import\", \"expectedDate\": \"2026-11-28\",
  \"consignor\": {\"name\": \"Fu Wing Co Ltd\", \"countryCode\": \"CN\", \"addressLines\": [\"Shenzhen\"]},
  \"consignee\": {\"name\": \"Winning Co Ltd\", \"countryCode\": \"HK\", \"addressLines\": [\"Kowloon\"]},
  \"goodsItems\": [{\"description\": \"Copper Button $i\", \"grossWeight\": {\"value\": 550, \"unit\": \"KGM\"}}],
  \"expectedControlPoint\": \"LMC\", \"sealNumber\": \"3844$i\"}")
    [ "$code" = 201 ] || { echo "check-syncs: submission $i answered $code" >&2; cat "$work/stderr" >&2; exit 1; }
done
# Each 201 came after its commit returned, so its syncs are already in the trace.
after=$(syncs)
got=$((after - before))
echo "check-syncs: $got syncs for $n commits of central's store ($(awk -v g="$got" -v n="$n" 'BEGIN { printf "%.2f", g / n }') per commit)"
if [ "$got" -lt "$n" ]; then
    echo "check-syncs: fewer syncs than commits: a power cut could lose committed consignments (docs/store.md)" >&2
    exit 1
fi
