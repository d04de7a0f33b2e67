#!/usr/bin/env python3
"""The officers' console's benchmark: a clearanced (release by default) with
a control point of lanes, each with a history of lane reports, and help calls
ringing. Prints, with a baseline from the same run (GET /v1/health on the same
connection: what HTTP and the router cost with no work):

  - log-in: POST /console/api/login, dominated by scrypt (N=2^15, r=8, p=1);
  - a console snapshot: GET /console/api/snapshot, what the live socket sends
    after every change (every lane's view from its last 200 reports, the
    open calls, the phrases);
  - answering a help call: POST /console/api/calls/{id}/answer (the rules,
    the store's transaction with its journal step, the link outbox);
  - clearanced's resident memory before and after.

Lane reports and calls are written into the store with sqlite3 before the
server starts (as lanes would have sent them), so the figures do not include
lanes' own time.

Usage: scripts/bench-console.py [--lanes N] [--events N] [--calls N] [--bin DIR] [--no-build]
"""
import argparse
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

PASSWORD = "benchmark horse battery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=12)
    parser.add_argument("--events", type=int, default=500, help="lane reports per lane in the store")
    parser.add_argument("--calls", type=int, default=200, help="help calls to answer")
    parser.add_argument("--snapshots", type=int, default=300)
    parser.add_argument("--bin", default=None, help="directory with clearanced (default: a release build)")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = args.bin
    if bindir is None:
        if not args.no_build:
            subprocess.run(["swift", "build", "-c", "release", "--product", "clearanced"], cwd=package, check=True)
        bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=package, check=True,
                                capture_output=True, text=True).stdout.strip()
    clearanced = os.path.join(bindir, "clearanced")
    with tempfile.TemporaryDirectory(prefix="bench-console-") as work:
        db = os.path.join(work, "central.sqlite")
        lanes = [f"LMC-{'IN' if n % 2 else 'OUT'}-{(n + 1) // 2:02d}" for n in range(1, args.lanes + 1)]
        for lane in lanes:
            subprocess.run([clearanced, "lane", "add", "--db", db, "--id", lane, "--control-point", "LMC",
                            "--direction", "import" if "-IN-" in lane else "export"], check=True,
                           stdout=subprocess.DEVNULL)
        subprocess.run([clearanced, "account", "add", "--db", db, "--name", "chan", "--role", "officer",
                        "--control-point", "LMC"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([clearanced, "account", "password", "--db", db, "--name", "chan"], input=PASSWORD + "\n",
                       text=True, check=True, stdout=subprocess.DEVNULL)
        seed(db, lanes, args.events, args.calls)
        os.mkdir(os.path.join(work, "keys"), 0o700)
        server = subprocess.Popen(
            [clearanced, "serve", "--db", db, "--port", "0", "--link-port", "0", "--link-keys",
             os.path.join(work, "keys"), "--log-level", "error", "--help-escalate-after", "1h"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = None
            for line in server.stdout:
                if line.startswith("listening on "):
                    port = int(line.rsplit(":", 1)[1])
                    break
            rss_start = rss(server.pid)
            conn = http.client.HTTPConnection("127.0.0.1", port)
            health = timed(conn, args.snapshots, "GET", "/v1/health", {})
            logins, cookie, csrf = [], None, None
            for _ in range(5):
                start = time.perf_counter()
                body, headers = request(conn, "POST", "/console/api/login", {"Content-Type": "application/json"},
                                        json.dumps({"name": "chan", "password": PASSWORD}))
                logins.append(time.perf_counter() - start)
                cookie = headers["Set-Cookie"].split(";")[0]
                csrf = json.loads(body)["csrf"]
            auth = {"Cookie": cookie}
            snapshots = timed(conn, args.snapshots, "GET", "/console/api/snapshot", auth)
            snapshot = json.loads(request(conn, "GET", "/console/api/snapshot", auth)[0])
            calls = [c["id"] for c in snapshot["calls"]]
            answers = []
            change = dict(auth, **{"X-CSRF-Token": csrf, "Content-Type": "application/json"})
            for call in calls:
                start = time.perf_counter()
                request(conn, "POST", f"/console/api/calls/{call}/answer", change, "{}")
                answers.append(time.perf_counter() - start)
            rss_end = rss(server.pid)
        finally:
            server.terminate()
            server.wait()
    print(f"bench-console: {args.lanes} lanes with {args.events} reports each, {len(calls)} calls ringing")
    print(f"  baseline GET /v1/health          median {ms(health)}  p99 {ms(health, 99)}")
    print(f"  POST /console/api/login (scrypt)  median {ms(logins)}  (5 log-ins)")
    print(f"  GET /console/api/snapshot        median {ms(snapshots)}  p99 {ms(snapshots, 99)}"
          f"  ({len(json.dumps(snapshot)) // 1024} KiB)")
    print(f"  POST .../calls/{{id}}/answer      median {ms(answers)}  p99 {ms(answers, 99)}")
    print(f"  clearanced RSS: {rss_start} kB at start, {rss_end} kB after")


def seed(db, lanes, events, calls):
    """Lane reports and ringing calls, as lanes would have left them."""
    base = 1_795_000_000_000
    with sqlite3.connect(db) as c:
        for lane in lanes:
            c.executemany(
                "INSERT INTO lane_events(lane_id, occurred_at, kind, fields, received_at) VALUES (?, ?, ?, ?, ?)",
                [(lane, base + i * 1000, kind, fields, base + i * 1000)
                 for i in range(events)
                 for kind, fields in [(("button_pressed", '{"button":"unladen","kernelNanoseconds":"1"}'),
                                       ("instruction_shown", '{"decisionId":"0","instruction":"CLEARED"}'),
                                       ("vehicle_left", '{"vrn":"AB1234"}'))[i % 3]]])
        c.executemany(
            "INSERT INTO help_calls(lane_id, control_point, lane_call_id, state, rang_at, messages)"
            " VALUES (?, 'LMC', ?, 'ringing', ?, '[]')",
            [(lanes[n % len(lanes)], n + 1, base + n) for n in range(calls)])


def request(conn, method, path, headers, body=None):
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"bench-console: {method} {path}: {response.status} {data[:200]!r}")
    return data, response.headers


def timed(conn, n, method, path, headers):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        request(conn, method, path, headers)
        times.append(time.perf_counter() - start)
    return times


def ms(times, percentile=None):
    if percentile is None:
        return f"{statistics.median(times) * 1000:7.2f} ms"
    ordered = sorted(times)
    return f"{ordered[min(len(ordered) - 1, int(len(ordered) * percentile / 100))] * 1000:7.2f} ms"


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
