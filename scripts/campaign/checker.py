"""The checker: reads what the system recorded (every lane's journal,
central's crossings, lane events, offline crossings and bundles in
PostgreSQL) after the campaign healed everything, and checks the promises
of CLEARANCE-RULES.md, independently of the code under test:

  one-claim      no bundle cleared two passages (online claims and
                 offline crossings applied, by the passage that claimed it);
  once           every request, offline crossing and vehicle_left a lane
                 journaled is at central exactly once, and nothing else is;
  rule           every CLEARED shown is a rule applied to the data as it was
                 at the claim (bundle, earliest crossing, watch list,
                 Unladen), or an officer's override the lane journaled;
                 an offline CLEARED was reconciled or raised at central;
  answered       every arrival ended in a decision shown or rule 4 within
                 the decision timeout (not while the lane's own process was
                 stopped or killed: then nothing can be shown);
  journaled      every CLEARED the boards showed (the workload's view) is in
                 the lane's journal: nothing shown that was not written;
  drained        after healing, every lane's outbox is empty and every
                 offline crossing reconciled.

Each violation carries the passage's whole history: the journal lines of
its plate on every lane, central's crossings, offline crossings and
bundles for the plate, and the campaign's own events about it."""
import json
import re
import sqlite3

DETAIL = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def detail_fields(detail):
    fields = {}
    for key, value in DETAIL.findall(detail or ""):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        fields[key] = value
    return fields


def micros_to_ms(value):
    return int(value) // 1000


class Violation:
    def __init__(self, check, what, vrn=None, lane=None):
        self.check = check
        self.what = what
        self.vrn = vrn
        self.lane = lane
        self.history = None

    def as_dict(self):
        return {"check": self.check, "what": self.what, "vrn": self.vrn, "lane": self.lane,
                "history": self.history}


