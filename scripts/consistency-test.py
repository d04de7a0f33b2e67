#!/usr/bin/env python3
"""Lanes and central as one consistent system, with real processes (issue 14, part 6).

One clearanced (simulated clock, two hours behind the real one, so bundles
made "now" are past their 30 minutes at the lanes) and three laned on TCP
loopback (virtual inputs, headless boards, each its own journal):

  A  LMC-IN-01  officer-switched offline mode in cases 1 to 3; grace 0 s
  B  LMC-IN-02  online (offline with A in case 2); grace 0 s, timeout 10 s
  C  LMC-IN-03  the Unladen cases: decision timeout 2 s (the default),
                grace 30 s (a press after arrival counts only in the grace)

Cases (each asserts what the boards show, through laned's control socket,
and what central's HTTP API says):
  1  offline-then-online   A offline (link up) clears a bundled truck OFFLINE;
                           it leaves; at online B: INSPECT NO_BUNDLE; the bundle
                           is used. Again with every link down during the
                           crossing (clearanced killed, then restarted): once
                           A's outbox drains the bundle is used and
                           GET /v1/reconciliation?all=true lists the crossing.
  2  offline-conflict      one bundle crossed offline at A and at B, links down;
                           after reconnection one applied and one conflict in
                           GET /v1/reconciliation, none dropped.
  3  debundle-offline      A offline, link up; the driver debundles; the delta
                           leaves A's cache within a second (time printed, read
                           from A's journal file); the truck at A: not CLEARED.
  4  unladen-pending       central frozen (SIGSTOP) while C's request is
                           pending; Unladen pressed; SIGCONT: INSPECT
                           UNLADEN_CONFLICT, never CLEARED.
  5  unladen-unavailable   the same, pressed after SYSTEM_UNAVAILABLE.
  6  earliest-crossing     central's clock set so that the printed earliest
                           crossing is a coming second of the lanes' (real)
                           clock: one second before it EARLY_CROSSING, at it
                           CLEARED.

Usage: scripts/consistency-test.py [--bin DIR] [--case N ...] [--keep]
Prints PASS/FAIL lines and "consistency-test: P passed, F failed"; exits
non-zero on a failure. Every wait polls with a ceiling; nothing sleeps and hopes.
"""
import argparse
import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import lanerig

A, B, C = "LMC-IN-01", "LMC-IN-02", "LMC-IN-03"
LANES = [A, B, C]
HK = datetime.timezone(datetime.timedelta(hours=8))
CEILING = 60  # seconds any one wait may take on a busy 2-core machine


