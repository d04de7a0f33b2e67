#!/usr/bin/env python3
"""laned's benchmark: a release laned (virtual GPIO, headless SDL boards, its
SQLite journal) linked over TCP loopback to a release clearanced, driven over
the control socket. Prints, with a baseline from the same run:

  - button edge -> boards drawn, and vehicle arrival -> STOP drawn and
    -> central's decision drawn: laned's own figures (from the input entering
    laned to SDL having presented the frame), median and p99;
  - the same arrival seen from the client: the `arrive` round trip on the
    control socket, against a bare `status` round trip on the same socket
    (the baseline: what the socket and JSON cost with no lane work);
  - laned's resident memory (VmRSS, VmHWM) idle and after the passages.

Each passage: click Unladen, arrive (central answers CLEARED, UNLADEN at
once), wait for the decision on the boards, leave.

With --mix, issue 18's workload instead: central holds --bundles bundles
(made by clearance-bench for today, every fifth vehicle's import bundle
early), and --arrivals trucks come one at a time: 40% bundled on time
(CLEARED), 20% bundled early (INSPECT, EARLY_CROSSING), 20% unladen (Unladen
pressed just before the arrival; CLEARED, UNLADEN), 20% unknown (INSPECT,
NO_BUNDLE once the unladen grace ends: the rules give a truck without a
bundle that time to press Unladen, set to 0.5 s here, and its figure is shown
with the grace taken off). Each arrival is one
`arrive` request with `wait_ms`, timed from sending it to laned's reply,
which comes once the decision is on both boards: the client-side figure, with
no polling. Also printed: start to ready, the lane's cache install, memory of
both daemons, and the journal's size.

Usage: scripts/bench-laned.py [--passages N] [--bin DIR] [--no-build]
       scripts/bench-laned.py --mix [--bundles N] [--arrivals N] [--keep] [--bin DIR] [--no-build]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

LANE = "LMC-IN-01"
# --mix: the unladen grace, seconds (see the docstring): long enough for the
# press just before an arrival, short enough that 400 unknown trucks do not
# make the run.
GRACE = 0.5


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--bin", default=None, help="directory with laned and clearanced (default: a release build)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--mix", action="store_true", help="issue 18's mixed workload (see above)")
    parser.add_argument("--bundles", type=int, default=1_000_000, help="with --mix: bundles at central")
    parser.add_argument("--arrivals", type=int, default=2_000, help="with --mix: trucks, one at a time")
    parser.add_argument("--keep", action="store_true",
                        help="with --mix: keep the work directory (journal, central's store, logs) and name it")
    args = parser.parse_args()
    if args.mix and not (1_000 <= args.bundles <= 40_000_000):
        raise SystemExit("bench-laned: --bundles is 1000 to 40000000")
    if args.mix and not (10 <= args.arrivals <= args.bundles // 50):
        raise SystemExit(f"bench-laned: --arrivals is 10 to {args.bundles // 50} (a fiftieth of --bundles)")
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = args.bin
    if bindir is None:
        release = ["swift", "build", "-c", "release", "--scratch-path", ".build-bench-laned"]
        if not args.no_build:
            for product in ("laned", "clearanced") + (("clearance-bench",) if args.mix else ()):
                subprocess.run(release + ["--product", product, "-q"], cwd=package, check=True)
        bindir = subprocess.check_output(release + ["--show-bin-path"], cwd=package, text=True).strip()
    if args.mix:
        return mix(args, bindir)
    work = tempfile.mkdtemp(prefix="bench-laned.")
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", TZ="UTC")
    procs = []
    try:
        central, port = start_central(bindir, f"{work}/central.db", work, env)
        procs.append(central)
        sock = write_lane_config(work, port, grace="20s")
        laned = subprocess.Popen([f"{bindir}/laned", "--config", f"{work}/lane.yaml"],
                                 stderr=open(f"{work}/laned.err", "w"), env=env)
        procs.append(laned)
        client = Client(sock)
        client.wait_until(lambda s: s["link"] == "up", 60)
        client.call("open")
        time.sleep(2)
        idle = memory(laned.pid)

        status_rtt, arrive_rtt = [], []
        started = time.monotonic()
        for n in range(1, args.passages + 1):
            vrn = f"BN{n:05d}"
            t = time.perf_counter()
            client.call("status")
            status_rtt.append(time.perf_counter() - t)
            client.call("press", button="unladen", action="click")
            t = time.perf_counter()
            client.call("arrive", vrn=vrn)
            arrive_rtt.append(time.perf_counter() - t)
            client.wait_until(lambda s: s["phase"] == "decided" and s["drawn"], 10)
            client.call("leave")
            if n % 1000 == 0:
                print(f"bench-laned: {n} passages", file=sys.stderr, flush=True)
        elapsed = time.monotonic() - started
        time.sleep(1)
        after = memory(laned.pid)
        status = client.call("status")
        latency = status["latency"]

        print(f"laned benchmark: {args.passages} passages in {elapsed:.1f} s "
              f"({args.passages / elapsed:.1f} passages/s, each 4 to 6 control requests)")
        print(f"{'measure':<44} {'median':>10} {'p99':>10} {'samples':>8}")
        print_laned_figures(latency, (("press_to_display", "button edge -> boards drawn (in laned)"),
                                      ("arrival_to_stop", "arrival -> STOP drawn (in laned)"),
                                      ("arrival_to_decision", "arrival -> decision drawn (in laned)")), 44)
        print_row("client: arrive round trip (STOP drawn)", arrive_rtt, 44)
        print_row("baseline: status round trip, same socket", status_rtt, 44)
        print(f"arrive / status at the median: x{median(arrive_rtt) / median(status_rtt):.1f}")
        print(f"laned memory idle:             VmRSS {idle['VmRSS']}, VmHWM {idle['VmHWM']}")
        print(f"laned memory after {args.passages} passages: VmRSS {after['VmRSS']}, VmHWM {after['VmHWM']}")
        print(f"journal file: {os.path.getsize(f'{work}/journal.sqlite') / 1e6:.1f} MB "
              f"({json.dumps(status['passages'])} passages counted by laned)")
    finally:
        stop(procs)
        subprocess.run(["rm", "-rf", work])


def mix(args, bindir):
    """Issue 18's mixed workload against central with args.bundles bundles."""
    import random
    import shutil
    import sqlite3
    work = tempfile.mkdtemp(prefix="bench-laned-mix.")
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", TZ="UTC")
    procs = []
    try:
        # The data is for today (its bundles completed an hour or two ago), so
        # it is made afresh for each run, in the work directory.
        now_hk = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))
        db = f"{work}/central.db"
        t = time.monotonic()
        subprocess.run([f"{bindir}/clearance-bench", "--db", db, "--bundles", str(args.bundles), "--now", now_hk,
                        "--early-every", "5", "--populate-only"], check=True, stdout=subprocess.DEVNULL)
        populated = time.monotonic() - t
        now_ms = int(time.time() * 1000)
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT vrn, earliest_crossing FROM bundles "
                                "WHERE status = 'active' AND direction = 'import'").fetchall()
        on_time = [v for v, e in rows if e <= now_ms]
        early = [v for v, e in rows if e > now_ms]
        rng = random.Random(18)
        n = args.arrivals
        kinds = (["bundled"] * (n * 2 // 5) + ["early"] * (n // 5) + ["unladen"] * (n // 5))
        kinds += ["unknown"] * (n - len(kinds))
        rng.shuffle(kinds)
        picks = {"bundled": rng.sample(on_time, kinds.count("bundled")),
                 "early": rng.sample(early, kinds.count("early"))}
        trucks = []
        for i, kind in enumerate(kinds):
            if kind in picks:
                trucks.append((kind, picks[kind].pop()))
            else:
                # ZY and ZZ marks: beyond any plate clearance-bench makes.
                trucks.append((kind, f"{'ZY' if kind == 'unladen' else 'ZZ'}{i + 1}"))

        central, port = start_central(bindir, db, work, env)
        procs.append(central)
        central_idle = memory(central.pid)
        sock = write_lane_config(work, port, grace=f"{int(GRACE * 1000)}ms")
        started = time.monotonic()
        laned = subprocess.Popen([f"{bindir}/laned", "--config", f"{work}/lane.yaml"],
                                 stderr=open(f"{work}/laned.err", "w"), env=env)
        procs.append(laned)
        client = Client(sock)
        client.call("status")
        ready = time.monotonic() - started
        client.wait_until(lambda s: s["link"] == "up", 60)
        cache_rows, cache_took = wait_for_cache(f"{work}/journal.sqlite", started, 600)
        laned_cached = memory(laned.pid)
        client.call("open")

        status_rtt, by_kind, wrong = [], {}, []
        expected = {"bundled": ("CLEARED", "BUNDLE_OK"), "early": ("INSPECT", "EARLY_CROSSING"),
                    "unladen": ("CLEARED", "UNLADEN"), "unknown": ("INSPECT", "NO_BUNDLE")}
        run_started = time.monotonic()
        for i, (kind, vrn) in enumerate(trucks, 1):
            t = time.perf_counter()
            client.call("status")
            status_rtt.append(time.perf_counter() - t)
            if kind == "unladen":
                client.call("press", button="unladen", action="click")
            t = time.perf_counter()
            result = client.call("arrive", vrn=vrn, wait_ms=10_000)
            took = time.perf_counter() - t
            shown = result.get("shown") or {}
            got = (shown.get("xdb"), shown.get("reason"))
            # The watch list (about 1% of plates) sends some bundled trucks to inspection.
            if got != expected[kind] and got != ("INSPECT", "TARGETED"):
                wrong.append((kind, vrn, got))
            by_kind.setdefault(kind, []).append(took)
            client.call("leave")
            if i % 500 == 0:
                print(f"bench-laned: {i} arrivals", file=sys.stderr, flush=True)
        elapsed = time.monotonic() - run_started
        laned_after = memory(laned.pid)
        central_after = memory(central.pid)
        latency = client.call("status")["latency"]

        # A truck without a bundle is answered when the grace ends: by rule,
        # not by speed. Its figure is what follows the grace.
        by_kind["unknown"] = [x - GRACE for x in by_kind.get("unknown", [])]
        every = [x for xs in by_kind.values() for x in xs]
        print(f"laned benchmark, mixed workload: {n} arrivals in {elapsed:.1f} s; central holds {args.bundles} "
              f"bundles ({len(rows)} active imports, populated in {populated:.0f} s)")
        print(f"{'measure':<52} {'median':>10} {'p99':>10} {'samples':>8}")
        print_row("client: arrival -> decision on both boards, all", every, 52)
        for kind in ("bundled", "early", "unladen", "unknown"):
            xs = by_kind.get(kind, [])
            if xs:
                print_row(f"  {kind} (after the {GRACE} s grace)" if kind == "unknown" else f"  {kind}", xs, 52)
        print_laned_figures(latency, (("arrival_to_stop", "laned: arrival -> STOP drawn (its own figure)"),
                                      ("arrival_to_decision", "laned: arrival -> decision drawn (own; grace in)")), 52)
        print_row("baseline: status round trip, same socket", status_rtt, 52)
        print(f"arrival / status at the median: x{median(every) / median(status_rtt):.1f}")
        print(f"start to ready (control socket answers): {ready * 1000:.0f} ms")
        print(f"lane cache: {cache_rows} bundles installed {cache_took:.1f} s after start")
        print(f"laned memory with its cache:      VmRSS {laned_cached['VmRSS']}, VmHWM {laned_cached['VmHWM']}")
        print(f"laned memory after {n} arrivals: VmRSS {laned_after['VmRSS']}, VmHWM {laned_after['VmHWM']}")
        print(f"clearanced memory idle:           VmRSS {central_idle['VmRSS']}, VmHWM {central_idle['VmHWM']}")
        print(f"clearanced memory after:          VmRSS {central_after['VmRSS']}, VmHWM {central_after['VmHWM']}")
        journal = sum(os.path.getsize(f"{work}/journal.sqlite{x}") for x in ("", "-wal")
                      if os.path.exists(f"{work}/journal.sqlite{x}"))
        print(f"journal file (with its WAL): {journal / 1e6:.1f} MB")
        if wrong:
            print(f"WRONG decisions: {len(wrong)}, e.g. {wrong[:5]}")
            raise SystemExit(1)
    finally:
        stop(procs)
        if args.keep:
            print(f"bench-laned: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def stop(procs):
    """Stops the daemons, the last started first."""
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def start_central(bindir, db, work, env):
    """Adds the lane to central's store `db` (its key in work/keys) and
    starts clearanced on it; returns the process and its link port."""
    os.mkdir(f"{work}/keys", 0o700)
    subprocess.run([f"{bindir}/clearanced", "lane", "add", "--db", db, "--id", LANE,
                    "--control-point", "LMC", "--direction", "import", "--keys-dir", f"{work}/keys"],
                   check=True, stdout=subprocess.DEVNULL)
    central = subprocess.Popen(
        [f"{bindir}/clearanced", "serve", "--db", db, "--port", "0", "--link-keys",
         f"{work}/keys", "--link-port", "0", "--phase", "full", "--laden-rate", "0", "--unladen-rate", "0",
         "--log-level", "warning"],
        stdout=open(f"{work}/central.out", "w"), stderr=open(f"{work}/central.err", "w"), env=env)
    return central, wait_for_link_port(f"{work}/central.out")


def write_lane_config(work, port, grace):
    """Writes work/lane.yaml for the bench's lane; returns its control socket."""
    sock = f"{work}/lane.sock"
    with open(f"{work}/lane.yaml", "w") as f:
        f.write(f"""
lane: {{id: {LANE}, control_point: LMC, direction: import}}
decision: {{timeout: 2s, unladen_grace: {grace}}}
link: {{tcp: {{host: 127.0.0.1, port: {port}}}, key_file: {work}/keys/{LANE}.key}}
gpio: {{backend: virtual}}
displays: {{backend: headless}}
journal: {{path: {work}/journal.sqlite}}
control: {{socket: {sock}, allow_virtual_inputs: true}}
watchdog: {{enabled: false}}
log: {{level: warning}}
""")
    return sock


def wait_for_cache(journal, started, seconds):
    """Waits for the lane's first bundle cache to be installed (rows in
    cache_bundle, nothing staged); returns the rows and seconds since start."""
    import sqlite3
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5) as conn:
                rows = conn.execute("SELECT count(*) FROM cache_bundle").fetchone()[0]
                staged = conn.execute("SELECT count(*) FROM cache_staged_chunk").fetchone()[0]
            if rows > 0 and staged == 0:
                return rows, time.monotonic() - started
        except sqlite3.Error:
            pass  # not made yet
        time.sleep(0.1)
    raise SystemExit(f"bench-laned: the lane's bundle cache was not installed within {seconds} s")


class Client:
    def __init__(self, path):
        self.path = path
        self.sock = None

    def call(self, command, **fields):
        deadline = time.monotonic() + 30
        while self.sock is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.path)
                self.sock, self.reader = s, s.makefile("rb")
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("bench-laned: laned's control socket did not open")
                time.sleep(0.05)
        self.sock.sendall((json.dumps({"id": 1, "command": command, **fields}) + "\n").encode())
        reply = json.loads(self.reader.readline())
        if not reply["ok"]:
            raise SystemExit(f"bench-laned: {command} refused: {reply['error']}")
        return reply["result"]

    def wait_until(self, condition, seconds):
        deadline = time.monotonic() + seconds
        while True:
            status = self.call("status")
            if condition(status):
                return status
            if time.monotonic() > deadline:
                raise SystemExit(f"bench-laned: gave up waiting; status {status}")


def wait_for_link_port(path):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in open(path).read().splitlines():
            if line.startswith("link listening on "):
                return int(line.rsplit(":", 1)[1])
        time.sleep(0.05)
    raise SystemExit("bench-laned: clearanced did not start its link")


def memory(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = value.strip()
    return fields


def print_row(name, seconds, width):
    """One line of the figures table: median, p99 and count of `seconds`."""
    print(f"{name:<{width}} {ms(median(seconds)):>10} {ms(p99(seconds)):>10} {len(seconds):>8}")


def print_laned_figures(latency, rows, width):
    """Lines for laned's own figures (`status.latency`), those it has."""
    for key, name in rows:
        figures = latency.get(key)
        if figures:
            print(f"{name:<{width}} {ms(figures['median_us'] / 1e6):>10} {ms(figures['p99_us'] / 1e6):>10} "
                  f"{figures['samples']:>8}")


def median(xs):
    return statistics.median(xs)


def p99(xs):
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


if __name__ == "__main__":
    main()
