#!/usr/bin/env bash
# Fails when Swift code calls GRDB synchronously outside the allow-list
# (scripts/blocking-allowlist.txt): a synchronous read or write blocks the
# thread it runs on, and on Swift concurrency's cooperative pool that starved
# clearanced for good (issue 13; docs/threads.md). Async code uses GRDB's async
# API (`try await writer.read { ... }`) or ServiceSupport's Blocking.run.
#
# What counts: `try` (not `try await`) followed by a call of read, write,
# writeWithoutTransaction, barrierWriteWithoutTransaction, unsafeRead,
# unsafeReentrantRead/Write or inDatabase on a receiver named like a
# database (writer, pool, queue, database, dbQueue, dbPool). Calls inside a
# closure GRDB already runs on its queue (`db.inTransaction`, statements)
# do not match: they are not on the pool.
#
# The debug assertion in the synchronous store entry points
# (Blocking.assertNotOnCooperativePool) catches at run time what this cannot
# see (a synchronous call reached through a helper).
#
# Usage: scripts/check-blocking.sh [DIR...]   (default: Sources)
#        scripts/check-blocking.sh --self-test (the fixtures: a bad file must
#        fail, a good one must pass)
set -euo pipefail
cd "$(dirname "$0")/.."

allowlist=scripts/blocking-allowlist.txt
pattern='\btry\??[[:space:]]+([A-Za-z_][A-Za-z_0-9]*\.)*(writer|pool|queue|database|dbQueue|dbPool)\.(read|write|writeWithoutTransaction|barrierWriteWithoutTransaction|unsafeRead|unsafeReentrantRead|unsafeReentrantWrite|inDatabase)[[:space:]]*[{(]'

# Prints each synchronous call under the given directories that no allow-list
# line covers; exits 1 if there is one.
scan() {
    local found=0 hit file text
    while IFS= read -r hit; do
        file=${hit%%:*}
        text=$(printf '%s' "${hit#*:*:}" | sed 's/^[[:space:]]*//')
        if grep -v '^#' "$allowlist" | awk -F' [|] ' -v f="$file" -v t="$text" \
            'NF >= 2 && $1 == f && index(t, $2) > 0 { ok = 1 } END { exit !ok }'; then
            continue
        fi
        echo "$hit" | sed 's/^\([^:]*:[0-9]*\):[[:space:]]*/\1: synchronous GRDB call: /'
        found=1
    done < <(grep -rnE --include='*.swift' "$pattern" "$@" | grep -vE 'try\??[[:space:]]+await' || true)
    return $found
}

if [ "${1:-}" = "--self-test" ]; then
    if out=$(scan scripts/fixtures/blocking/bad); then
        echo "check-blocking self-test: the bad fixture passed; the check is broken" >&2
        exit 1
    fi
    expected=$(grep -c 'EXPECT-FLAGGED' scripts/fixtures/blocking/bad/Bad.swift)
    got=$(printf '%s\n' "$out" | grep -c 'synchronous GRDB call')
    if [ "$got" != "$expected" ]; then
        printf '%s\n' "$out" >&2
        echo "check-blocking self-test: flagged $got calls in the bad fixture, expected $expected" >&2
        exit 1
    fi
    if ! out=$(scan scripts/fixtures/blocking/good); then
        printf '%s\n' "$out" >&2
        echo "check-blocking self-test: the good fixture was flagged" >&2
        exit 1
    fi
    echo "check-blocking self-test: bad fixture fails ($got calls), good fixture passes"
    exit 0
fi

if [ $# -eq 0 ]; then set -- Sources; fi
if scan "$@"; then
    echo "check-blocking: no synchronous GRDB call outside $allowlist"
else
    echo "check-blocking: use GRDB's async API or Blocking.run, or add the call to $allowlist with the reason (docs/threads.md)" >&2
    exit 1
fi
