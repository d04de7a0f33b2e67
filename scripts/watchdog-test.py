#!/usr/bin/env python3
"""systemd's watchdog restarts a hung clearanced (issue 13, part 2).

This host's PID 1 is not systemd, so this script plays systemd's part over
the notify protocol, as systemd does for a unit with Type=notify,
WatchdogSec= and Restart=on-watchdog (systemd/clearanced.service):

1. binds a unix datagram socket and starts the real clearanced with
   NOTIFY_SOCKET and WATCHDOG_USEC set, its lane link on, and the test
   build's CLEARANCED_TEST_FREEZE_STORE_AFTER=N, which makes every store
   read after the first N statements hang for good (a frozen SQLite call);
2. waits for READY=1, then for WATCHDOG=1 pings while the store answers;
3. once no ping has come for WatchdogSec, sends SIGABRT (systemd's
   WatchdogSignal) and SIGKILL after a grace, as systemd would, and checks
   that clearanced said why it withheld the pings (STATUS= naming the store);
4. starts it again without the freeze (Restart=on-watchdog) and checks it
   is READY, pings, and serves a request that reads the store.

A clearanced that pinged regardless of its store would never be killed, and
step 3 fails. Bounded: a few rounds of a few seconds each.

Usage: scripts/watchdog-test.py --bin .build/debug [--watchdog-sec 4] [--freeze-after 30]
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def fail(message):
    print(f"watchdog-test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


class Supervisor:
    """The part of systemd this test needs: the notify socket and the clock."""

    def __init__(self, work):
        self.path = os.path.join(work, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def receive(self, timeout):
        """One notify datagram as a list of KEY=VALUE lines, or None after timeout seconds."""
        self.sock.settimeout(max(timeout, 0.01))
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        return data.decode(errors="replace").split("\n")

    def start(self, binary, work, watchdog_sec, extra_env):
        env = dict(os.environ)
        env.pop("WATCHDOG_PID", None)
        env.update(NOTIFY_SOCKET=self.path, WATCHDOG_USEC=str(int(watchdog_sec * 1_000_000)), **extra_env)
        out = open(os.path.join(work, "stdout"), "w")
        err = open(os.path.join(work, "stderr"), "a")
        return subprocess.Popen(
            [binary, "serve", "--db", os.path.join(work, "central.sqlite"), "--port", "0",
             "--link-port", "0", "--link-keys", os.path.join(work, "keys"), "--log-level", "notice"],
            env=env, stdout=out, stderr=err)

    def wait_ready(self, process, ceiling):
        deadline = time.monotonic() + ceiling
        while time.monotonic() < deadline:
            if process.poll() is not None:
                fail(f"clearanced exited with {process.returncode} before READY=1")
            lines = self.receive(deadline - time.monotonic())
            if lines and "READY=1" in lines:
                return
        fail(f"no READY=1 within {ceiling} s")

    def watch(self, process, watchdog_sec, ceiling):
        """Counts WATCHDOG=1 pings until none comes for watchdog_sec (the
        watchdog expires: returns the pings and the last STATUS=) or until
        ceiling seconds pass with pings still coming (returns None)."""
        pings = 0
        status = ""
        last = time.monotonic()
        end = last + ceiling
        while time.monotonic() < end:
            if process.poll() is not None:
                fail(f"clearanced exited with {process.returncode} on its own")
            remaining = last + watchdog_sec - time.monotonic()
            lines = self.receive(remaining) if remaining > 0 else None
            if lines is None:
                return pings, status
            for line in lines:
                if line == "WATCHDOG=1":
                    pings += 1
                    last = time.monotonic()
                elif line.startswith("STATUS="):
                    status = line
        return None

    @staticmethod
    def kill_on_watchdog(process):
        """systemd: WatchdogSignal (SIGABRT), then SIGKILL after TimeoutAbortSec."""
        process.send_signal(signal.SIGABRT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_status(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def listening(work, ceiling=30):
    deadline = time.monotonic() + ceiling
    while time.monotonic() < deadline:
        for line in open(os.path.join(work, "stdout")).read().splitlines():
            if line.startswith("listening on "):
                return "http://" + line[len("listening on "):]
        time.sleep(0.05)
    fail("clearanced printed no 'listening on' line")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="directory holding the clearanced test (debug) build")
    parser.add_argument("--watchdog-sec", type=float, default=4.0)
    parser.add_argument("--freeze-after", type=int, default=30, help="store statements before the freeze")
    args = parser.parse_args()
    binary = os.path.join(args.bin, "clearanced")
    wd = args.watchdog_sec

    with tempfile.TemporaryDirectory(prefix="watchdog-test-") as work:
        os.makedirs(os.path.join(work, "keys"))
        systemd = Supervisor(work)

        process = systemd.start(binary, work, wd, {"CLEARANCED_TEST_FREEZE_STORE_AFTER": str(args.freeze_after)})
        try:
            systemd.wait_ready(process, ceiling=60)
            watched = systemd.watch(process, wd, ceiling=20 * wd)
            if watched is None:
                fail(f"pings kept coming for {20 * wd:.0f} s although the store froze: the watchdog does not see it")
            pings, status = watched
            # clearanced says why once its stuck round ends (1.5 intervals
            # after the last ping, before the watchdog runs out); on a busy
            # machine the datagram may come a little after systemd's
            # deadline, which does not matter to systemd but would to the
            # check below: listen a little longer for it.
            grace = time.monotonic() + 2 * wd
            while "store" not in status and time.monotonic() < grace:
                for line in systemd.receive(grace - time.monotonic()) or []:
                    if line.startswith("STATUS="):
                        status = line
                    elif line == "WATCHDOG=1":
                        fail("a WATCHDOG=1 after the store froze and the pings had stopped")
            if pings < 1:
                fail("no WATCHDOG=1 before the store froze: the probes never passed")
            if "store" not in status:
                fail(f"clearanced withheld its pings without saying the store is stuck (last status: {status!r})")
            print(f"frozen run: READY=1, {pings} WATCHDOG=1 while the store answered, then none for {wd} s; {status}")
        finally:
            if process.poll() is None:
                Supervisor.kill_on_watchdog(process)
        print(f"watchdog expired: clearanced killed (exit {process.returncode}); restarting it as Restart=on-watchdog does")

        process = systemd.start(binary, work, wd, {})
        try:
            systemd.wait_ready(process, ceiling=60)
            api = listening(work)
            pings = 0
            deadline = time.monotonic() + 10 * wd
            while pings < 2 and time.monotonic() < deadline:
                lines = systemd.receive(deadline - time.monotonic())
                pings += (lines or []).count("WATCHDOG=1")
            if pings < 2:
                fail(f"the restarted clearanced sent {pings} WATCHDOG=1 in {10 * wd:.0f} s")
            health = http_status(api + "/v1/health")
            # An unknown token is refused after a look-up in the store's accounts.
            refused = http_status(api + "/v1/consignments/unknown", token="not-a-token")
            if health != 200 or refused != 401:
                fail(f"the restarted clearanced answers /v1/health {health} and an unknown token {refused}")
            print(f"restarted: READY=1, {pings} WATCHDOG=1, /v1/health 200, store look-up 401 for a bad token")
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                fail("the restarted clearanced did not stop on SIGTERM within 20 s")
    print("watchdog-test: ok")


if __name__ == "__main__":
    main()