class Checker:
    def __init__(self, system, history_events, decision_timeout, lane_outages):
        self.system = system
        self.events = history_events
        self.timeout_ms = decision_timeout * 1000
        self.lane_outages = lane_outages  # lane id -> [(start, end)] in lane journal microseconds
        self.violations = []
        self.figures = {}
        self.journals = {}

    def fail(self, check, what, vrn=None, lane=None):
        self.violations.append(Violation(check, what, vrn, lane))

    def q(self, sql):
        return self.system.postgres.query(sql)

    # -- reading

    def read(self):
        for lane in self.system.lanes:
            db = sqlite3.connect(f"file:{lane.journal_dir}/journal.sqlite?mode=ro", uri=True)
            rows = db.execute(
                "SELECT seq, at, kind, vrn, request_id, decision_id, instruction, reason, officer, decision, detail "
                "FROM journal ORDER BY seq").fetchall()
            self.journals[lane.id] = [
                {"seq": r[0], "at": r[1], "kind": r[2], "vrn": r[3], "request_id": r[4], "decision_id": r[5],
                 "instruction": r[6], "reason": r[7], "officer": r[8],
                 "decision": json.loads(r[9]) if r[9] else None, "detail": detail_fields(r[10]),
                 "raw_detail": r[10]} for r in rows]
            db.close()
        self.crossings = [
            {"request_id": r[0], "lane": r[1], "vrn": r[2], "arrived_at": int(r[3]), "unladen": r[4] == "t",
             "instruction": r[5], "reason": r[6], "ubr": int(r[7]) if r[7] else None, "decided_at": int(r[8]),
             "direction": r[9]}
            for r in self.q("SELECT request_id, lane_id, vrn, arrived_at, unladen, instruction, reason, "
                            "coalesce(ubr::text, ''), decided_at, direction FROM crossings")]
        # Store times are milliseconds (docs/store.md); lane journals microseconds.
        # An offline crossing is also a crossing row ("offline:LANE:ID"); the
        # lane decided it, so it is judged by its reconciliation, not here.
        self.offline_mirrors = [c for c in self.crossings if c["request_id"].startswith("offline:")]
        self.crossings = [c for c in self.crossings if not c["request_id"].startswith("offline:")]
        self.offline = [
            {"lane": r[0], "passage": int(r[1]), "request_id": int(r[2]), "vrn": r[3], "instruction": r[4],
             "reason": r[5], "ubr": int(r[6]) if r[6] else None, "outcome": r[7], "conflict": r[8]}
            for r in self.q("SELECT lane_id, passage_id, request_id, vrn, instruction, reason, "
                            "coalesce(ubr::text, ''), outcome, coalesce(conflict, '') FROM offline_crossings")]
        self.bundles = {
            int(r[0]): {"ubr": int(r[0]), "vrn": r[1], "direction": r[2], "status": r[3], "completed_at": int(r[4]),
                        "earliest": int(r[5]), "ended_at": int(r[6]) if r[6] else None, "claimed_by": r[7] or None,
                        "claimed_at": int(r[8]) if r[8] else None}
            for r in self.q("SELECT ubr, vrn, direction, status, completed_at, earliest_crossing, "
                            "coalesce(ended_at::text, ''), coalesce(claimed_by, ''), coalesce(claimed_at::text, '') "
                            "FROM bundles")}
        self.watch = [(r[0], int(r[1])) for r in self.q("SELECT value, added_at FROM watch_list WHERE kind = 'vrn'")]
        self.left_events = {}
        for lane, passage in self.q(
                "SELECT lane_id, fields->>'passage' FROM lane_events WHERE kind = 'vehicle_left'"):
            self.left_events[(lane, passage)] = self.left_events.get((lane, passage), 0) + 1

    # -- checks

    def run(self):
        self.read()
        self.check_once()
        self.check_one_claim()
        self.check_rules()
        self.check_answered()
        self.check_journaled()
        self.figures_availability()
        for violation in self.violations:
            violation.history = self.passage_history(violation.vrn)
        return self.violations

    def passage_of_requests(self):
        """(lane, request id) -> passage, from every lane's decision_requested lines."""
        out = {}
        for lane, rows in self.journals.items():
            for row in rows:
                if row["kind"] == "decision_requested" and row["request_id"] is not None:
                    out[(lane, row["request_id"] & (2**64 - 1))] = (
                        int(row["detail"].get("passage", row["request_id"])), row["detail"].get("offline") == "true")
        return out

    def check_once(self):
        requests = self.passage_of_requests()
        at_central = {}
        for crossing in self.crossings:
            match = re.fullmatch(r"link:([^:]+):(\d+)", crossing["request_id"])
            if not match:
                self.fail("once", f"crossing with a request id no lane link makes: {crossing['request_id']}",
                          crossing["vrn"], crossing["lane"])
                continue
            at_central[(match.group(1), int(match.group(2)))] = crossing
        offline = {(o["lane"], o["request_id"]): o for o in self.offline}
        mirrored = {c["request_id"] for c in self.offline_mirrors}
        for o in self.offline:
            if f"offline:{o['lane']}:{o['request_id']}" not in mirrored:
                self.fail("once", f"offline crossing {o['lane']}/{o['request_id']} has no crossing row at central",
                          o["vrn"], o["lane"])
        for (lane, request), (passage, was_offline) in requests.items():
            vrn = self.vrn_of(lane, request)
            if was_offline:
                continue  # decided by the lane; its offline crossing is checked below
            if (lane, request) not in at_central:
                self.fail("once", f"{lane} request {request} (passage {passage}) journaled, no crossing at central",
                          vrn, lane)
        for (lane, request), crossing in at_central.items():
            if (lane, request) not in requests:
                self.fail("once", f"crossing {crossing['request_id']} at central that {lane} never journaled",
                          crossing["vrn"], lane)
        # The lane sends an offline crossing for every decision it took in
        # offline mode, shown or not (a held NO_BUNDLE superseded by an Unladen
        # press is sent too, as central records both requests online).
        decided_offline = set()
        for lane, rows in self.journals.items():
            for row in rows:
                if row["kind"] in ("decision_received", "instruction_shown") and self.is_offline(row):
                    decided_offline.add((lane, row["request_id"]))
                if row["kind"] == "instruction_shown" and self.is_offline(row) and (lane, row["request_id"]) \
                        not in offline:
                    self.fail("once", f"{lane} showed an offline decision for request {row['request_id']}; "
                              f"central has no offline crossing for it", row["vrn"], lane)
        for key, crossing in offline.items():
            if key not in decided_offline:
                self.fail("once", f"offline crossing {key} at central that the lane never decided",
                          crossing["vrn"], key[0])
        for lane, rows in self.journals.items():
            journaled = {}
            for row in rows:
                if row["kind"] == "vehicle_left":
                    passage = row["detail"].get("passage")
                    journaled[passage] = journaled.get(passage, 0) + 1
            for passage, n in journaled.items():
                if self.left_events.get((lane, passage), 0) != 1:
                    self.fail("once", f"{lane} journaled vehicle_left of passage {passage} {n}x; central has it "
                              f"{self.left_events.get((lane, passage), 0)}x", self.vrn_of_passage(lane, passage), lane)
            for (event_lane, passage), n in self.left_events.items():
                if event_lane == lane and passage not in journaled:
                    self.fail("once", f"central has vehicle_left of {lane} passage {passage} the lane never journaled",
                              None, lane)
        self.figures["requests"] = len(requests)
        self.figures["crossings"] = len(self.crossings)
        self.figures["offline_crossings"] = len(self.offline)

    def check_one_claim(self):
        requests = self.passage_of_requests()
        cleared_by = {}
        for crossing in self.crossings:
            if crossing["instruction"] == "CLEARED" and crossing["ubr"]:
                match = re.fullmatch(r"link:([^:]+):(\d+)", crossing["request_id"])
                if match:
                    lane, request = match.group(1), int(match.group(2))
                    passage = requests.get((lane, request), (request, False))[0]
                    cleared_by.setdefault(crossing["ubr"], set()).add(f"passage:{lane}:{passage}")
        for o in self.offline:
            if o["instruction"] == "CLEARED" and o["ubr"] and o["outcome"] == "applied":
                cleared_by.setdefault(o["ubr"], set()).add(f"passage:{o['lane']}:{o['passage']}")
        for ubr, passages in cleared_by.items():
            bundle = self.bundles.get(ubr)
            if len(passages) > 1:
                self.fail("one-claim", f"bundle {ubr} cleared {len(passages)} passages: {sorted(passages)}",
                          bundle and bundle["vrn"])
            elif bundle and bundle["claimed_by"] not in passages:
                self.fail("one-claim", f"bundle {ubr} cleared {sorted(passages)} but is claimed by "
                          f"{bundle['claimed_by']}", bundle["vrn"])
        # The lanes' own view: CLEARED with a UBR, per passage.
        seen = {}
        for lane, rows in self.journals.items():
            for row in rows:
                if row["kind"] == "instruction_shown" and row["instruction"] == "CLEARED" and row["decision"]:
                    ubr = row["decision"].get("ubr")
                    if ubr and not self.is_offline(row):
                        passage = requests.get((lane, row["request_id"]), (row["request_id"], False))[0]
                        seen.setdefault(int(ubr), set()).add((lane, passage))
        for ubr, passages in seen.items():
            if len(passages) > 1:
                self.fail("one-claim", f"lanes showed CLEARED on bundle {ubr} for {len(passages)} passages "
                          f"online: {sorted(passages)}", self.bundles.get(ubr, {}).get("vrn"))
        self.figures["bundles_cleared"] = len(cleared_by)

    def watched_at(self, vrn, at):
        return any(value == vrn and added <= at for value, added in self.watch)

    def active_bundle_at(self, vrn, direction, at, claimant):
        for bundle in self.bundles.values():
            if bundle["vrn"] != vrn or bundle["direction"] != direction or bundle["completed_at"] > at:
                continue
            if bundle["ended_at"] is not None and bundle["ended_at"] <= at and bundle["status"] == "debundled":
                continue
            if bundle["claimed_by"] and bundle["claimed_by"] != claimant and bundle["claimed_at"] <= at:
                continue
            return bundle
        return None

    def check_rules(self):
        requests = self.passage_of_requests()
        by_request = {c["request_id"]: c for c in self.crossings}
        for crossing in self.crossings:
            if crossing["instruction"] != "CLEARED":
                continue
            match = re.fullmatch(r"link:([^:]+):(\d+)", crossing["request_id"])
            lane, request = (match.group(1), int(match.group(2))) if match else (crossing["lane"], 0)
            passage = requests.get((lane, request), (request, False))[0]
            claimant = f"passage:{lane}:{passage}"
            at = crossing["decided_at"]
            vrn = crossing["vrn"]
            if self.watched_at(vrn, at):
                self.fail("rule", f"{crossing['request_id']} CLEARED a vehicle on the watch list", vrn, lane)
            if crossing["reason"] == "BUNDLE_OK":
                bundle = self.bundles.get(crossing["ubr"])
                if bundle is None:
                    self.fail("rule", f"{crossing['request_id']} CLEARED on bundle {crossing['ubr']} that does not "
                              f"exist", vrn, lane)
                    continue
                problems = []
                if bundle["vrn"] != vrn:
                    problems.append(f"the bundle is for {bundle['vrn']}")
                if bundle["direction"] != crossing["direction"]:
                    problems.append(f"the bundle is {bundle['direction']}")
                if bundle["completed_at"] > at:
                    problems.append("the bundle was made after the decision")
                if crossing["arrived_at"] < bundle["earliest"] - 999:
                    problems.append("the vehicle arrived before the bundle's earliest crossing")
                if bundle["claimed_by"] != claimant:
                    problems.append(f"the bundle is claimed by {bundle['claimed_by']}")
                if bundle["status"] == "debundled" and bundle["ended_at"] is not None and bundle["ended_at"] <= at:
                    problems.append("the bundle was debundled before the decision")
                if crossing["unladen"]:
                    problems.append("Unladen was pressed")
                if problems:
                    self.fail("rule", f"{crossing['request_id']} CLEARED BUNDLE_OK on {crossing['ubr']}: "
                              + "; ".join(problems), vrn, lane)
            elif crossing["reason"] == "UNLADEN":
                if not crossing["unladen"]:
                    self.fail("rule", f"{crossing['request_id']} CLEARED UNLADEN without an Unladen press", vrn, lane)
                bundle = self.active_bundle_at(vrn, crossing["direction"], at, claimant)
                if bundle:
                    self.fail("rule", f"{crossing['request_id']} CLEARED UNLADEN while bundle {bundle['ubr']} was "
                              f"active", vrn, lane)
            else:
                self.fail("rule", f"{crossing['request_id']} CLEARED with reason {crossing['reason']}", vrn, lane)
        # Every CLEARED a lane showed is one of those, an offline decision reconciled or raised, or an override.
        offline = {(o["lane"], o["request_id"]): o for o in self.offline}
        for lane, rows in self.journals.items():
            overridden = set()
            for row in rows:
                if row["kind"] == "override":
                    overridden.add(row["request_id"])
                if row["kind"] != "instruction_shown" or row["instruction"] != "CLEARED":
                    continue
                if row["request_id"] in overridden:
                    continue
                if self.is_offline(row):
                    o = offline.get((lane, row["request_id"]))
                    if o is None:
                        continue  # reported by "once"
                    if o["outcome"] not in ("applied", "conflict", "no_bundle"):
                        self.fail("rule", f"offline CLEARED {lane}/{row['request_id']} neither reconciled nor "
                                  f"raised ({o['outcome']})", row["vrn"], lane)
                    continue
                crossing = by_request.get(f"link:{lane}:{row['request_id']}")
                if crossing is None:
                    # A decision answering an earlier request of the same passage (resend after a restart).
                    passage = requests.get((lane, row["request_id"]), (None,))[0]
                    siblings = [c for c in self.crossings if c["lane"] == lane and c["instruction"] == "CLEARED"
                                and requests.get((lane, int(c["request_id"].rsplit(":", 1)[1])), (None,))[0]
                                == passage]
                    if not siblings:
                        self.fail("rule", f"{lane} showed CLEARED for request {row['request_id']} that central "
                                  f"never decided CLEARED", row["vrn"], lane)
                elif crossing["instruction"] != "CLEARED":
                    self.fail("rule", f"{lane} showed CLEARED for {crossing['request_id']}; central decided "
                              f"{crossing['instruction']} {crossing['reason']}", row["vrn"], lane)

    def is_offline(self, row):
        notes = (row["decision"] or {}).get("notes") or []
        return "OFFLINE" in notes or "OFFLINE" in row["detail"].get("notes", "")

    def check_answered(self):
        answered = timely = exempt = 0
        for lane, rows in self.journals.items():
            offsets = 0
            pending = None
            for row in rows:
                if row["kind"] == "clock_stepped":
                    try:
                        offsets += int(row["detail"].get("to_offset_s", 0)) - int(
                            row["detail"].get("from_offset_s", 0))
                    except ValueError:
                        pass
                    continue
                if row["kind"] == "arrival":
                    pending = (row, offsets)
                elif pending and row["kind"] in ("instruction_shown", "decision_timeout", "vehicle_left",
                                                 "recovered"):
                    start, start_offset = pending
                    pending = None
                    took_ms = (row["at"] - start["at"]) / 1000 - (offsets - start_offset) * 1000
                    if self.in_outage(lane, start["at"], row["at"]) or row["kind"] == "recovered":
                        exempt += 1
                        continue
                    if row["kind"] == "vehicle_left":
                        self.fail("answered", f"{lane}: {start['vrn']} left before any decision or rule 4 "
                                  f"(arrived seq {start['seq']})", start["vrn"], lane)
                        continue
                    answered += 1
                    if took_ms > self.timeout_ms + 1500:
                        self.fail("answered", f"{lane}: {start['vrn']} answered {took_ms / 1000:.1f} s after "
                                  f"arrival (timeout {self.timeout_ms / 1000:.0f} s)", start["vrn"], lane)
                    else:
                        timely += 1
        self.figures["arrivals_answered"] = answered
        self.figures["arrivals_exempt_lane_down"] = exempt

    def in_outage(self, lane, start, end):
        return any(s <= end and start <= e for s, e in self.lane_outages.get(lane, []))

    def check_journaled(self):
        for event in self.events:
            if event["kind"] == "shown" and event.get("xdb") == "CLEARED":
                rows = self.journals.get(event["lane"], [])
                if not any(r["kind"] == "instruction_shown" and r["vrn"] == event["vrn"]
                           and r["instruction"] == "CLEARED" for r in rows):
                    self.fail("journaled", f"{event['lane']} showed CLEARED for {event['vrn']} that its journal "
                              f"does not hold", event["vrn"], event["lane"])

    def figures_availability(self):
        by_rule = rule4 = 0
        for rows in self.journals.values():
            for row in rows:
                if row["kind"] == "instruction_shown":
                    if row["reason"] == "SYSTEM_UNAVAILABLE" or row["instruction"] == "SYSTEM_UNAVAILABLE":
                        rule4 += 1
                    else:
                        by_rule += 1
                elif row["kind"] == "decision_timeout":
                    rule4 += 1
        self.figures["decided_by_rule"] = by_rule
        self.figures["rule4"] = rule4
        self.figures["availability"] = round(by_rule / (by_rule + rule4), 4) if by_rule + rule4 else None

    # -- histories

    def vrn_of(self, lane, request):
        for row in self.journals.get(lane, []):
            if row["request_id"] == request and row["vrn"]:
                return row["vrn"]
        return None

    def vrn_of_passage(self, lane, passage):
        for row in self.journals.get(lane, []):
            if row["kind"] == "arrival" and row["detail"].get("passage") == passage:
                return row["vrn"]
        return None

    def passage_history(self, vrn):
        if not vrn:
            return None
        return {
            "journal": {lane: [{k: r[k] for k in ("seq", "at", "kind", "request_id", "instruction", "reason",
                                                   "raw_detail")} for r in rows if r["vrn"] == vrn]
                        for lane, rows in self.journals.items()},
            "crossings": [c for c in self.crossings if c["vrn"] == vrn],
            "offline_crossings": [o for o in self.offline if o["vrn"] == vrn],
            "bundles": [b for b in self.bundles.values() if b["vrn"] == vrn],
            "campaign": [e for e in self.events if e.get("vrn") == vrn],
        }
