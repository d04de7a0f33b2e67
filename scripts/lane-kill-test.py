#!/usr/bin/env python3
"""laned's kill test, with real processes: one laned (virtual GPIO, headless
boards, its SQLite journal) linked over TCP loopback to one clearanced. A
driver loop sends PASSAGES vehicles through the lane over the control socket
(press Unladen for some, arrive, wait for the boards' answer, leave) while a
killer thread sends SIGKILL to laned at random moments and starts it again,
and kills central twice.

At the end, with every outbox drained, it checks what issue 4 asks:
  - the lane journal is complete: every vehicle has its arrival, an
    instruction shown and exactly one vehicle_left, in that order;
  - no request shows more than one instruction;
  - every decision request the lane journaled reached central exactly once
    (central's crossings hold each lane request id once, and only those);
  - every instruction shown from a decision is central's decision for it;
  - central holds each lane event once (nothing applied twice in effect).

Usage: scripts/lane-kill-test.py [--passages N] [--bin DIR] [--seed S] [--keep]
Prints "lane-kill-test: P passed, F failed" and exits non-zero on a failure.
"""
import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import lanerig

LANE = "LMC-IN-01"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--bin", default=None, help="directory with laned and clearanced (default: swift build's)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"lane-kill-test: seed {seed} (rerun with --seed {seed})", flush=True)
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = args.bin or subprocess.check_output(
        ["swift", "build", "--show-bin-path"], cwd=package, text=True).strip()
    work = tempfile.mkdtemp(prefix="lane-kill-test.")
    rig = Rig(bindir, work, rng)
    ok = False
    try:
        rig.provision()
        rig.start_central()
        rig.start_lane()
        started = time.monotonic()
        rig.run(args.passages)
        elapsed = time.monotonic() - started
        print(f"lane-kill-test: {args.passages} passages in {elapsed:.0f} s, "
              f"{rig.lane_kills} kills of laned, {rig.central_kills} of central", flush=True)
        rig.drain()
        ok = Checks(work, args.passages).run()
    finally:
        rig.stop()
        if args.keep or not ok:
            print(f"lane-kill-test: work directory kept: {work}", file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", work])
    sys.exit(0 if ok else 1)


class Rig:
    def __init__(self, bindir, work, rng):
        self.bin = bindir
        self.work = work
        self.rng = rng
        self.socket = os.path.join(work, "lane.sock")
        self.lock = threading.Lock()
        self.lane = None
        self.central = None
        self.link_port = 0
        self.lane_kills = 0
        self.central_kills = 0
        self.stop_killer = threading.Event()

    # Processes

    def provision(self):
        os.mkdir(os.path.join(self.work, "keys"), 0o700)
        subprocess.run(
            [f"{self.bin}/clearanced", "lane", "add", "--db", f"{self.work}/central.db", "--id", LANE,
             "--control-point", "LMC", "--direction", "import", "--keys-dir", f"{self.work}/keys"],
            check=True, stdout=subprocess.DEVNULL)
        with open(f"{self.work}/lane.yaml", "w") as f:
            # The test is about crashes, not about waiting for a driver to press Unladen.
            f.write(lanerig.lane_config(self.work, self.socket, LANE, decision_timeout="2s", heartbeat="300ms",
                                        dead_after="1500ms", why_no_grace="an answer without a bundle shows at once."))

    def start_central(self):
        out = open(f"{self.work}/central.out", "w")
        args = [f"{self.bin}/clearanced", "serve", "--db", f"{self.work}/central.db", "--port", "0",
                "--link-keys", f"{self.work}/keys", "--link-port", str(self.link_port), "--phase", "full",
                "--laden-rate", "0", "--unladen-rate", "0", "--log-level", "warning"]
        self.central = subprocess.Popen(args, stdout=out, stderr=open(f"{self.work}/central.err", "a"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = open(f"{self.work}/central.out").read()
            for line in text.splitlines():
                if line.startswith("link listening on "):
                    self.link_port = int(line.rsplit(":", 1)[1])
                    return
            time.sleep(0.05)
        raise SystemExit("lane-kill-test: central did not start its link (see central.err)")

    def start_lane(self):
        lanerig.with_link_port(f"{self.work}/lane.yaml", f"{self.work}/lane-now.yaml", self.link_port)
        with self.lock:
            self.lane = subprocess.Popen(
                [f"{self.bin}/laned", "--config", f"{self.work}/lane-now.yaml"],
                stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/laned.err", "a"))

    def killer(self):
        """SIGKILL laned every 1 to 5 s (central twice), and start it again."""
        kills = 0
        while not self.stop_killer.wait(self.rng.uniform(1.0, 5.0)):
            kills += 1
            if kills in (7, 19):
                self.central.send_signal(signal.SIGKILL)
                self.central.wait()
                self.central_kills += 1
                time.sleep(self.rng.uniform(0.2, 1.5))
                self.start_central()
                continue
            with self.lock:
                self.lane.send_signal(signal.SIGKILL)
                self.lane.wait()
            self.lane_kills += 1
            self.start_lane()

    def stop(self):
        self.stop_killer.set()
        for p in (self.lane, self.central):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()

    # The control socket

    def request(self, command, **fields):
        """One request; None when laned is dead or starting (whether it was
        carried out is then unknown: callers look at the status)."""
        try:
            reply = lanerig.control(self.socket, command, **fields)
        except OSError:
            time.sleep(0.05)
            return None
        if not reply.get("ok"):
            raise SystemExit(f"lane-kill-test: {command} refused: {reply}")
        return reply["result"]

    def status(self):
        """The lane's status, waiting up to 120 s for laned to answer."""
        deadline = time.monotonic() + 120
        while True:
            result = self.request("status")
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise SystemExit("lane-kill-test: laned did not answer for 120 s (see laned.err)")

    # The traffic

    def run(self, passages):
        killer = threading.Thread(target=self.killer, daemon=True)
        killer.start()
        if not self.status()["open"]:
            self.request("open", officer="kill-test")
        for n in range(1, passages + 1):
            self.passage(f"KT{n:04d}", unladen=(n % 3 == 0))
            if n % 100 == 0:
                print(f"lane-kill-test: {n} passages", flush=True)
        self.stop_killer.set()
        killer.join()

    def passage(self, vrn, unladen):
        # Arrive, until the lane has the vehicle (a kill may eat the request).
        while True:
            status = self.status()
            if status.get("vrn") == vrn:
                break
            if not status["open"]:
                raise SystemExit(f"lane-kill-test: the lane closed itself: {status}")
            if status["phase"] != "welcome":
                raise SystemExit(f"lane-kill-test: {vrn} arrives but the lane is {status['phase']}: {status}")
            if unladen:
                self.request("press", button="unladen", action="click")
            self.request("arrive", vrn=vrn)
        # Wait for the boards' answer: central's decision or rule 4's STOP.
        while status.get("vrn") == vrn and status["phase"] not in ("decided", "system_unavailable"):
            time.sleep(0.01)
            status = self.status()
        # Leave, until the lane is back to WELCOME.
        while self.status().get("vrn") == vrn:
            self.request("leave")

    def drain(self):
        """Waits until the lane's outbox is empty (central has everything)."""
        deadline = time.monotonic() + 120
        while self.status()["outbox_pending"] != 0:
            if time.monotonic() > deadline:
                raise SystemExit("lane-kill-test: the lane's outbox did not drain in 120 s")
            time.sleep(0.1)
        # Central's last acknowledgements; then stop both cleanly.
        time.sleep(1)


class Checks:
    def __init__(self, work, passages):
        self.work = work
        self.passages = passages
        self.passed = 0
        self.failed = 0

    def check(self, name, expected, actual):
        if expected == actual:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            shown = actual if len(str(actual)) < 400 else str(actual)[:400] + "..."
            print(f"FAIL {name}: expected {expected}, got {shown}")

    def run(self):
        lane = sqlite3.connect(f"file:{self.work}/journal.sqlite?mode=ro", uri=True)
        central = sqlite3.connect(f"file:{self.work}/central.db?mode=ro", uri=True)
        vrns = [f"KT{n:04d}" for n in range(1, self.passages + 1)]

        def per_vrn(kind):
            return dict(lane.execute(
                "SELECT vrn, count(*) FROM journal WHERE kind = ? AND vrn IS NOT NULL GROUP BY vrn", (kind,)))

        arrivals, shown, left = per_vrn("arrival"), per_vrn("instruction_shown"), per_vrn("vehicle_left")
        # Rule 4's STOP is journaled as decision_timeout (instruction STOP).
        rule4 = per_vrn("decision_timeout")
        print(f"lane-kill-test: {len(rule4)} vehicles got rule 4's STOP (no answer in time, mostly while "
              "central or the link was down)")
        self.check("every vehicle's arrival journaled", [], [v for v in vrns if arrivals.get(v, 0) < 1])
        self.check("every vehicle shown an instruction", [],
                   [v for v in vrns if shown.get(v, 0) + rule4.get(v, 0) < 1])
        self.check("every vehicle left exactly once", [], [v for v in vrns if left.get(v, 0) != 1])
        out_of_order = [v for (v,) in lane.execute("""
            SELECT a.vrn FROM journal a JOIN journal l ON l.vrn = a.vrn AND l.kind = 'vehicle_left'
            WHERE a.kind = 'arrival' GROUP BY a.vrn HAVING min(a.seq) > min(l.seq)""")]
        self.check("arrival before leaving", [], out_of_order)
        doubles = list(lane.execute("""
            SELECT request_id, count(*) FROM journal WHERE kind = 'instruction_shown' AND request_id IS NOT NULL
            GROUP BY request_id HAVING count(*) > 1"""))
        self.check("at most one instruction shown per request", [], doubles)

        requested = {r for (r,) in lane.execute(
            "SELECT request_id FROM journal WHERE kind = 'decision_requested'")}
        crossings = [r for (r,) in central.execute(
            "SELECT request_id FROM crossings WHERE lane_id = ?", (LANE,))]
        prefix = f"link:{LANE}:"
        at_central = [int(r[len(prefix):]) for r in crossings if r and r.startswith(prefix)]
        self.check("central applied each request once", len(set(at_central)), len(at_central))
        self.check("central has every journaled request", [], sorted(requested - set(at_central))[:10])
        self.check("central has only journaled requests", [], sorted(set(at_central) - requested)[:10])

        decisions = dict(central.execute(
            "SELECT id, instruction FROM crossings WHERE lane_id = ?", (LANE,)))
        mismatched = [(d, i, decisions.get(d)) for (d, i) in lane.execute("""
            SELECT decision_id, instruction FROM journal
            WHERE kind = 'instruction_shown' AND decision_id IS NOT NULL""") if decisions.get(d) != i]
        self.check("shown instructions are central's decisions", [], mismatched[:10])
        for kind in ("vehicle_left", "button_pressed", "instruction_shown"):
            sent = lane.execute("SELECT count(*) FROM journal WHERE kind = ?", (kind,)).fetchone()[0]
            received = central.execute(
                "SELECT count(*) FROM lane_events WHERE lane_id = ? AND kind = ?", (LANE, kind)).fetchone()[0]
            self.check(f"central holds each {kind} event once", sent, received)
        pending = lane.execute("SELECT count(*) FROM link_outbox WHERE acked_at IS NULL").fetchone()[0] \
            if has_column(lane, "link_outbox", "acked_at") else None
        if pending is not None:
            self.check("lane outbox drained", 0, pending)
        print(f"lane-kill-test: {self.passed} passed, {self.failed} failed")
        return self.failed == 0


def has_column(db, table, column):
    return any(row[1] == column for row in db.execute(f"PRAGMA table_info({table})"))


if __name__ == "__main__":
    main()
