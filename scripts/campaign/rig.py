"""The whole system on the simulated network: PostgreSQL on host `pg`, two
clearanced nodes on `n0` and `n1` (one PostgreSQL store, the cluster's
tables in it), laned lanes on `lane0`... at two control points, and the
campaign's own host `ops` that drives them.

Some lanes reach central through `lineproxy` (docs/lineproxy.md) on their
own host, one proxy per node, so the nemesis can damage their bytes; every
node reaches the database through a `lineproxy` on its host, so the
nemesis can delay, blackhole or cut that path. Lanes list both nodes as
`link.tcp.endpoints`, half of them n0 first, half n1 first."""
import datetime
import json
import os
import subprocess
import urllib.request

import lanerig
import processes
from processes import Process, wait_for

HK = datetime.timezone(datetime.timedelta(hours=8))
LINK_PORT = 4711
HTTP_PORT = 8080
DB_PROXY_PORT = 6432
LANES = [
    ("LMC-IN-01", "LMC", "import"), ("LMC-IN-02", "LMC", "import"), ("LMC-OUT-01", "LMC", "export"),
    ("SBC-IN-01", "SBC", "import"), ("SBC-IN-02", "SBC", "import"), ("SBC-OUT-01", "SBC", "export"),
]
NODES = ["n0", "n1"]
# Lanes whose links pass through an impairment proxy, and the one whose
# journal lies on a small file system of its own (the full-disk fault).
NOISY_LANES = {"LMC-IN-01", "SBC-IN-01"}
SMALL_DISK_LANE = "SBC-IN-02"
DECISION_TIMEOUT = 8


def hosts(lane_count):
    return ["ops", "pg", *NODES, *[f"lane{i}" for i in range(lane_count)]]


class Lane:
    def __init__(self, index, lane_id, control_point, direction):
        self.index = index
        self.id = lane_id
        self.control_point = control_point
        self.direction = direction
        self.host = f"lane{index}"
        self.process = None
        self.proxies = {}
        self.journal_dir = None

    @property
    def socket(self):
        return f"{self.work}/{self.id}.sock"


