"""The campaign's clients: trucks at every lane, shippers and drivers
bundling at central, officers switching lanes offline and back and keeping
a watch list, debundling and rebundling while trucks are on the road.

Every client writes what it did to the history (history.jsonl), but the
checker judges the system from what the system itself recorded: the
lanes' journals and central's store. The history explains a violation and
gives the availability figures."""
import datetime
import json
import random
import threading
import time
import urllib.error
import urllib.request

from rig import DECISION_TIMEOUT, HK, NODES

CLASSES = [("bundled", 40), ("early", 8), ("unladen", 10), ("unknown", 10), ("watched", 8), ("race", 12),
           ("debundled", 6), ("rebundled", 6)]


class History:
    def __init__(self, path, started):
        self.file = open(path, "w")
        self.lock = threading.Lock()
        self.started = started
        self.events = []

    def add(self, kind, **fields):
        event = {"t": round(time.monotonic() - self.started, 3), "wall": round(time.time(), 3), "kind": kind,
                 **fields}
        with self.lock:
            self.events.append(event)
            self.file.write(json.dumps(event) + "\n")
            self.file.flush()
        return event


class Central:
    """Central's HTTP API on whichever node answers, n0 or n1 in a random order."""

    def __init__(self, system, rng):
        self.system = system
        self.rng = rng

    def call(self, role, method, path, body=None, timeout=10):
        nodes = list(NODES)
        self.rng.shuffle(nodes)
        last = None
        for node in nodes:
            request = urllib.request.Request(
                self.system.node_url(node) + path, method=method,
                data=None if body is None else json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {self.system.tokens[role]}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return json.load(response), node
            except urllib.error.HTTPError as error:
                detail = error.read().decode(errors="replace")[:300]
                if error.code < 500:
                    raise ApiRefused(f"{method} {path} on {node}: {error.code} {detail}")
                last = f"{node}: {error.code} {detail}"
            except OSError as error:
                last = f"{node}: {error}"
        raise ApiUnavailable(f"{method} {path}: no node answered ({last})")


class ApiRefused(Exception):
    pass


class ApiUnavailable(Exception):
    pass


class Workload:
    def __init__(self, system, history, seed, deadline, advance_at):
        self.system = system
        self.history = history
        self.seed = seed
        self.deadline = deadline
        self.advance_at = advance_at
        self.advanced = threading.Event()
        self.lane_locks = {lane.id: threading.Lock() for lane in system.lanes}
        self.pool = {"import": [], "export": []}
        self.fresh = {"import": [], "export": []}
        self.pool_lock = threading.Lock()
        self.serial = 0
        self.serial_lock = threading.Lock()
        self.threads = []
        self.errors = []

    def vrn(self, prefix):
        with self.serial_lock:
            self.serial += 1
            return f"{prefix}{self.serial:05d}"

    # -- central side

    def bundle(self, central, vrn, direction):
        expected = (self.system.start_time + datetime.timedelta(days=1)).date().isoformat()
        consignment, node = central.call("shipper", "POST", "/v1/consignments", {
            "direction": direction, "expectedDate": expected,
            "consignor": {"name": "Shenzhen Campaign Co", "countryCode": "CN", "addressLines": ["1 Shennan Road"]},
            "consignee": {"name": "Campaign Ltd", "countryCode": "HK", "addressLines": ["2 Castle Peak Road"]},
            "goodsItems": [{"description": "Copper Button", "grossWeight": {"value": 550, "unit": "KGM"}}]})
        return self.bundle_ccrns(central, vrn, direction, [consignment["ccrn"]])

    def bundle_ccrns(self, central, vrn, direction, ccrns):
        bundle, node = central.call("driver", "POST", "/v1/bundles", {
            "driverName": "Ho Wa Ping", "vrn": vrn, "direction": direction, "ccrns": ccrns})
        self.history.add("bundled", vrn=vrn, ubr=bundle["ubr"], direction=direction, node=node,
                         early=self.advanced.is_set(), ccrns=ccrns)
        return {"vrn": vrn, "ubr": bundle["ubr"], "direction": direction, "ccrns": ccrns}

    def bundler(self):
        """Keeps a few ready bundles per direction for the trucks."""
        central = Central(self.system, random.Random(self.seed * 7 + 1))
        while time.monotonic() < self.deadline:
            if not self.advanced.is_set() and time.monotonic() >= self.advance_at:
                self.advance_clock(central)
            made = False
            for direction in ("import", "export"):
                with self.pool_lock:
                    want = len(self.pool[direction]) < 12 or (
                        self.advanced.is_set() and len(self.fresh[direction]) < 3)
                if not want:
                    continue
                try:
                    bundle = self.bundle(central, self.vrn("CB" if direction == "import" else "CX"), direction)
                except (ApiRefused, ApiUnavailable) as error:
                    self.history.add("api_failed", what="bundle", error=str(error))
                    time.sleep(0.5)
                    continue
                made = True
                with self.pool_lock:
                    (self.fresh if self.advanced.is_set() else self.pool)[direction].append(bundle)
            if not made:
                time.sleep(0.2)

    def advance_clock(self, central):
        """Central's clock, two hours behind the lanes' so far, catches up:
        bundles made from now on are younger than 30 minutes at the lanes."""
        try:
            moved, node = central.call("officer", "POST", "/v1/clock/advance", {"seconds": 7200 - 60})
        except (ApiRefused, ApiUnavailable) as error:
            self.history.add("api_failed", what="clock advance", error=str(error))
            return
        self.history.add("clock_advanced", node=node, now=moved.get("now"))
        self.advanced.set()

    def take(self, direction, fresh=False):
        with self.pool_lock:
            source = self.fresh[direction] if fresh else self.pool[direction]
            return source.pop(0) if source else None

    def officer(self):
        """Switches a lane to offline mode and back now and then, and keeps the watch list."""
        rng = random.Random(self.seed * 7 + 2)
        central = Central(self.system, rng)
        while time.monotonic() < self.deadline - 20:
            time.sleep(rng.uniform(8, 16))
            lane = rng.choice(self.system.lanes)
            for on in (True, False):
                try:
                    central.call("officer", "POST", f"/v1/lanes/{lane.id}/commands", {"command": "offline", "on": on})
                    self.history.add("offline_switched", lane=lane.id, on=on)
                except (ApiRefused, ApiUnavailable) as error:
                    self.history.add("api_failed", what=f"offline {on} {lane.id}", error=str(error))
                if on:
                    time.sleep(rng.uniform(5, 12))

    # -- lanes

    def lane_driver(self, lane):
        rng = random.Random(self.seed * 1000 + lane.index)
        central = Central(self.system, rng)
        names = [name for name, _ in CLASSES]
        weights = [w for _, w in CLASSES]
        while time.monotonic() < self.deadline:
            kind = rng.choices(names, weights)[0]
            try:
                self.truck(lane, kind, rng, central)
            except Exception as error:  # a truck the rig could not drive; recorded, the campaign goes on
                self.history.add("driver_error", lane=lane.id, truck=kind, error=f"{type(error).__name__}: {error}")
                time.sleep(1)
            time.sleep(rng.uniform(0.2, 1.0))

    def truck(self, lane, kind, rng, central):
        vrn, ubr, unladen = None, None, False
        if kind in ("bundled", "race", "debundled", "rebundled", "watched"):
            bundle = self.take(lane.direction)
            if bundle is None:
                kind = "unknown"
            else:
                vrn, ubr = bundle["vrn"], bundle["ubr"]
        elif kind == "early":
            bundle = self.take(lane.direction, fresh=True) if self.advanced.is_set() else None
            if bundle is None:
                kind = "unknown"
            else:
                vrn, ubr = bundle["vrn"], bundle["ubr"]
        if kind == "unknown":
            vrn = self.vrn("UK")
        elif kind == "unladen":
            vrn, unladen = self.vrn("UL"), True
        if kind == "watched":
            try:
                central.call("officer", "POST", "/v1/watchlist", {"kind": "vrn", "value": vrn, "note": "campaign"})
                self.history.add("watched", vrn=vrn)
            except (ApiRefused, ApiUnavailable) as error:
                self.history.add("api_failed", what="watch", error=str(error))
        if kind in ("debundled", "rebundled"):
            try:
                central.call("driver", "POST", f"/v1/bundles/{ubr}/debundle", {})
                self.history.add("debundled", vrn=vrn, ubr=ubr)
                if kind == "rebundled":
                    again = self.bundle_ccrns(central, vrn, lane.direction, bundle["ccrns"])
                    ubr = again["ubr"]
            except (ApiRefused, ApiUnavailable) as error:
                self.history.add("api_failed", what=kind, error=str(error))
        lanes = [lane]
        if kind == "race":
            others = [other for other in self.system.lanes
                      if other is not lane and other.direction == lane.direction]
            if others:
                lanes.append(rng.choice(others))
        self.drive(lanes, vrn, kind, ubr, unladen)

    def drive(self, lanes, vrn, kind, ubr, unladen):
        """The truck (or, in a race, one truck per lane with the same plate)
        arrives, is answered or times out, and leaves."""
        for lane in sorted(lanes, key=lambda l: l.index):
            self.lane_locks[lane.id].acquire()
        try:
            barrier = threading.Barrier(len(lanes))
            threads = [threading.Thread(target=self.one_passage, args=(lane, vrn, kind, ubr, unladen, barrier))
                       for lane in lanes]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for lane in lanes:
                self.lane_locks[lane.id].release()

    def one_passage(self, lane, vrn, kind, ubr, unladen, barrier):
        system = self.system
        if not self.lane_ready(lane):
            self.history.add("lane_unavailable", lane=lane.id, vrn=vrn, truck=kind)
            return
        try:
            barrier.wait(10)
        except threading.BrokenBarrierError:
            pass
        arrived = time.monotonic()
        try:
            system.control(lane, "arrive", vrn=vrn)
            if unladen:
                system.control(lane, "press", button="unladen", action="click")
        except (OSError, RuntimeError) as error:
            self.history.add("arrive_failed", lane=lane.id, vrn=vrn, truck=kind, error=str(error))
            return
        self.history.add("arrived", lane=lane.id, vrn=vrn, truck=kind, ubr=ubr, unladen=unladen)
        shown = None
        while time.monotonic() - arrived < DECISION_TIMEOUT + 20:
            status = system.status(lane, quiet=True)
            if status.get("vrn") == vrn and status.get("phase") in ("decided", "system_unavailable"):
                shown = status
                break
            time.sleep(0.05)
        took = round(time.monotonic() - arrived, 3)
        if shown is None:
            self.history.add("no_answer", lane=lane.id, vrn=vrn, truck=kind, after=took)
        else:
            self.history.add("shown", lane=lane.id, vrn=vrn, truck=kind, phase=shown["phase"], xdb=shown.get("xdb"),
                             reason=shown.get("reason"), offline=shown.get("offline"), link=shown.get("link"),
                             after=took)
        for _ in range(3):
            try:
                if system.status(lane, quiet=True).get("vrn") != vrn:
                    break
                system.control(lane, "leave")
            except (OSError, RuntimeError):
                time.sleep(0.5)

    def lane_ready(self, lane, ceiling=30):
        """The lane answers on its control socket, is open and has no vehicle (a restarted laned may
        still be recovering one)."""
        deadline = time.monotonic() + ceiling
        while time.monotonic() < deadline:
            status = self.system.status(lane, quiet=True)
            if status:
                if not status.get("open"):
                    try:
                        self.system.control(lane, "open", officer="campaign")
                    except (OSError, RuntimeError):
                        pass
                elif status.get("vrn"):
                    try:
                        self.system.control(lane, "leave")
                    except (OSError, RuntimeError):
                        pass
                else:
                    return True
            time.sleep(0.2)
        return False

    # -- running

    def start(self):
        targets = [self.bundler, self.officer] + [lambda lane=lane: self.lane_driver(lane) for lane in self.system.lanes]
        for target in targets:
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self.threads.append(t)

    def join(self):
        for t in self.threads:
            t.join(DECISION_TIMEOUT + 60)
