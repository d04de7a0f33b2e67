#!/usr/bin/env python3
"""A SQLite central moved to PostgreSQL with `clearanced store copy`, then
served by two clearanced nodes on that one store (issue 16, parts 1 and 7).

Run it beside a PostgreSQL server: scripts/with-postgres.sh -- scripts/pgstore-test.py
(it reads LANEKIOSK_TEST_POSTGRES_URL and LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE).

  a. a SQLite central gets an officer account and a lane (clearanced --db);
  b. `store copy` moves it into the empty database and prints its counts;
     a second copy is refused (exit 78) and names what the target holds;
  c. two `serve --store` nodes start on the database: the officer's token,
     issued by the SQLite central, works on both;
  d. a watch-list entry added on node 0 is listed by node 1, and its
     removal on node 1 is seen by node 0: one store, two nodes;
  e. a password in the URL is refused before anything starts.

Usage: scripts/pgstore-test.py [--bin DIR] [--keep]
Prints "pgstore-test: P passed, F failed" and exits non-zero on a failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=None, help="directory with clearanced (default: swift build's)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    url = os.environ.get("LANEKIOSK_TEST_POSTGRES_URL")
    password_file = os.environ.get("LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE")
    if not url or not password_file:
        raise SystemExit("pgstore-test: run it under scripts/with-postgres.sh (no LANEKIOSK_TEST_POSTGRES_URL)")
    here = os.path.dirname(os.path.abspath(__file__))
    bindir = args.bin or subprocess.check_output(
        ["swift", "build", "--show-bin-path"], cwd=os.path.dirname(here), text=True).strip()
    clearanced = f"{bindir}/clearanced"
    work = tempfile.mkdtemp(prefix="pgstore-test.")
    passed, failed = 0, 0
    procs = []

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}", flush=True)
        else:
            failed += 1
            print(f"FAIL {name}: {detail}", flush=True)

    def run(*argv, **kw):
        return subprocess.run([clearanced, *argv], capture_output=True, text=True, timeout=120, **kw)

    def api(port, method, path, token, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    store = ["--store", url, "--store-password-file", password_file]
    try:
        # a. the SQLite central.
        db = f"{work}/central.sqlite"
        added = run("account", "add", "--db", db, "--name", "chan", "--role", "officer")
        check("a. account added to the SQLite central", added.returncode == 0, added.stderr)
        token = added.stdout.strip().splitlines()[-1]
        lane = run("lane", "add", "--db", db, "--id", "LMC-IN-01", "--control-point", "LMC",
                   "--direction", "import")
        check("a. lane added to the SQLite central", lane.returncode == 0, lane.stderr)

        # b. the copy, and a second one refused.
        copied = run("store", "copy", "--from-db", db, "--to", url, "--store-password-file", password_file)
        counts = dict(line.split(" ", 1) for line in copied.stdout.splitlines() if line.count(" ") == 1)
        check("b. store copy succeeds", copied.returncode == 0, copied.stderr)
        check("b. it prints the rows per table", counts.get("accounts") == "1" and counts.get("lanes") == "1",
              copied.stdout)
        again = run("store", "copy", "--from-db", db, "--to", url, "--store-password-file", password_file)
        check("b. a second copy is refused with exit 78, naming the tables",
              again.returncode == 78 and "rows in accounts" in again.stderr, f"{again.returncode} {again.stderr}")

        # c. two nodes on the store.
        ports = []
        for i in range(2):
            out = f"{work}/node{i}.out"
            procs.append(subprocess.Popen(
                [clearanced, "serve", *store, "--port", "0", "--log-level", "warning"],
                stdout=open(out, "w"), stderr=open(f"{work}/node{i}.err", "w")))
            deadline = time.monotonic() + 60
            port = None
            while time.monotonic() < deadline and port is None:
                for line in open(out):
                    if line.startswith("listening on "):
                        port = int(line.rsplit(":", 1)[1])
                if procs[-1].poll() is not None:
                    break
                time.sleep(0.1)
            if port is None:
                raise SystemExit(f"pgstore-test: node {i} did not start (see {work}/node{i}.err)")
            ports.append(port)
        for i, port in enumerate(ports):
            status, lanes = api(port, "GET", "/v1/lanes", token)
            check(f"c. node {i} accepts the SQLite central's token and lists the copied lane",
                  status == 200 and "LMC-IN-01" in json.dumps(lanes), f"{status} {lanes}")

        # d. one store behind both nodes.
        status, entry = api(ports[0], "POST", "/v1/watchlist", token,
                            {"kind": "vrn", "value": "PG1234", "note": "pgstore-test"})
        check("d. node 0 adds a watch-list entry", status == 201, f"{status} {entry}")
        status, listed = api(ports[1], "GET", "/v1/watchlist", token)
        check("d. node 1 lists it", status == 200 and "PG1234" in json.dumps(listed), f"{status} {listed}")
        if isinstance(entry, dict):
            status, _ = api(ports[1], "DELETE", f"/v1/watchlist/{entry['id']}", token)
            check("d. node 1 removes it", status in (200, 204), str(status))
            status, listed = api(ports[0], "GET", "/v1/watchlist", token)
            check("d. node 0 no longer lists it", status == 200 and "PG1234" not in json.dumps(listed),
                  f"{status} {listed}")

        # e. no password on the command line.
        with_password = url.replace("@", ":secret@", 1)
        refused = run("serve", "--store", with_password, "--port", "0")
        check("e. a password in the URL is refused", refused.returncode != 0 and "password" in refused.stderr
              and "secret" not in refused.stderr, refused.stderr)
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    if args.keep or failed:
        print(f"pgstore-test: work directory kept: {work}", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", work])
    print(f"pgstore-test: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
