"""The nemesis: faults on a schedule drawn from a seed. Each fault is
started, held for a while and healed; the history records both ends, so
the report can say what each did to availability.

The short campaign plays every kind once in a seeded order; a long one
draws kinds at random (`--minutes N --seed S`)."""
import os
import random
import subprocess
import threading
import time

from rig import NODES, NOISY_LANES, SMALL_DISK_LANE

KINDS = [
    "partition-lane", "partition-node-db", "partition-majority", "partition-nodes",
    "noisy-lane-link", "slow-database", "kill-lane", "stop-lane", "kill-node", "stop-node",
    "kill-database", "stop-database", "clock-forward", "clock-back", "full-disk",
]


class Nemesis:
    def __init__(self, system, network, history, seed, deadline, every=(12, 20), hold=(6, 14), shuffle_all=True):
        self.system = system
        self.network = network
        self.history = history
        self.rng = random.Random(seed * 31 + 5)
        self.deadline = deadline
        self.every = every
        self.hold = hold
        self.shuffle_all = shuffle_all
        self.thread = None
        self.count = {}
        self.failures = []

    def run(self):
        queue = []
        time.sleep(self.rng.uniform(*self.every) / 2)
        while time.monotonic() < self.deadline - self.hold[1] - 5:
            if not queue:
                queue = list(KINDS)
                if self.shuffle_all:
                    self.rng.shuffle(queue)
                else:
                    queue = [self.rng.choice(KINDS)]
            kind = queue.pop(0)
            hold = self.rng.uniform(*self.hold)
            try:
                detail, heal = getattr(self, kind.replace("-", "_"))()
            except Exception as error:  # the rig could not inject it; reported, never silent
                self.failures.append(f"{kind}: {error}")
                self.history.add("fault_failed", fault=kind, error=str(error))
                continue
            self.count[kind] = self.count.get(kind, 0) + 1
            self.history.add("fault_start", fault=kind, detail=detail, hold=round(hold, 1))
            time.sleep(hold)
            try:
                heal()
            except Exception as error:
                self.failures.append(f"healing {kind}: {error}")
                self.history.add("fault_failed", fault=kind, error=f"healing: {error}")
            self.history.add("fault_end", fault=kind, detail=detail)
            time.sleep(self.rng.uniform(*self.every))

    def start(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def join(self):
        if self.thread:
            self.thread.join()

    # -- the faults: each returns (what it did, how to heal it)

    def lane(self, noisy=False):
        lanes = [l for l in self.system.lanes if not noisy or l.id in NOISY_LANES]
        return self.rng.choice(lanes)

    def partition_lane(self):
        lane = self.lane()
        self.network.partition([lane.host], NODES)
        return f"{lane.id} from both nodes", self.network.heal

    def partition_node_db(self):
        node = self.rng.choice(NODES)
        self.network.partition([node], ["pg"])
        return f"{node} from the database", self.network.heal

    def partition_majority(self):
        minority = self.rng.choice(NODES)
        majority = [n for n in NODES if n != minority]
        lanes = [l.host for l in self.system.lanes]
        self.rng.shuffle(lanes)
        cut = lanes[: len(lanes) // 2]
        self.network.partition([minority], ["pg", *majority])
        self.network.partition([minority], cut)
        return f"{minority} with {len(lanes) - len(cut)} lanes cut off from the database, the other node " \
               f"and {len(cut)} lanes", self.network.heal

    def partition_nodes(self):
        self.network.partition([NODES[0]], [NODES[1]])
        return "n0 from n1", self.network.heal

    def noisy_lane_link(self):
        lane = self.lane(noisy=True)
        model = {"drop": 0.02, "duplicate": 0.02, "reorder": 0.02, "garbage": 0.01, "bit_flip": 0.0002,
                 "delay": 0.05, "delay_ms": [1, 40], "chunk": [1, 64]}
        for proxy in lane.proxies.values():
            self.proxy(proxy, "impair", direction="both", model=model)

        def heal():
            for proxy in lane.proxies.values():
                self.proxy(proxy, "clear")
        return f"{lane.id}'s link loses, duplicates, reorders and delays chunks", heal

    def slow_database(self):
        node = self.rng.choice(NODES)
        proxy = self.system.db_proxies[node]
        self.proxy(proxy, "impair", direction="both", model={"delay": 1.0, "delay_ms": [20, 120]})
        return f"{node}'s database traffic delayed 20-120 ms a chunk", lambda: self.proxy(proxy, "clear")

    def proxy(self, proxy, command, **fields):
        reply = self.system.proxy_command(proxy, command, **fields)
        if not reply.get("ok"):
            raise RuntimeError(f"{proxy.name}: {command}: {reply}")
        return reply

    def kill_lane(self):
        lane = self.lane()
        lane.process.kill()
        return f"laned {lane.id} SIGKILLed", lane.process.start

    def stop_lane(self):
        lane = self.lane()
        lane.process.freeze()
        return f"laned {lane.id} SIGSTOPped", lane.process.thaw

    def kill_node(self):
        node = self.rng.choice(NODES)
        self.system.nodes[node].kill()
        return f"clearanced {node} SIGKILLed", lambda: self.system.start_node(node)

    def stop_node(self):
        node = self.rng.choice(NODES)
        self.system.nodes[node].freeze()
        return f"clearanced {node} SIGSTOPped", self.system.nodes[node].thaw

    def kill_database(self):
        self.system.postgres.process.kill()
        return "PostgreSQL SIGKILLed (postmaster and every backend)", self.system.postgres.restart

    def stop_database(self):
        self.system.postgres.process.freeze()
        return "PostgreSQL SIGSTOPped", self.system.postgres.process.thaw

    def clock_step(self, seconds):
        lane = self.lane()
        self.system.control(lane, "clock", offset_seconds=seconds)
        return f"{lane.id}'s clock stepped {seconds:+d} s", lambda: self.system.control(
            lane, "clock", offset_seconds=0)

    def clock_forward(self):
        return self.clock_step(self.rng.choice([300, 1800, 3600]))

    def clock_back(self):
        return self.clock_step(-self.rng.choice([300, 1800, 7200]))

    def full_disk(self):
        lane = next(l for l in self.system.lanes if l.id == SMALL_DISK_LANE)
        filler = f"{lane.journal_dir}/filler"
        # dd stops with "No space left on device", which is the point.
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        return f"{lane.id}'s journal file system full", lambda: os.remove(filler)
