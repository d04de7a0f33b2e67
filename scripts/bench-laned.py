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

Usage: scripts/bench-laned.py [--passages N] [--bin DIR] [--no-build]
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--bin", default=None, help="directory with laned and clearanced (default: a release build)")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = args.bin
    if bindir is None:
        release = ["swift", "build", "-c", "release", "--scratch-path", ".build-bench-laned"]
        if not args.no_build:
            for product in ("laned", "clearanced"):
                subprocess.run(release + ["--product", product, "-q"], cwd=package, check=True)
        bindir = subprocess.check_output(release + ["--show-bin-path"], cwd=package, text=True).strip()
    work = tempfile.mkdtemp(prefix="bench-laned.")
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", TZ="UTC")
    procs = []
    try:
        os.mkdir(f"{work}/keys", 0o700)
        subprocess.run([f"{bindir}/clearanced", "lane", "add", "--db", f"{work}/central.db", "--id", LANE,
                        "--control-point", "LMC", "--direction", "import", "--keys-dir", f"{work}/keys"],
                       check=True, stdout=subprocess.DEVNULL)
        central = subprocess.Popen(
            [f"{bindir}/clearanced", "serve", "--db", f"{work}/central.db", "--port", "0", "--link-keys",
             f"{work}/keys", "--link-port", "0", "--phase", "full", "--laden-rate", "0", "--unladen-rate", "0",
             "--log-level", "warning"],
            stdout=open(f"{work}/central.out", "w"), stderr=open(f"{work}/central.err", "w"), env=env)
        procs.append(central)
        port = wait_for_link_port(f"{work}/central.out")
        sock = f"{work}/lane.sock"
        with open(f"{work}/lane.yaml", "w") as f:
            f.write(f"""
lane: {{id: {LANE}, control_point: LMC, direction: import}}
decision: {{timeout: 2s, unladen_grace: 20s}}
link: {{tcp: {{host: 127.0.0.1, port: {port}}}, key_file: {work}/keys/{LANE}.key}}
gpio: {{backend: virtual}}
displays: {{backend: headless}}
journal: {{path: {work}/journal.sqlite}}
control: {{socket: {sock}, allow_virtual_inputs: true}}
watchdog: {{enabled: false}}
log: {{level: warning}}
""")
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
        for key, name in (("press_to_display", "button edge -> boards drawn (in laned)"),
                          ("arrival_to_stop", "arrival -> STOP drawn (in laned)"),
                          ("arrival_to_decision", "arrival -> decision drawn (in laned)")):
            figures = latency.get(key)
            if figures:
                print(f"{name:<44} {ms(figures['median_us'] / 1e6):>10} {ms(figures['p99_us'] / 1e6):>10} "
                      f"{figures['samples']:>8}")
        print(f"{'client: arrive round trip (STOP drawn)':<44} {ms(median(arrive_rtt)):>10} "
              f"{ms(p99(arrive_rtt)):>10} {len(arrive_rtt):>8}")
        print(f"{'baseline: status round trip, same socket':<44} {ms(median(status_rtt)):>10} "
              f"{ms(p99(status_rtt)):>10} {len(status_rtt):>8}")
        print(f"arrive / status at the median: x{median(arrive_rtt) / median(status_rtt):.1f}")
        print(f"laned memory idle:             VmRSS {idle['VmRSS']}, VmHWM {idle['VmHWM']}")
        print(f"laned memory after {args.passages} passages: VmRSS {after['VmRSS']}, VmHWM {after['VmHWM']}")
        print(f"journal file: {os.path.getsize(f'{work}/journal.sqlite') / 1e6:.1f} MB "
              f"({json.dumps(status['passages'])} passages counted by laned)")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["rm", "-rf", work])


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


def median(xs):
    return statistics.median(xs)


def p99(xs):
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


if __name__ == "__main__":
    main()