class CaseFailed(Exception):
    """A wait ran out or a step was refused: the case cannot go on."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=None, help="directory with laned and clearanced (default: swift build's)")
    parser.add_argument("--case", type=int, action="append", choices=range(1, 7),
                        help="run only this case (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = args.bin or subprocess.check_output(
        ["swift", "build", "--show-bin-path"], cwd=package, text=True).strip()
    work = tempfile.mkdtemp(prefix="consistency-test.")
    rig = Rig(bindir, work)
    checks = Checks()
    started = time.monotonic()
    cases = [(1, case_offline_then_online), (2, case_offline_conflict), (3, case_debundle_offline),
             (4, case_unladen_pending), (5, case_unladen_unavailable), (6, case_earliest_crossing)]
    try:
        rig.provision()
        rig.start()
        for n, case in cases:
            if args.case and n not in args.case:
                continue
            checks.case = n
            t0 = time.monotonic()
            try:
                case(rig, checks)
            except (CaseFailed, OSError, urllib.error.URLError) as e:
                checks.fail("case could not finish", str(e))
                rig.recover()
            print(f"consistency-test: case {n} took {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        rig.stop()
    print(f"consistency-test: {checks.passed} passed, {checks.failed} failed "
          f"in {time.monotonic() - started:.0f} s")
    if args.keep or checks.failed:
        print(f"consistency-test: work directory kept: {work}", file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", work])
    sys.exit(0 if checks.failed == 0 else 1)


# ---------------------------------------------------------------- the cases


def case_offline_then_online(rig, checks):
    # Officer-switched offline, link up: the cache pushed ahead of the
    # command holds the bundle.
    vrn = "CO0001"
    ubr = rig.bundle(vrn)["ubr"]
    rig.offline(A, True)
    checks.expect("A offline, link up: cleared on the cached bundle, OFFLINE",
                  (("CLEARED", "BUNDLE_OK"), True), (rig.arrive_and_answer(A, vrn), rig.offline_decision(A, vrn)))
    rig.leave(A)
    rig.drained(A)
    checks.expect("central: the bundle used by the offline crossing", "used", rig.bundle_status(ubr))
    checks.expect("the same VRN at online B: INSPECT NO_BUNDLE", ("INSPECT", "NO_BUNDLE"),
                  rig.arrive_and_answer(B, vrn))
    rig.leave(B)

    # The same with every link down while the truck crosses.
    vrn = "CO0002"
    ubr = rig.bundle(vrn)["ubr"]
    rig.refresh_cache(A)
    rig.kill_central()
    rig.wait_link(A, "down")
    checks.expect("A offline, link down: cleared on the cached bundle, OFFLINE",
                  (("CLEARED", "BUNDLE_OK"), True), (rig.arrive_and_answer(A, vrn), rig.offline_decision(A, vrn)))
    rig.leave(A)
    away = rig.status(A)
    checks.expect("while central is away A's outbox holds it: outbox_pending > 0, offline_unreconciled 1",
                  (True, 1), (away["outbox_pending"] > 0, away.get("offline_unreconciled")))
    rig.start_central()
    # B too: its link fell with central's, and a lane whose link is known
    # down answers an arrival with rule 4 at once (fail fast).
    for lane in (A, B):
        rig.wait_link(lane, "up")
    rig.drained(A)
    checks.expect("central back, A's outbox drained: the bundle used", "used", rig.bundle_status(ubr))
    checks.expect("A's status: offline_unreconciled 0", 0, rig.status(A).get("offline_unreconciled"))
    rows = rig.reconciliation(ubr, everything=True)
    checks.expect("GET /v1/reconciliation?all=true lists the crossing, applied",
                  [(A, "applied")], [(r.get("lane"), r.get("outcome")) for r in rows])
    checks.expect("the same VRN at online B: INSPECT NO_BUNDLE", ("INSPECT", "NO_BUNDLE"),
                  rig.arrive_and_answer(B, vrn))
    rig.leave(B)


def case_offline_conflict(rig, checks):
    vrn = "CF0001"
    ubr = rig.bundle(vrn)["ubr"]
    rig.refresh_cache(A)
    rig.offline(B, True)
    rig.kill_central()
    rig.wait_link(A, "down")
    rig.wait_link(B, "down")
    answers = []
    for lane in (A, B):
        answers.append(rig.arrive_and_answer(lane, vrn))
        rig.leave(lane)
    checks.expect("both lanes, links down, clear on their cached bundle (the conflict to raise)",
                  [("CLEARED", "BUNDLE_OK")] * 2, answers)
    rig.start_central()
    for lane in (A, B):
        rig.wait_link(lane, "up")
        rig.drained(lane)
    checks.expect("central: the bundle used", "used", rig.bundle_status(ubr))
    rows = rig.reconciliation(ubr, everything=True)
    checks.expect("?all=true: both offline crossings, one applied and one conflict",
                  ["applied", "conflict"], sorted(r.get("outcome") for r in rows))
    checks.expect("...one from each lane", [A, B], sorted(r.get("lane") for r in rows))
    rows = rig.reconciliation(ubr, everything=False)
    checks.expect("GET /v1/reconciliation (open conflicts): exactly one, for this bundle",
                  ["conflict"], [r.get("outcome") for r in rows])
    rig.offline(B, False)


def case_debundle_offline(rig, checks):
    vrn = "CD0001"
    ubr = rig.bundle(vrn)["ubr"]
    rig.refresh_cache(A)
    checks.expect("A's offline cache holds the bundle", True, rig.cached(A, vrn))
    t0 = time.monotonic()
    rig.api("driver", "POST", f"/v1/bundles/{ubr}/debundle", {})
    returned = time.monotonic() - t0
    checks.expect("central: the bundle debundled", "debundled", rig.bundle_status(ubr))
    rig.poll(lambda: not rig.cached(A, vrn), "the debundle to leave A's cache", ceiling=10, every=0.01)
    took = time.monotonic() - t0
    print(f"info case 3: the debundle answered in {returned * 1000:.0f} ms; the delta had left A's cache "
          f"{took * 1000:.0f} ms after it was sent")
    checks.expect("the delta reached A within a second", True, took <= 1.0)
    answer = rig.arrive_and_answer(A, vrn)
    checks.expect("the truck at offline A: not CLEARED on the debundled bundle (INSPECT NO_BUNDLE)",
                  ("INSPECT", "NO_BUNDLE"), answer)
    rig.leave(A)
    rig.offline(A, False)


def unladen_case(rig, checks, vrn, after_unavailable):
    ubr = rig.bundle(vrn)["ubr"]
    seq = rig.last_seq(C)
    rig.freeze_central()
    try:
        rig.control(C, "arrive", vrn=vrn)
        if after_unavailable:
            rig.poll(lambda: rig.status(C)["phase"] == "system_unavailable", "C to show SYSTEM_UNAVAILABLE")
        rig.control(C, "press", button="unladen", action="click")
        rig.poll(lambda: any(e["kind"] == "decision_requested" and "unladen=true" in e.get("detail", "")
                             for e in rig.journal(C, seq)), "C to send the request with Unladen")
        pending = rig.status(C)
        if not after_unavailable and pending["phase"] != "stop":
            print("info case 4: the 2 s decision timeout ran out before the press was taken (busy machine)")
        checks.expect("while central is frozen the lane shows no decision", "STOP", pending["xdb"])
    finally:
        rig.thaw_central()
    checks.expect("central answers: INSPECT UNLADEN_CONFLICT", ("INSPECT", "UNLADEN_CONFLICT"),
                  rig.answer(C, vrn, phases=("decided",)))
    shown = [(e.get("instruction"), e.get("reason")) for e in rig.journal(C, seq)
             if e["kind"] == "instruction_shown"]
    checks.expect("the boards never showed CLEARED (C's journal, instruction_shown)",
                  [("INSPECT", "UNLADEN_CONFLICT")], shown)
    rig.leave(C)
    checks.expect("central: the bundle used once the vehicle left", "used", rig.bundle_status(ubr))


def case_unladen_pending(rig, checks):
    unladen_case(rig, checks, "UP0001", after_unavailable=False)


def case_unladen_unavailable(rig, checks):
    unladen_case(rig, checks, "UU0001", after_unavailable=True)


def case_earliest_crossing(rig, checks):
    # The lanes keep the real clock; central's simulated clock is set so
    # that a bundle completed 700 ms into second E - 30 min prints E as its
    # earliest crossing, E a second of the lanes' clock a moment ahead.
    for attempt in range(1, 4):
        now = datetime.datetime.now(HK)
        e = now.replace(microsecond=0) + datetime.timedelta(seconds=5)
        rig.api("officer", "PUT", "/v1/clock", {"now": (e - datetime.timedelta(minutes=30)).isoformat()})
        rig.api("officer", "POST", "/v1/clock/advance", {"seconds": 0.7})
        early, on_time = f"EC{attempt:02d}01", f"EC{attempt:02d}02"
        printed = {rig.bundle(v)["earliestCrossing"] for v in (early, on_time)}
        if datetime.datetime.now(HK) > e - datetime.timedelta(seconds=1, milliseconds=-100):
            print(f"info case 6: attempt {attempt}: bundling took too long for second {e.time()}; again")
            continue
        checks.expect("central prints the earliest crossing in whole seconds: E", {e.isoformat()}, printed)
        rig.until(e - datetime.timedelta(seconds=1) + datetime.timedelta(milliseconds=100))
        seq_b, seq_c = rig.last_seq(B), rig.last_seq(C)
        rig.control(B, "arrive", vrn=early)
        rig.until(e + datetime.timedelta(milliseconds=100))
        rig.control(C, "arrive", vrn=on_time)
        arrived = (rig.arrived_at(B, seq_b, early), rig.arrived_at(C, seq_c, on_time))
        in_time = (arrived[0].replace(microsecond=0) == e - datetime.timedelta(seconds=1)
                   and arrived[1].replace(microsecond=0) == e)
        answers = (rig.answer(B, early), rig.answer(C, on_time))
        rig.leave(B)
        rig.leave(C)
        if not in_time:
            print(f"info case 6: attempt {attempt}: arrivals at {arrived[0].time()}, {arrived[1].time()} "
                  f"missed their seconds ({e.time()} - 1 s, {e.time()}); again")
            continue
        ms = [a.strftime("%H:%M:%S.%f")[:-3] for a in arrived]
        checks.expect(f"arrival at {ms[0]}, a second before the printed {e.time()}: EARLY_CROSSING",
                      ("INSPECT", "EARLY_CROSSING"), answers[0])
        checks.expect(f"arrival at {ms[1]}, the printed earliest crossing's second: CLEARED",
                      ("CLEARED", "BUNDLE_OK"), answers[1])
        return
    checks.fail("arrivals at the printed second", "three attempts missed their seconds (machine too busy)")


# ---------------------------------------------------------------- the rig


class Rig:
    def __init__(self, bindir, work):
        self.bin = bindir
        self.work = work
        self.central = None
        self.lanes = {}
        self.http_port = 0
        self.link_port = 0
        self.tokens = {}
        self.starts = 0

    def provision(self):
        accounts = (("cons-shipper", "shipper"), ("cons-driver", "driver"), ("cons-officer", "officer"))
        self.tokens.update(lanerig.provision_central(self.bin, self.work, LANES, accounts))
        for lane in LANES:
            if lane == C:
                timing = dict(decision_timeout="2s", unladen_grace="30s",
                              why_no_grace="the driver presses Unladen after the arrival.")
            else:
                timing = dict(decision_timeout="10s", why_no_grace="a no-bundle answer shows at once.")
            config = lanerig.lane_config(self.work, self.socket(lane), lane, heartbeat="300ms",
                                         dead_after="3s", **timing)
            config = config.replace(f"{self.work}/journal.sqlite", f"{self.work}/{lane}.journal.sqlite")
            # Offline decisions without random selection, as central's
            # (--laden-rate 0): a RANDOM would hide what the cache held.
            config += "offline: {phase: full, laden_rate: 0, unladen_rate: 0}\n"
            with open(f"{self.work}/{lane}.yaml", "w") as f:
                f.write(config)

    def socket(self, lane):
        return f"{self.work}/{lane}.sock"

    def start_central(self):
        """Starts clearanced (again on the same ports after a kill); its clock
        two hours behind the real one."""
        self.starts += 1
        start = datetime.datetime.now(HK).replace(microsecond=0) - datetime.timedelta(hours=2)
        out_path = f"{self.work}/central.{self.starts}.out"
        self.central = subprocess.Popen(
            [f"{self.bin}/clearanced", "serve", "--db", f"{self.work}/central.db",
             "--port", str(self.http_port), "--link-keys", f"{self.work}/keys",
             "--link-port", str(self.link_port), "--phase", "full", "--laden-rate", "0",
             "--unladen-rate", "0", "--log-level", "warning", "--simulated-clock", "--start", start.isoformat()],
            stdout=open(out_path, "w"), stderr=open(f"{self.work}/central.{self.starts}.err", "w"))
        self.http_port, self.link_port = lanerig.wait_ports(
            out_path, "consistency-test", self.central, ceiling=CEILING)

    def kill_central(self):
        self.central.kill()
        self.central.wait()

    def freeze_central(self):
        self.central.send_signal(signal.SIGSTOP)

    def thaw_central(self):
        self.central.send_signal(signal.SIGCONT)

    def start(self):
        self.start_central()
        for lane in LANES:
            lanerig.with_link_port(f"{self.work}/{lane}.yaml", f"{self.work}/{lane}-now.yaml", self.link_port)
            self.lanes[lane] = subprocess.Popen(
                [f"{self.bin}/laned", "--config", f"{self.work}/{lane}-now.yaml"],
                stdout=subprocess.DEVNULL, stderr=open(f"{self.work}/{lane}.err", "w"))
        for lane in LANES:
            self.wait_link(lane, "up")
            if not self.status(lane)["open"]:
                self.control(lane, "open", officer="consistency-test")

    def recover(self):
        """After a failed case: central running and thawed, every lane online
        and empty, so that the next case starts clean."""
        if self.central.poll() is None:
            self.thaw_central()
        else:
            self.start_central()
        for lane in LANES:
            try:
                self.wait_link(lane, "up")
                if self.status(lane).get("vrn"):
                    self.leave(lane)
                if self.status(lane)["offline"]:
                    self.offline(lane, False)
            except (CaseFailed, OSError, urllib.error.URLError) as e:
                print(f"info: {lane} not back to an online, empty lane: {e}")

    def stop(self):
        procs = list(self.lanes.values()) + ([self.central] if self.central else [])
        if self.central and self.central.poll() is None:
            self.thaw_central()
        lanerig.stop(procs)

    # --- lanes (laned's control socket)

    def control(self, lane, command, **fields):
        reply = lanerig.control(self.socket(lane), command, **fields)
        if not reply.get("ok"):
            raise CaseFailed(f"{lane}: {command} refused: {reply}")
        return reply["result"]

    def status(self, lane):
        deadline = time.monotonic() + CEILING
        while True:
            try:
                return self.control(lane, "status")
            except OSError:
                if time.monotonic() > deadline:
                    raise CaseFailed(f"{lane} did not answer for {CEILING} s (see {lane}.err)")
                time.sleep(0.1)

    def poll(self, probe, what, ceiling=CEILING, every=0.02):
        deadline = time.monotonic() + ceiling
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise CaseFailed(f"waited {ceiling} s for {what}")
            time.sleep(every)

    def wait_link(self, lane, state):
        """Until the lane's status says the link is `state` and its state
        machine has taken it too: the newest link entry in its journal is
        link_<state> (status reads the link client, which knows a moment
        before the machine, and only the machine decides fail fast)."""
        def linked():
            if self.status(lane)["link"] != state:
                return False
            entries = self.control(lane, "journal", limit=200)["entries"]
            last = next((e["kind"] for e in reversed(entries) if e["kind"] in ("link_up", "link_down")), None)
            return last in (None, f"link_{state}")
        self.poll(linked, f"{lane}'s link to be {state}", every=0.05)

    def drained(self, lane):
        self.poll(lambda: self.status(lane)["outbox_pending"] == 0, f"{lane}'s outbox to drain", every=0.05)

    def arrive_and_answer(self, lane, vrn):
        self.control(lane, "arrive", vrn=vrn)
        return self.answer(lane, vrn)

    def answer(self, lane, vrn, phases=("decided", "system_unavailable")):
        """What the lane's boards say about `vrn` once decided: (XDB, reason)."""
        status = self.poll(lambda: (s := self.status(lane)).get("vrn") == vrn and s["phase"] in phases and s,
                           f"{lane} to decide on {vrn}")
        return (status["xdb"], status["reason"])

    def leave(self, lane):
        self.control(lane, "leave")
        self.poll(lambda: self.status(lane)["phase"] == "welcome", f"{lane} to show WELCOME")

    def journal(self, lane, after):
        return self.control(lane, "journal", after=after, limit=1000)["entries"]

    def last_seq(self, lane):
        entries = self.control(lane, "journal", limit=1)["entries"]
        return entries[-1]["seq"] if entries else 0

    def offline_decision(self, lane, vrn):
        """Whether the decision the lane last showed for `vrn` carries the
        note OFFLINE (journal `instruction_shown`, `notes=`)."""
        shown = [e for e in self.control(lane, "journal", limit=50)["entries"]
                 if e["kind"] == "instruction_shown" and e.get("vrn") == vrn]
        detail = shown[-1].get("detail", "") if shown else ""
        return "notes=" in detail and "OFFLINE" in detail.split("notes=", 1)[1]

    def arrived_at(self, lane, after, vrn):
        entry = self.poll(lambda: next((e for e in self.journal(lane, after)
                                        if e["kind"] == "arrival" and e.get("vrn") == vrn), None),
                          f"{lane}'s arrival entry for {vrn}")
        return datetime.datetime.fromisoformat(entry["at"])

    def cached(self, lane, vrn):
        """Whether the lane's offline cache holds an active bundle for `vrn`:
        read from its journal file (read-only; laned's status does not say)."""
        db = sqlite3.connect(f"file:{self.work}/{lane}.journal.sqlite?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT count(*) FROM cache_bundle WHERE vrn = ? AND status = 'active'",
                              (vrn,)).fetchone()[0] > 0
        finally:
            db.close()

    def offline(self, lane, on):
        self.api("officer", "POST", f"/v1/lanes/{lane}/commands", {"command": "offline", "on": on})
        self.poll(lambda: self.status(lane)["offline"] == on, f"{lane}'s offline mode to be {on}", every=0.05)

    def refresh_cache(self, lane):
        """Makes the lane's cache hold every bundle made so far: offline off
        and on again, whose cache goes ahead of the command on the link."""
        self.offline(lane, False)
        self.offline(lane, True)

    @staticmethod
    def until(when):
        """Waits for a moment of the real clock (the lanes' clock)."""
        while (left := (when - datetime.datetime.now(HK)).total_seconds()) > 0:
            time.sleep(min(left, 0.5))

    # --- central (HTTP API)

    def api(self, role, method, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.tokens[role]}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raise CaseFailed(f"{method} {path}: {e.code} {e.read().decode(errors='replace')[:300]}")
        return json.loads(raw) if raw else None

    def bundle(self, vrn):
        today = datetime.date.fromisoformat(self.api("officer", "GET", "/v1/clock")["now"][:10])
        consignment = self.api("shipper", "POST", "/v1/consignments", {
            "direction": "import", "expectedDate": (today + datetime.timedelta(days=1)).isoformat(),
            "consignor": {"name": "Shenzhen Lanes Co", "countryCode": "CN", "addressLines": ["1 Shennan Road"]},
            "consignee": {"name": "Lanes Ltd", "countryCode": "HK", "addressLines": ["2 Castle Peak Road"]},
            "goodsItems": [{"description": "Copper Button", "grossWeight": {"value": 550, "unit": "KGM"}}]})
        return self.api("driver", "POST", "/v1/bundles", {
            "driverName": "Ho Wa Ping", "vrn": vrn, "direction": "import", "ccrns": [consignment["ccrn"]]})

    def bundle_status(self, ubr):
        return self.api("officer", "GET", f"/v1/bundles/{ubr}")["status"]

    def reconciliation(self, ubr, everything):
        """The offline crossings GET /v1/reconciliation lists for `ubr`."""
        body = self.api("officer", "GET", "/v1/reconciliation" + ("?all=true" if everything else ""))
        return [r for r in body["items"] if r.get("ubr") == str(ubr)]




class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.case = 0

    def expect(self, name, expected, actual):
        if expected == actual:
            self.passed += 1
            print(f"PASS case {self.case}: {name}", flush=True)
        else:
            self.fail(name, f"expected {expected}, got {actual}")

    def fail(self, name, why):
        self.failed += 1
        why = why if len(why) < 400 else why[:400] + "..."
        print(f"FAIL case {self.case}: {name}: {why}", flush=True)


if __name__ == "__main__":
    main()
