#!/usr/bin/env bash
# Property-based fuzzing of clearanced's HTTP API, driven by docs/openapi.yaml
# (schemathesis). Starts a real clearanced on loopback with a fresh store and
# one account per role, then runs a bounded number of cases per operation with
# each role's token. Fails on any server error or any response that breaks the
# document.
#
# The server runs with the lane link on (one lane key, no lane connected), so
# the routes that send to lanes answer 202 and queue in the lane's outbox.
#
# Environment: FUZZ_EXAMPLES (cases per operation, default 40), FUZZ_SEED;
# SCRATCH_PATH (SwiftPM scratch directory to build in, default .build);
# CLEARANCED (an already built clearanced to use instead of building one).
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=${SCRATCH_PATH:-.build}
venv=$scratch/fuzz-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis==4.32.5'
fi

if [ -n "${CLEARANCED:-}" ]; then
    bin=$CLEARANCED
else
    swift build --scratch-path "$scratch" --product clearanced -q
    bin="$(swift build --scratch-path "$scratch" --show-bin-path)/clearanced"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

db="$work/central.sqlite"
token() { "$bin" account add --db "$db" --name "$1" --role "$2" | tail -n 1; }
officer=$(token fuzz-officer officer)
shipper=$(token fuzz-shipper shipper)
agent=$(token fuzz-agent agent)
driver=$(token fuzz-driver driver)
immigration=$(token fuzz-immigration immigration)
keys="$work/keys"
mkdir -m 700 "$keys"
"$bin" lane add --db "$db" --id LMC-IN-01 --control-point LMC --direction import --keys-dir "$keys" >/dev/null

"$bin" serve --db "$db" --host 127.0.0.1 --port 0 --simulated-clock --start 2026-11-26T09:00:00+08:00 \
    --link-port 0 --link-keys "$keys" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 1 100); do
    grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; echo "clearanced exited" >&2; exit 1; }
    sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$work/stdout" | head -n 1)
[ -n "$addr" ] || { echo "clearanced did not report its address" >&2; exit 1; }

examples=${FUZZ_EXAMPLES:-40}
seed=${FUZZ_SEED:-20261126}
status=0
run() { # role token path-regex
    echo "-- schemathesis as $1 on $3"
    "$venv/bin/schemathesis" run docs/openapi.yaml --url "http://$addr" \
        -H "Authorization: Bearer $2" --include-path-regex "$3" \
        --max-examples "$examples" --seed "$seed" --workers 1 --no-color \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
        --suppress-health-check all --generation-database none || status=1
}
run shipper "$shipper" '^/v1/consignments'
run agent "$agent" '^/v1/consignments'
run driver "$driver" '^/v1/bundles'
run officer "$officer" '^/v1/(decisions|watchlist|lanes|clock|health)'
run immigration "$immigration" '^/v1/lanes'

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "clearanced died during fuzzing:" >&2
    tail -n 40 "$work/stderr" >&2
    status=1
fi
exit $status