class System:
    def __init__(self, network, work, bindir, lane_count, seed):
        self.network = network
        self.work = work
        self.bin = bindir
        self.seed = seed
        self.postgres = processes.Postgres(network, work)
        self.nodes = {}
        self.db_proxies = {}
        self.lanes = [Lane(i, *LANES[i]) for i in range(lane_count)]
        for lane in self.lanes:
            lane.work = work
        self.tokens = {}
        self.officer_password = "campaign-officer-password"
        self.start_time = datetime.datetime.now(HK).replace(microsecond=0) - datetime.timedelta(hours=2)
        self.logs = f"{work}/logs"
        os.makedirs(self.logs, exist_ok=True)

    # -- set-up

    def clearanced(self, *args, input=None):
        """A clearanced administration command on host n0, straight to the database."""
        done = subprocess.run(
            self.network.exec_prefix("n0") + [f"{self.bin}/clearanced", *args, *self.store_args(direct=True)],
            capture_output=True, text=True, input=input)
        if done.returncode != 0:
            raise RuntimeError(f"clearanced {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def store_args(self, direct=False, node=None):
        host, port = (self.postgres.address, self.postgres.port) if direct else ("127.0.0.1", DB_PROXY_PORT)
        # Without TLS: the campaign's network never leaves this machine, and
        # TLS is not what it tests (deploying-central.md says verify-full).
        return ["--store", f"postgres://lanekiosk@{host}:{port}/lanekiosk?sslmode=disable",
                "--store-password-file", self.postgres.password_file]

    def provision(self):
        self.postgres.initdb()
        os.mkdir(f"{self.work}/keys", 0o700)
        for lane in self.lanes:
            self.clearanced("lane", "add", "--id", lane.id, "--control-point", lane.control_point,
                            "--direction", lane.direction, "--keys-dir", f"{self.work}/keys")
        for name, role in (("camp-shipper", "shipper"), ("camp-driver", "driver"), ("camp-officer", "officer")):
            self.tokens[role] = self.clearanced("account", "add", "--name", name, "--role", role).strip() \
                .splitlines()[-1]
        self.clearanced("account", "password", "--name", "camp-officer", input=self.officer_password + "\n")
        for lane in self.lanes:
            self.write_lane_config(lane)

    def write_lane_config(self, lane):
        if lane.id == SMALL_DISK_LANE:
            lane.journal_dir = f"{self.work}/{lane.id}-disk"
            os.mkdir(lane.journal_dir)
            # Only the nemesis fills it (a file that takes what is left): a
            # 6 MiB one filled up by itself after 20 minutes of traffic, the
            # lane's journal and its cache, and the lane stayed closed for the
            # rest of a 30-minute campaign, as it should.
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", lane.journal_dir], check=True)
        else:
            lane.journal_dir = f"{self.work}/{lane.id}-journal"
            os.mkdir(lane.journal_dir)
        order = NODES if lane.index % 2 == 0 else list(reversed(NODES))
        if lane.id in NOISY_LANES:
            endpoints = [f'"127.0.0.1:{self.lane_proxy_port(node)}"' for node in order]
        else:
            endpoints = [f'"{self.network.address(node)}:{LINK_PORT}"' for node in order]
        config = f"""
lane: {{id: {lane.id}, control_point: {lane.control_point}, direction: {lane.direction}}}
# The driver of an unladen truck presses Unladen as the truck arrives.
decision: {{timeout: {DECISION_TIMEOUT}s, unladen_grace: 3s}}
link:
  tcp: {{endpoints: [{", ".join(endpoints)}]}}
  key_file: {self.work}/keys/{lane.id}.key
  heartbeat: 300ms
  dead_after: 3s
gpio: {{backend: virtual}}
displays: {{backend: headless}}
journal: {{path: {lane.journal_dir}/journal.sqlite}}
control: {{socket: {lane.socket}, allow_virtual_inputs: true}}
watchdog: {{enabled: false}}
log: {{level: warning}}
# Offline decisions without random selection, as central's (--laden-rate 0),
# so that the checker can recompute every CLEARED.
offline: {{phase: full, laden_rate: 0, unladen_rate: 0}}
"""
        with open(f"{self.work}/{lane.id}.yaml", "w") as f:
            f.write(config)

    @staticmethod
    def lane_proxy_port(node):
        return 47110 + NODES.index(node)

    # -- processes

    def lineproxy(self, name, host, listen, target, seed):
        control = f"{self.work}/{name}.ctl"
        process = Process(name, self.network.exec_prefix(host) + [
            f"{self.bin}/lineproxy", "--listen", listen, "--target", target, "--seed", str(seed),
            "--control", control], self.logs)
        process.control = control
        process.start()
        wait_for(lambda: "lineproxy listening on" in open(f"{self.logs}/{name}.out").read(),
                 f"{name} listening", 30)
        return process

    def start(self):
        for n, node in enumerate(NODES):
            self.db_proxies[node] = self.lineproxy(
                f"dbproxy-{node}", node, f"127.0.0.1:{DB_PROXY_PORT}",
                f"{self.postgres.address}:{self.postgres.port}", self.seed * 100 + n)
            self.start_node(node)
        for lane in self.lanes:
            if lane.id in NOISY_LANES:
                for n, node in enumerate(NODES):
                    lane.proxies[node] = self.lineproxy(
                        f"linkproxy-{lane.id}-{node}", lane.host, f"127.0.0.1:{self.lane_proxy_port(node)}",
                        f"{self.network.address(node)}:{LINK_PORT}", self.seed * 100 + 10 + lane.index * 2 + n)
            lane.process = Process(lane.id, self.network.exec_prefix(lane.host) + [
                f"{self.bin}/laned", "--config", f"{self.work}/{lane.id}.yaml"], self.logs)
            lane.process.start()
        for lane in self.lanes:
            wait_for(lambda: self.status(lane, quiet=True).get("link") == "up", f"{lane.id}'s link up", 90)
            if not self.status(lane)["open"]:
                self.control(lane, "open", officer="campaign")

    def start_node(self, node):
        if node not in self.nodes:
            self.nodes[node] = Process(f"clearanced-{node}", self.network.exec_prefix(node) + [
                f"{self.bin}/clearanced", "serve", *self.store_args(), "--host", "0.0.0.0",
                "--port", str(HTTP_PORT), "--link-keys", f"{self.work}/keys", "--link-host", "0.0.0.0",
                "--link-port", str(LINK_PORT), "--phase", "full", "--laden-rate", "0", "--unladen-rate", "0",
                "--log-level", "warning", "--simulated-clock", "--start", self.start_time.isoformat(),
                "--link-state", f"{self.work}/{node}.link.sqlite", "--node-id", node], self.logs)
        self.nodes[node].start()
        wait_for(lambda: self.http_up(node), f"clearanced on {node} answering", 90)

    def http_up(self, node):
        try:
            with urllib.request.urlopen(f"{self.node_url(node)}/v1/health", timeout=2):
                return True
        except OSError:
            return False

    def stop(self):
        for lane in self.lanes:
            if lane.process:
                lane.process.stop()
        for node in self.nodes.values():
            node.stop()
        for proxy in [*self.db_proxies.values(), *[p for lane in self.lanes for p in lane.proxies.values()]]:
            proxy.stop()
        self.postgres.stop()
        for lane in self.lanes:
            if lane.id == SMALL_DISK_LANE and lane.journal_dir:
                subprocess.run(["umount", lane.journal_dir], capture_output=True)

    # -- talking to lanes

    def control(self, lane, command, **fields):
        """One request on a lane's control socket (docs/control-socket.md); its result."""
        reply = lanerig.control(lane.socket, command, **fields)
        if not reply.get("ok"):
            raise RuntimeError(f"{lane.id}: {command} refused: {reply.get('error')}")
        return reply["result"]

    def status(self, lane, quiet=False):
        try:
            return self.control(lane, "status")
        except (OSError, RuntimeError):
            if quiet:
                return {}
            raise

    def proxy_command(self, proxy, command, **fields):
        """One request on a lineproxy's control socket (docs/lineproxy.md), the same protocol."""
        return lanerig.control(proxy.control, command, **fields)

    def node_url(self, node):
        return f"http://{self.network.address(node)}:{HTTP_PORT}"
