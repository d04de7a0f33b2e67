#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL 15 cluster: initdb into a
# temporary directory as the unprivileged `postgres` user (the server
# refuses to run as root), listening on 127.0.0.1 at a free port and on a
# Unix socket in that directory, with a role and database `lanekiosk` whose
# password is in a file. The cluster is stopped and deleted when the command
# ends, however it ends.
#
# Usage: scripts/with-postgres.sh -- COMMAND [ARG...]
#        scripts/with-postgres.sh --self-test
# The command sees:
#   LANEKIOSK_TEST_POSTGRES_URL            postgres://lanekiosk@127.0.0.1:PORT/lanekiosk (no password)
#   LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE  the password, one line
#   LANEKIOSK_TEST_POSTGRES_SOCKET_DIR     the Unix socket's directory
# Exits with the command's status; 1 when the cluster cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."

self_test=false
case "${1:-}" in
--) shift ;;
--self-test) self_test=true; shift ;;
*) echo "usage: $0 -- COMMAND [ARG...] | --self-test" >&2; exit 64 ;;
esac
if ! $self_test && (($# == 0)); then echo "usage: $0 -- COMMAND [ARG...]" >&2; exit 64; fi

scripts/install-deps.sh postgres
bin=/usr/lib/postgresql/15/bin
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then as_postgres=(runuser -u postgres --); fi

dir=$(mktemp -d /tmp/lanekiosk-pg.XXXXXX)
chmod 755 "$dir"
[ ${#as_postgres[@]} -eq 0 ] || chown postgres: "$dir"
data=$dir/data
password_file=$dir/password
stop() {
    "${as_postgres[@]}" "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT

# A free loopback port, released again for the server to take.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$password_file"
chmod 644 "$password_file"

"${as_postgres[@]}" "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# -w: pg_ctl returns once the server accepts connections (or fails), no guessing.
# max_connections: the Swift tests run in parallel, each PostgreSQL store
# with its own pool (a two-node race test alone holds 16), and the default
# 100 ran out once on CI ("remaining connection slots are reserved").
if ! "${as_postgres[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=400" start >/dev/null; then
    echo "with-postgres: the server did not start; its log:" >&2
    cat "$dir/server.log" >&2
    exit 1
fi
"${as_postgres[@]}" "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE lanekiosk LOGIN CREATEDB PASSWORD '$(cat "$password_file")'" \
    -c "CREATE DATABASE lanekiosk OWNER lanekiosk" >/dev/null

export LANEKIOSK_TEST_POSTGRES_URL="postgres://lanekiosk@127.0.0.1:$port/lanekiosk"
export LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE=$password_file
export LANEKIOSK_TEST_POSTGRES_SOCKET_DIR=$dir
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (cluster $data)" >&2

if ! $self_test; then
    set +e
    "$@"
    status=$?
    set -e
    exit "$status"
fi

# The self-test: the role logs in over TCP with its password (scram), writes
# and reads back a row; a wrong password is refused; after the stop nothing
# is left and the port is closed.
PGPASSWORD=$(cat "$password_file") psql "$LANEKIOSK_TEST_POSTGRES_URL" -v ON_ERROR_STOP=1 -qtA \
    -c "CREATE TABLE t (v text)" -c "INSERT INTO t VALUES ('lane')" -c "SELECT v FROM t" >"$dir/out"
[ "$(cat "$dir/out")" = lane ] || { echo "with-postgres self-test: read back '$(cat "$dir/out")'" >&2; exit 1; }
if PGPASSWORD=wrong psql "$LANEKIOSK_TEST_POSTGRES_URL" -qtA -c "SELECT 1" >/dev/null 2>&1; then
    echo "with-postgres self-test: a wrong password was accepted" >&2
    exit 1
fi
stop
trap - EXIT
if [ -e "$dir" ]; then echo "with-postgres self-test: $dir is still there" >&2; exit 1; fi
if python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
    echo "with-postgres self-test: port $port still answers after the stop" >&2
    exit 1
fi
echo "with-postgres self-test: login with the password, a row written and read, a wrong password refused, cluster gone"
