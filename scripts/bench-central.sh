#!/usr/bin/env bash
# Central's decisions on SQLite, on PostgreSQL, and on two nodes sharing
# PostgreSQL (issue 16, part 6): builds clearance-bench in release mode in a
# scratch path of its own and runs it beside a throwaway PostgreSQL server
# (scripts/with-postgres.sh), copying the populated SQLite store there.
# Arguments go to the benchmark, e.g. --bundles 100000 --lanes 200.
# Figures are printed, never asserted: this is not a test, and not part of
# scripts/test.sh. docs/deploying-central.md, "Sizing: what was measured".
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-bench
swift build -c release --scratch-path "$scratch" --product clearance-bench
bench=$PWD/$scratch/release/clearance-bench
# shellcheck disable=SC2016  # expanded by the inner shell, once the server runs
exec scripts/with-postgres.sh -- bash -c \
    'exec "$0" --postgres "$LANEKIOSK_TEST_POSTGRES_URL" --password-file "$LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE" "$@"' \
    "$bench" "$@"
