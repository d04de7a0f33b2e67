#!/usr/bin/env bash
# The HTTP API walk: starts clearanced on loopback with a fresh store,
# a demo lane and one account per role, then walks through what a shipper, a
# driver and a lane do: submit a consignment, bundle it, and ask for the lane's
# decision 29 min 59 s and 30 min 0 s after bundling. Prints each step.
#
# KEEP=1 leaves the server running afterwards (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh demo
echo "Building clearanced (the first build takes a few minutes)..."
swift build --product clearanced -q
bin="$(swift build --show-bin-path)/clearanced"

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

db="$work/central.sqlite"
"$bin" lane add --db "$db" --id LMC-IN-01 --control-point LMC --direction import >/dev/null
shipper=$("$bin" account add --db "$db" --name winning-co --role shipper | tail -n 1)
driver=$("$bin" account add --db "$db" --name driver-ho --role driver | tail -n 1)
officer=$("$bin" account add --db "$db" --name officer-li --role officer | tail -n 1)

# Random selection off (both rates 0) so the walk is the same every time.
"$bin" serve --db "$db" --port 0 --simulated-clock --start 2026-11-26T09:00:00+08:00 --laden-rate 0 --unladen-rate 0 \
    >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 1 100); do
    grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
done
api="http://$(sed -n 's/^listening on //p' "$work/stdout" | head -n 1)"
echo "clearanced is listening on $api (simulated clock at 2026-11-26 09:00:00 Hong Kong time)"

call() { # token method path [body]
    local args=(-s -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json')
    [ $# -ge 4 ] && args+=(-d "$4")
    curl "${args[@]}" "$api$3"
}
step() { printf '\n\033[1m%s\033[0m\n' "$*"; }

step "1. Winning Co (shipper) submits a consignment of copper buttons, expected 2026-11-28"
c=$(call "$shipper" POST /v1/consignments '{
  "direction": "import", "expectedDate": "2026-11-28",
  "consignor": {"name": "Fu Wing Co Ltd", "countryCode": "CN", "addressLines": ["Flat E, Shek Lung Tsuen", "Shenzhen"]},
  "consignee": {"name": "Winning Co Ltd", "countryCode": "HK", "addressLines": ["Flat D, 22/F", "333 Nathan Road, Mong Kok", "Kowloon"]},
  "goodsItems": [{"description": "Copper Button", "grossWeight": {"value": 550, "unit": "KGM"}}],
  "expectedControlPoint": "LMC", "sealNumber": "38448"}')
echo "$c" | jq '{ccrn, validUntil, status}'
ccrn=$(echo "$c" | jq -r .ccrn)

step "2. Driver Ho bundles CCRN $ccrn with vehicle VRN0912"
b=$(call "$driver" POST /v1/bundles "{\"driverName\": \"Ho Wa Ping\", \"vrn\": \"VRN 0912\", \"direction\": \"import\", \"ccrns\": [\"$ccrn\"]}")
echo "$b" | jq '{ubr, vrn, completedAt, earliestCrossing}'

decide() {
    call "$officer" POST /v1/decisions/dry-run '{"laneId": "LMC-IN-01", "vrn": "VRN0912", "unladen": false}' |
        jq -c '{instruction, reason, earliestCrossing} | with_entries(select(.value != null))'
}
step "3. The truck reaches inbound lane LMC-IN-01 29 min 59 s after bundling"
call "$officer" POST /v1/clock/advance '{"seconds": 1799}' | jq -r '"   clock: " + .now'
decide

step "4. The same truck one second later, 30 min 0 s after bundling"
call "$officer" POST /v1/clock/advance '{"seconds": 1}' | jq -r '"   clock: " + .now'
decide

step "5. An unladen truck presses Unladen Vehicle at the lane"
call "$officer" POST /v1/decisions/dry-run '{"laneId": "LMC-IN-01", "vrn": "AB1234", "unladen": true}' |
    jq -c '{instruction, reason}'

step "6. A mistyped CCRN is refused before any lookup, naming the field"
call "$driver" POST /v1/bundles '{"driverName": "Ho Wa Ping", "vrn": "XY88", "direction": "import", "ccrns": ["1234567890"]}' | jq .

if [ "${KEEP:-0}" = 1 ]; then
    printf '\nclearanced keeps running on %s; officer token: %s\nCtrl-C stops it.\n' "$api" "$officer"
    wait "$server_pid"
fi
