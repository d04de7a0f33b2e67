#!/usr/bin/env python3
"""The officers' console in a real browser against real processes: headless
Chromium (driven over W3C WebDriver by chromedriver) logs in to a clearanced
whose lane link carries one laned (virtual inputs, headless boards), and an
officer does what a shift does: sees a vehicle arrive, answers a Help call,
sends the driver a phrase, overrides the lane's decision and ends the call.
Each step asserts what the officer would see in the page and what the lane
itself shows (its control socket's status), so the console is tested end to
end, not against a stub.

The vehicle is deterministic: an unbundled VRN at a lane without unladen
grace (decision.unladen_grace: 0s) and central without random selection
(--laden-rate 0 --unladen-rate 0, --phase full) is always INSPECT/NO_BUNDLE;
the officer then releases it (CLEARED/OFFICER_RELEASE).

Officers: chan and lee at LMC, wong at SBC. Steps:
  a. a wrong password is refused (login-error) and the page stays on login;
  b. chan logs in: the LMC-IN-01 card shows, link up, live socket up;
  c. a vehicle arrives: the card's VRN and instruction change without a reload;
  d. Help pressed at the lane: a ringing call row; then the simulated clock
     passes --help-escalate-after and the call turns escalated (loud banner);
  e. chan answers; lee answering the same call gets 409 and changes nothing;
     wong (SBC) gets 403 on LMC-IN-01's call and lane;
  f. chan sends phrase 2 with text: the lane's status shows it;
  g. chan releases the vehicle with a reason (an empty reason is refused in
     the page): the lane's XDB shows CLEARED and the card follows;
  h. screenshots at 1366x768, 768x1024 and in zh-Hant, with no horizontal
     scrolling at either size;
  i. chan ends the call: the lane's help state returns to idle;
  j. a POST without X-CSRF-Token, with chan's cookie, gets 403 and changes nothing;
  k. crossings search finds the vehicle; a watch-list entry is added and
     removed (after confirming); closing the lane needs a confirmation in the
     page (cancel leaves it open), reopening does not;
  l. a reconciliation conflict (an offline crossing on a bundle already used,
     written into central's store as the hub would) is shown above the lanes
     with central's sentence and the lane's counts; chan acknowledges it with
     a note and it leaves the page (the record stays, with chan's name);
  m. the session is logged out elsewhere: the page goes back to login saying so.

Usage: scripts/console-browser-test.py [--bin DIR] [--screenshots DIR] [--keep]
Python 3.11 standard library only. Installs chromium and chromium-driver with
apt-get when missing (sudo when not root). Prints one line per step and
"console-browser-test: N passed"; exits non-zero on a failure, saving a
screenshot of the page (failure-*.png) in the screenshots directory.
"""
import argparse
import base64
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import lanerig

LANE = "LMC-IN-01"
VRN = "CW2026"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class StepFailure(Exception):
    pass


# MARK: WebDriver


class WebDriverError(Exception):
    def __init__(self, status, error, message):
        super().__init__(f"{error}: {message}")
        self.status = status
        self.error = error


def http_json(method, url, body=None, headers=None, timeout=60):
    """(status, parsed JSON or None, response headers) for one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status, response_headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        raw = error.read()
        status, response_headers = error.code, error.headers
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, response_headers


class Browser:
    """One WebDriver session: the few W3C endpoints this test needs."""

    def __init__(self, driver_url, width, height):
        self.driver = driver_url
        status, body, _ = http_json("POST", f"{driver_url}/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}",
                         "--lang=en-US", "--disable-dev-shm-usage"],
            },
        }}})
        if status != 200:
            raise StepFailure(f"chromedriver refused a session ({status}): {body}")
        self.session = body["value"]["sessionId"]
        self.base = f"{driver_url}/session/{self.session}"

    def call(self, method, path, body=None):
        if method == "POST" and body is None:
            body = {}
        status, reply, _ = http_json(method, self.base + path, body)
        value = reply.get("value") if isinstance(reply, dict) else None
        if status != 200:
            error = value.get("error", "?") if isinstance(value, dict) else "?"
            message = value.get("message", "") if isinstance(value, dict) else str(reply)
            raise WebDriverError(status, error, message.splitlines()[0] if message else "")
        return value

    def get(self, url):
        self.call("POST", "/url", {"url": url})

    def find(self, css, within=None):
        """The first element matching `css` (inside `within`), or None."""
        path = f"/element/{within}/element" if within else "/element"
        try:
            return self.call("POST", path, {"using": "css selector", "value": css})[ELEMENT]
        except WebDriverError as error:
            if error.error == "no such element":
                return None
            raise

    def find_all(self, css, within=None):
        path = f"/element/{within}/elements" if within else "/elements"
        return [e[ELEMENT] for e in self.call("POST", path, {"using": "css selector", "value": css})]

    def click(self, element):
        self.call("POST", f"/element/{element}/click")

    def clear(self, element):
        self.call("POST", f"/element/{element}/clear")

    def send_keys(self, element, text):
        self.call("POST", f"/element/{element}/value", {"text": text})

    def text(self, element):
        return self.call("GET", f"/element/{element}/text")

    def attribute(self, element, name):
        return self.call("GET", f"/element/{element}/attribute/{name}")

    def displayed(self, element):
        return self.call("GET", f"/element/{element}/displayed")

    def execute(self, script, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        png = base64.b64decode(self.call("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def set_window(self, width, height):
        self.call("POST", "/window/rect", {"width": width, "height": height})

    def cookies(self):
        return self.call("GET", "/cookie")

    def quit(self):
        try:
            self.call("DELETE", "")
        except (WebDriverError, OSError):
            pass


# MARK: The rig: clearanced, laned, chromedriver


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_chromium():
    if os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK):
        return
    print("console-browser-test: installing chromium and chromium-driver", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True, env=env,
                   stdout=subprocess.DEVNULL)


class Rig:
    def __init__(self, bindir, work, console_dir):
        self.bin = bindir
        self.work = work
        self.console_dir = console_dir
        self.socket = os.path.join(work, "lane.sock")
        self.processes = []
        self.passwords = {}
        self.tokens = {}
        self.api = None

    def run(self, args, stdin=None):
        done = subprocess.run([f"{self.bin}/clearanced"] + args, input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            raise StepFailure(f"clearanced {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def provision(self):
        db = f"{self.work}/central.db"
        os.mkdir(f"{self.work}/keys", 0o700)
        self.run(["lane", "add", "--db", db, "--id", LANE, "--control-point", "LMC", "--direction", "import",
                  "--keys-dir", f"{self.work}/keys"])
        for name, cp in (("chan", "LMC"), ("lee", "LMC"), ("wong", "SBC")):
            out = self.run(["account", "add", "--db", db, "--name", name, "--role", "officer", "--control-point", cp])
            # The bearer token (last line) moves the simulated clock; the
            # console itself only takes passwords.
            self.tokens[name] = out.strip().splitlines()[-1]
            self.passwords[name] = secrets.token_urlsafe(12)
            self.run(["account", "password", "--db", db, "--name", name], stdin=self.passwords[name] + "\n")
        with open(f"{self.work}/lane.yaml", "w") as f:
            f.write(lanerig.lane_config(self.work, self.socket, LANE, decision_timeout="5s", heartbeat="500ms",
                                        dead_after="3s", why_no_grace="an unbundled vehicle's INSPECT/NO_BUNDLE "
                                        "shows at once."))

    def spawn(self, name, args, env=None):
        process = subprocess.Popen(args, stdout=open(f"{self.work}/{name}.out", "w"),
                                   stderr=open(f"{self.work}/{name}.err", "w"), env=env)
        self.processes.append((name, process))
        return process

    def wait_line(self, name, process, prefix, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in open(f"{self.work}/{name}.out").read().splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise StepFailure(f"{name} did not print '{prefix}...' (see {self.work}/{name}.err: {self.tail(name)})")

    def tail(self, name):
        try:
            return " | ".join(open(f"{self.work}/{name}.err").read().strip().splitlines()[-5:])
        except OSError:
            return ""

    def start_central(self):
        central = self.spawn("central", [
            f"{self.bin}/clearanced", "serve", "--db", f"{self.work}/central.db", "--port", "0",
            "--link-keys", f"{self.work}/keys", "--link-port", "0", "--phase", "full",
            "--laden-rate", "0", "--unladen-rate", "0", "--simulated-clock", "--start", "2026-11-27T09:00:00+08:00",
            "--help-escalate-after", "30s", "--console-dir", self.console_dir, "--log-level", "warning"])
        self.api = "http://" + self.wait_line("central", central, "listening on ")
        self.link_port = int(self.wait_line("central", central, "link listening on ").rsplit(":", 1)[1])

    def start_lane(self):
        lanerig.with_link_port(f"{self.work}/lane.yaml", f"{self.work}/lane-now.yaml", self.link_port)
        self.spawn("laned", [f"{self.bin}/laned", "--config", f"{self.work}/lane-now.yaml"],
                   env=dict(os.environ, SDL_VIDEODRIVER="offscreen"))
        lane = wait(lambda: (s := self.status_or_none()) and s["link"] == "up" and s, 60,
                    "laned up and linked to central", lambda: self.tail("laned"))
        if not lane["open"]:
            self.lane("open", officer="console-test")

    def start_chromedriver(self):
        port = free_port()
        self.spawn("chromedriver", [CHROMEDRIVER, f"--port={port}"])
        url = f"http://127.0.0.1:{port}"

        def ready():
            try:
                status, body, _ = http_json("GET", f"{url}/status", timeout=2)
                return status == 200 and body["value"].get("ready")
            except OSError:
                return False
        wait(ready, 30, "chromedriver ready", lambda: self.tail("chromedriver"))
        return url

    def stop(self):
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()

    # The lane's control socket (docs/control-socket.md)

    def lane(self, command, **fields):
        try:
            reply = lanerig.control(self.socket, command, **fields)
        except lanerig.SocketClosed as closed:
            raise StepFailure(str(closed)) from None
        if not reply.get("ok"):
            raise StepFailure(f"laned refused '{command}': {reply.get('error')}")
        return reply["result"]

    def status_or_none(self):
        try:
            return self.lane("status")
        except OSError:
            return None

    def advance_clock(self, seconds):
        status, body, _ = http_json("POST", f"{self.api}/v1/clock/advance", {"seconds": seconds},
                                    {"Authorization": f"Bearer {self.tokens['chan']}"})
        if status != 200:
            raise StepFailure(f"POST /v1/clock/advance answered {status}: {body}")


# MARK: The console over plain HTTP (a second officer, or a forged request)


class ConsoleClient:
    def __init__(self, api, cookie=None, csrf=None):
        self.api = api
        self.cookie = cookie
        self.csrf = csrf

    def login(self, name, password):
        status, body, headers = http_json("POST", f"{self.api}/console/api/login",
                                          {"name": name, "password": password})
        if status != 200:
            raise StepFailure(f"{name} could not log in over HTTP ({status}): {body}")
        for header in headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0]
            if pair.startswith("lk_console="):
                self.cookie = pair[len("lk_console="):]
        if not self.cookie:
            raise StepFailure(f"login for {name} set no lk_console cookie: {headers.get_all('Set-Cookie')}")
        self.csrf = body["csrf"]
        return self

    def request(self, method, path, body=None, csrf=True):
        headers = {"Cookie": f"lk_console={self.cookie}"}
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        if method == "POST" and body is None:
            body = {}
        status, reply, _ = http_json(method, self.api + path, body, headers)
        return status, reply


# MARK: Waiting


def wait(probe, timeout, what, seen=None):
    """Polls `probe` until it returns something truthy; fails naming `what`
    and, from `seen`, what was there instead."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except WebDriverError as error:
            if error.error not in ("stale element reference", "no such element"):
                raise
            last_error = error
        if time.monotonic() > deadline:
            extra = ""
            if seen:
                try:
                    extra = f"; saw: {seen()}"
                except Exception as error:  # the description must not hide the failure
                    extra = f"; (could not read what was there: {error})"
            elif last_error:
                extra = f"; last error: {last_error}"
            raise StepFailure(f"waited {timeout} s for {what}{extra}")
        time.sleep(0.1)


# MARK: The test


class ConsoleTest:
    def __init__(self, rig, browser, shots):
        self.rig = rig
        self.b = browser
        self.shots = shots
        self.passed = 0
        self.call_id = None

    # Page helpers

    def testid(self, name, within=None):
        return self.b.find(f'[data-testid="{name}"]', within)

    def need(self, name, within=None):
        element = self.testid(name, within)
        if element is None:
            raise StepFailure(f"no [data-testid={name}] in the page")
        return element

    def card(self):
        return self.b.find(f'[data-testid="lane"][data-lane="{LANE}"]')

    def in_card(self, name):
        card = self.card()
        return self.testid(name, card) if card else None

    def call_row(self):
        return self.b.find(f'[data-testid="call"][data-lane="{LANE}"]')

    def card_state(self):
        """What the officer sees on the lane card, for failure messages."""
        return self.b.execute("""
            const c = document.querySelector('[data-testid="lane"][data-lane="' + arguments[0] + '"]');
            if (!c) return 'no card';
            const q = (t) => c.querySelector('[data-testid="' + t + '"]');
            return {vrn: q('lane-vrn').textContent, instruction: q('lane-instruction').dataset.instruction,
                    reason: q('lane-reason').textContent, help: q('lane-help').dataset.help,
                    link: q('lane-link').textContent, message: q('lane-message').textContent,
                    notice: document.querySelector('[data-testid="notice"]').textContent};""", LANE)

    def calls_state(self):
        return self.b.execute("""
            return Array.from(document.querySelectorAll('[data-testid="call"]')).map(r => ({
                id: r.dataset.call, lane: r.dataset.lane, state: r.dataset.state, escalated: r.dataset.escalated,
                owner: r.querySelector('[data-testid="call-owner"]').textContent}));""")

    def shot(self, name):
        path = os.path.join(self.shots, name)
        self.b.screenshot(path)
        return path

    def ok(self, line):
        self.passed += 1
        print(f"ok   {line}", flush=True)

    def no_horizontal_scroll(self, size):
        widths = self.b.execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, innerWidth];")
        if widths[0] > widths[1]:
            raise StepFailure(f"at {size} the page scrolls sideways: content {widths[0]} px wide in a "
                              f"{widths[1]} px viewport")
        return widths

    def resize_viewport(self, width, height):
        """Sets the window so that the page's viewport is width x height."""
        self.b.set_window(width, height)
        inner = self.b.execute("return [innerWidth, innerHeight];")
        self.b.set_window(width + (width - inner[0]), height + (height - inner[1]))
        inner = self.b.execute("return [innerWidth, innerHeight];")
        if inner != [width, height]:
            raise StepFailure(f"could not make a {width}x{height} viewport (got {inner[0]}x{inner[1]})")

    # Steps

    def run(self):
        rig, b = self.rig, self.b
        b.get(rig.api + "/console")
        self.resize_viewport(1366, 768)
        self.step_a_wrong_password()
        self.step_b_login()
        self.step_c_arrival()
        self.step_d_help_call()
        self.step_e_answer()
        self.step_f_phrase()
        self.step_g_override()
        self.step_h_screenshots()
        self.step_i_end_call()
        self.step_j_csrf()
        self.step_k_tools()
        self.step_l_conflict()
        self.step_m_session_gone()

    def step_a_wrong_password(self):
        b = self.b
        wait(lambda: self.testid("login-form") and b.displayed(self.testid("login-form")), 20, "the login form")
        b.send_keys(self.need("login-name"), "chan")
        b.send_keys(self.need("login-password"), "not-" + self.rig.passwords["chan"])
        b.click(self.need("login-submit"))
        error = wait(lambda: b.text(self.need("login-error")), 20, "a refusal in login-error")
        if "wrong" not in error.lower():
            raise StepFailure(f"login-error says '{error}', not that the name or password is wrong")
        if not b.displayed(self.need("login-form")):
            raise StepFailure("after a wrong password the login form is gone")
        if self.card() and b.displayed(self.card()):
            raise StepFailure("after a wrong password a lane card shows")
        self.shot("console-login.png")
        self.ok(f"a. wrong password refused: login-error says '{error}'; the page stays on login")

    def step_b_login(self):
        b = self.b
        password = self.need("login-password")
        b.clear(password)
        b.send_keys(password, self.rig.passwords["chan"])
        b.click(self.need("login-submit"))
        wait(lambda: b.text(self.need("officer-name")) == "chan", 20, "officer-name 'chan' in the header",
             lambda: b.text(self.need("login-error")))
        wait(lambda: self.card() and b.displayed(self.card()), 20, f"the {LANE} lane card")
        link = wait(lambda: (t := b.text(self.in_card("lane-link"))) == "Link up" and t, 20,
                    "the card's link mark 'Link up'", self.card_state)
        wait(lambda: "live-up" in b.attribute(self.need("live"), "class"), 20, "the live mark up (WebSocket open)",
             lambda: b.attribute(self.need("live"), "class"))
        if b.displayed(self.need("login-form")):
            raise StepFailure("logged in, but the login form still shows")
        # Set once: a reload would lose it, so later steps can tell that
        # what changed came over the live socket.
        b.execute("window.__consoleTestMark = 'no reload';")
        self.ok(f"b. chan logs in: {LANE} card shows ({link}), live socket up")

    def step_c_arrival(self):
        b, rig = self.b, self.rig
        before = b.text(self.in_card("lane-vrn"))
        rig.lane("arrive", vrn=VRN)
        wait(lambda: b.text(self.in_card("lane-vrn")) == VRN, 30, f"the card's VRN {VRN}", self.card_state)
        wait(lambda: b.attribute(self.in_card("lane-instruction"), "data-instruction") == "INSPECT", 30,
             "the card's instruction INSPECT", self.card_state)
        words = b.text(self.in_card("lane-instruction"))
        reason = b.text(self.in_card("lane-reason"))
        if words != "Go to Customs Examination Compound":
            raise StepFailure(f"the INSPECT instruction reads '{words}'")
        if reason != "No bundle for this vehicle":
            raise StepFailure(f"the reason reads '{reason}', not NO_BUNDLE's words")
        status = rig.lane("status")
        if status.get("xdb") != "INSPECT" or status.get("reason") != "NO_BUNDLE":
            raise StepFailure(f"the lane itself shows {status.get('xdb')}/{status.get('reason')}")
        if b.execute("return window.__consoleTestMark;") != "no reload":
            raise StepFailure("the page reloaded to show the vehicle")
        self.ok(f"c. {VRN} arrives: card went from '{before}' to {VRN}, '{words}' ({reason}) live, no reload")

    def step_d_help_call(self):
        b, rig = self.b, self.rig
        rig.lane("press", button="help", action="click")
        row = wait(lambda: (r := self.call_row()) and b.attribute(r, "data-state") == "ringing" and r, 30,
                   f"a ringing call row for {LANE}", self.calls_state)
        self.call_id = b.attribute(row, "data-call")
        wait(lambda: b.attribute(self.in_card("lane-help"), "data-help") == "ringing", 20,
             "the card's help mark 'ringing'", self.card_state)
        if self.testid("call-answer", row) is None:
            raise StepFailure("the ringing call has no Answer button")
        if b.attribute(row, "data-escalated") != "false":
            raise StepFailure("a call that just rang is already escalated")
        if VRN not in b.text(row):
            raise StepFailure(f"the call row does not name the vehicle {VRN}: '{b.text(row)}'")
        self.ok(f"d. Help pressed: call {self.call_id} rings in the queue with Answer, card says ringing")
        # --help-escalate-after 30s on the simulated clock.
        rig.advance_clock(31)
        wait(lambda: b.attribute(self.call_row(), "data-escalated") == "true", 45, "the call escalated",
             self.calls_state)
        alert = self.need("alert")
        wait(lambda: b.displayed(alert), 10, "the escalation banner")
        if LANE not in b.text(alert):
            raise StepFailure(f"the escalation banner does not name {LANE}: '{b.text(alert)}'")
        self.shot("console-escalated.png")
        self.ok(f"d. unanswered past 30 s: the call shows escalated and the banner reads '{b.text(alert)}'")

    def step_e_answer(self):
        b, rig = self.b, self.rig
        b.click(self.need("call-answer", self.call_row()))
        wait(lambda: b.attribute(self.call_row(), "data-state") == "answered", 20, "the call answered",
             self.calls_state)
        wait(lambda: b.text(self.need("call-owner", self.call_row())) == "You", 10, "call-owner 'You'",
             self.calls_state)
        if self.testid("call-phrase", self.call_row()) is None or self.testid("call-end", self.call_row()) is None:
            raise StepFailure("the answered call offers no phrase list or End button")
        if b.displayed(self.need("alert")):
            raise StepFailure("the escalation banner stays after the call was answered")
        if "is-escalated" in b.attribute(self.call_row(), "class"):
            raise StepFailure("the answered call still flashes as escalated")
        wait(lambda: rig.lane("status")["help"] == "connected", 20, "the lane's help state 'connected'",
             lambda: rig.lane("status")["help"])
        self.ok("e. chan answers: the row says answered by 'You' with phrases and End; the lane shows connected")

        lee = ConsoleClient(rig.api).login("lee", rig.passwords["lee"])
        status, body = lee.request("POST", f"/console/api/calls/{self.call_id}/answer")
        if status != 409:
            raise StepFailure(f"lee answering chan's call got {status}, not 409: {body}")
        detail = (body or {}).get("detail", "")
        _, snapshot = lee.request("GET", "/console/api/snapshot")
        call = next((c for c in snapshot["calls"] if str(c["id"]) == self.call_id), None)
        if not call or call.get("officer") != "chan" or call.get("mine"):
            raise StepFailure(f"after lee's attempt the call is {call}")
        time.sleep(0.5)  # any change would reach the page by now
        if b.text(self.need("call-owner", self.call_row())) != "You":
            raise StepFailure(f"chan's page no longer shows the call as his: {self.calls_state()}")
        self.ok(f"e. lee answering the same call: 409 ('{detail}'); still chan's")

        wong = ConsoleClient(rig.api).login("wong", rig.passwords["wong"])
        status, body = wong.request("POST", f"/console/api/calls/{self.call_id}/answer")
        if status != 403:
            raise StepFailure(f"wong (SBC) answering an LMC call got {status}, not 403: {body}")
        status, body = wong.request("POST", f"/console/api/lanes/{LANE}/override",
                                    {"decision": "release", "reason": "wrong control point"})
        if status != 403:
            raise StepFailure(f"wong (SBC) overriding {LANE} got {status}, not 403: {body}")
        lane = rig.lane("status")
        if lane["xdb"] != "INSPECT":
            raise StepFailure(f"after wong's refused override the lane shows {lane['xdb']}")
        self.ok(f"e. wong (SBC) on {LANE}: answer 403, override 403 ('{body.get('detail', '')}'); lane unchanged")

    def step_f_phrase(self):
        b, rig = self.b, self.rig
        text = "bay 3 is on the left"
        row = self.call_row()
        select = self.need("call-phrase", row)
        option = b.find('option[value="2"]', select)
        if option is None:
            raise StepFailure("the phrase list has no phrase 2")
        label = b.text(option)
        b.click(option)
        b.send_keys(self.need("call-text", row), text)
        b.click(self.need("call-send", row))
        status = wait(lambda: (s := rig.lane("status")).get("officer_message", {}).get("phrase_id") == "2" and s,
                      20, "the lane showing phrase 2", lambda: rig.lane("status").get("officer_message"))
        if status["officer_message"].get("text") != text:
            raise StepFailure(f"the lane shows the text '{status['officer_message'].get('text')}', not '{text}'")
        wait(lambda: b.attribute(self.in_card("lane-message"), "data-phrase") == "2", 20,
             "the card's board message phrase 2", self.card_state)
        message = b.text(self.in_card("lane-message"))
        if "Move to bay 3" not in message or text not in message:
            raise StepFailure(f"the card's message reads '{message}'")
        self.ok(f"f. phrase '{label}' with text sent: the lane's AIOP has phrase 2 '{text}'; card: '{message}'")

    def step_g_override(self):
        b, rig = self.b, self.rig
        b.click(self.need("lane-release", self.card()))
        form = self.need("override-form")
        wait(lambda: b.displayed(form), 10, "the override form")
        b.click(self.need("override-submit"))  # no reason yet
        time.sleep(0.3)
        if not b.displayed(form):
            raise StepFailure("the override form accepted an empty reason")
        if rig.lane("status")["xdb"] != "INSPECT":
            raise StepFailure("an override without a reason reached the lane")
        reason = "driver showed a valid paper manifest"
        b.send_keys(self.need("override-reason"), reason)
        b.click(self.need("override-submit"))
        wait(lambda: not b.displayed(form), 20, "the override form to close",
             lambda: b.text(self.need("notice")))
        status = wait(lambda: (s := rig.lane("status"))["xdb"] == "CLEARED" and s, 30,
                      "the lane's XDB showing CLEARED", lambda: rig.lane("status")["xdb"])
        if status.get("reason") != "OFFICER_RELEASE":
            raise StepFailure(f"the lane shows CLEARED for {status.get('reason')}, not OFFICER_RELEASE")
        wait(lambda: b.attribute(self.in_card("lane-instruction"), "data-instruction") == "CLEARED", 30,
             "the card's instruction CLEARED", self.card_state)
        words = b.text(self.in_card("lane-instruction"))
        wait(lambda: b.text(self.in_card("lane-reason")) == "Released by an officer", 20,
             "the card's reason OFFICER_RELEASE", self.card_state)
        self.ok(f"g. release with a reason (an empty one refused in the form): lane XDB CLEARED/OFFICER_RELEASE; "
                f"card '{words}'")

    def step_h_screenshots(self):
        b = self.b
        widths = self.no_horizontal_scroll("1366x768")
        wide = self.shot("console-1366x768.png")
        b.click(self.need("lang-toggle"))
        wait(lambda: b.text(self.in_card("lane-instruction")) == "清關完成", 10, "the instruction in zh-Hant",
             self.card_state)
        answer_words = b.text(self.need("call-end", self.call_row()))
        if answer_words != "結束呼叫":
            raise StepFailure(f"in zh-Hant the End button reads '{answer_words}'")
        chinese = self.shot("console-zh-Hant.png")
        b.click(self.need("lang-toggle"))
        wait(lambda: b.text(self.in_card("lane-instruction")) == "Clearance Completed", 10,
             "the instruction back in English", self.card_state)
        self.resize_viewport(768, 1024)
        self.no_horizontal_scroll("768x1024")
        tiny = b.execute("""
            return Array.from(document.querySelectorAll('button'))
                .filter(e => e.getClientRects().length > 0)
                .map(e => [e.dataset.testid || e.textContent.trim(), e.getBoundingClientRect().height])
                .filter(([, height]) => height < 40);""")
        if tiny:
            raise StepFailure(f"buttons under 40 px tall on the tablet: {tiny}")
        tablet = self.shot("console-768x1024.png")
        self.resize_viewport(1366, 768)
        self.ok(f"h. no sideways scroll at 1366x768 ({widths[0]} px) or 768x1024, buttons >= 40 px; "
                f"screenshots {os.path.basename(wide)}, {os.path.basename(tablet)}, {os.path.basename(chinese)}")

    def step_i_end_call(self):
        b, rig = self.b, self.rig
        b.click(self.need("call-end", self.call_row()))
        wait(lambda: self.call_row() is None, 20, "the call to leave the queue", self.calls_state)
        wait(lambda: rig.lane("status")["help"] == "idle", 20, "the lane's help state idle",
             lambda: rig.lane("status")["help"])
        wait(lambda: b.attribute(self.in_card("lane-help"), "data-help") == "", 20, "the card's help mark cleared",
             self.card_state)
        self.ok("i. chan ends the call: it leaves the queue, the lane's help state is idle")

    def step_j_csrf(self):
        cookie = next((c["value"] for c in self.b.cookies() if c["name"] == "lk_console"), None)
        if not cookie:
            raise StepFailure("the browser holds no lk_console cookie")
        forged = ConsoleClient(self.rig.api, cookie=cookie)
        status, body = forged.request("POST", "/console/api/watchlist",
                                      {"kind": "vrn", "value": "CSRF1", "note": "forged"}, csrf=False)
        if status != 403:
            raise StepFailure(f"a POST without X-CSRF-Token got {status}, not 403: {body}")
        status, listing = forged.request("GET", "/console/api/watchlist")
        if status != 200 or any(i["value"] == "CSRF1" for i in listing["items"]):
            raise StepFailure(f"the forged POST changed the watch list ({status}): {listing}")
        self.ok(f"j. POST with chan's cookie but no X-CSRF-Token: 403 ('{body.get('detail', '')}'), nothing added")

    def step_k_tools(self):
        b, rig = self.b, self.rig
        b.click(b.find("#tab-crossings"))
        query = self.need("crossing-query")
        b.clear(query)
        b.send_keys(query, VRN)
        b.click(self.need("crossing-search"))
        row = wait(lambda: next((r for r in b.find_all('[data-testid="crossing"]') if VRN in b.text(r)), None), 20,
                   f"a crossing row for {VRN}")
        found = " ".join(b.text(row).split())
        # The release of step g stands in the record, with who released it.
        if "chan" not in found or "Clearance Completed" not in found:
            raise StepFailure(f"the crossing row does not show chan's release: {found!r}")

        b.click(b.find("#tab-watch"))
        b.send_keys(self.need("watch-value"), "WL2026")
        b.send_keys(self.need("watch-note"), "tip-off")
        b.click(self.need("watch-add"))
        entry = wait(lambda: next((r for r in b.find_all('[data-testid="watch-entry"]') if "WL2026" in b.text(r)),
                                  None), 20, "the watch-list entry WL2026", lambda: b.text(self.need("notice")))
        b.click(self.need("watch-remove", entry))
        confirm = self.need("confirm-form")
        wait(lambda: b.displayed(confirm), 10, "a confirmation before removing the watch-list entry")
        b.click(self.need("confirm-ok"))
        wait(lambda: not any("WL2026" in b.text(r) for r in b.find_all('[data-testid="watch-entry"]')), 20,
             "the watch-list entry gone")

        rig.lane("leave")
        b.click(self.need("lane-toggle-open", self.card()))
        wait(lambda: b.displayed(confirm), 10, "a confirmation before closing the lane")
        b.click(self.need("confirm-cancel"))
        time.sleep(0.5)
        if not rig.lane("status")["open"]:
            raise StepFailure("cancelling the confirmation closed the lane anyway")
        b.click(self.need("lane-toggle-open", self.card()))
        wait(lambda: b.displayed(confirm), 10, "the confirmation again")
        b.click(self.need("confirm-ok"))
        wait(lambda: not rig.lane("status")["open"], 20, "the lane closed", lambda: rig.lane("status")["phase"])
        wait(lambda: b.text(self.in_card("lane-open")) == "Closed", 20, "the card saying Closed", self.card_state)
        b.click(self.need("lane-toggle-open", self.card()))
        wait(lambda: rig.lane("status")["open"], 20, "the lane open again (no confirmation needed)",
             lambda: b.displayed(confirm))
        wait(lambda: b.text(self.in_card("lane-open")) == "Open", 20, "the card saying Open", self.card_state)
        self.ok(f"k. crossings search shows '{found}'; watch entry added and removed after confirming; "
                "close lane needs the in-page confirmation (cancel kept it open), reopening does not")

    def step_l_conflict(self):
        b = self.b
        why = (f"UBR 1001064326 was already used by passage passage:{LANE}:9 at lane {LANE} "
               "at 2026-11-27 08:41:07 (HKT)")
        decision = json.dumps({"ccrns": [], "instruction": "CLEARED", "notes": ["OFFLINE"],
                               "reason": "BUNDLE_OK", "ubr": "1001064326"}, sort_keys=True)
        # On the simulated day of the story: decided at 08:40:02, heard at 09:00:00.
        decided_ms = 1795740002000  # 2026-11-27T08:40:02+08:00
        heard_ms = 1795741200000  # 2026-11-27T09:00:00+08:00
        # What LaneHub's applyOfflineCrossing records for such a conflict; the
        # path itself is tested in Swift (ReconciliationHubTests), this is
        # what the officer sees of it.
        db = sqlite3.connect(f"{self.rig.work}/central.db", timeout=10)
        try:
            with db:
                db.execute(
                    """INSERT INTO offline_crossings(lane_id, passage_id, request_id, vrn, arrived_at, unladen,
                           decided_at, instruction, reason, ubr, decision, cache_generation, cache_sequence,
                           received_at, outcome, conflict)
                       VALUES (?, 41, 42, 'OF2026', ?, 0, ?, 'CLEARED', 'BUNDLE_OK', 1001064326, ?, 3, 5, ?,
                           'conflict', ?)""",
                    (LANE, decided_ms - 2000, decided_ms, decision, heard_ms, why))
        finally:
            db.close()
        # No change notice: the live console's periodic re-check brings it.
        row = wait(lambda: self.testid("conflict"), 30, "the conflict row above the lanes")
        if not b.displayed(self.need("conflicts")):
            raise StepFailure("the conflicts section is hidden although a conflict is open")
        shown = b.text(self.need("conflict-why", row))
        if shown != why:
            raise StepFailure(f"the conflict row says '{shown}', not central's sentence")
        counts = wait(lambda: b.text(self.in_card("lane-offline-crossings")), 20, "the card's offline counts")
        if "1 received" not in counts or "1 conflicts open" not in counts:
            raise StepFailure(f"the card's offline counts read '{counts}'")
        shot = self.shot("console-conflict.png")
        b.send_keys(self.need("conflict-note", row), "second truck stopped at MKT")
        b.click(self.need("conflict-acknowledge", row))
        wait(lambda: self.testid("conflict") is None, 20, "the conflict row gone after acknowledging",
             lambda: b.text(self.need("notice")))
        wait(lambda: not b.displayed(self.need("conflicts")), 20, "the conflicts section hidden")
        db = sqlite3.connect(f"{self.rig.work}/central.db", timeout=10)
        try:
            by, note = db.execute("SELECT acknowledged_by, acknowledged_note FROM offline_crossings "
                                  "WHERE request_id = 42").fetchone()
        finally:
            db.close()
        if (by, note) != ("chan", "second truck stopped at MKT"):
            raise StepFailure(f"the record says acknowledged by {by!r} with note {note!r}")
        self.ok(f"l. conflict shown above the lanes ('{shown[:40]}...', card '{counts}'), acknowledged by chan "
                f"with a note, gone from the page, kept in the store; screenshot {os.path.basename(shot)}")

    def step_m_session_gone(self):
        b = self.b
        cookie = next((c["value"] for c in b.cookies() if c["name"] == "lk_console"), None)
        csrf = b.execute("""
            return fetch('/console/api/me', {credentials: 'same-origin'}).then(r => r.json()).then(j => j.csrf);""")
        status, body = ConsoleClient(self.rig.api, cookie=cookie, csrf=csrf).request("POST", "/console/api/logout")
        if status != 204:
            raise StepFailure(f"logging chan out over HTTP got {status}: {body}")
        wait(lambda: b.displayed(self.need("login-form")), 30, "the login form after the session ended")
        message = b.text(self.need("login-error"))
        if "log in again" not in message.lower():
            raise StepFailure(f"back on login, the page says '{message}', not to log in again")
        self.ok(f"m. session ended elsewhere: the page is back on login saying '{message}'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=None, help="directory with clearanced and laned (default: swift build's)")
    parser.add_argument("--screenshots", default=None, help="where the PNGs go (default: a new temporary directory)")
    parser.add_argument("--console-dir", default=None,
                        help="the page's files (default: Sources/Central/Console in this checkout)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = args.bin or subprocess.check_output(
        ["swift", "build", "--show-bin-path"], cwd=package, text=True).strip()
    console_dir = args.console_dir or os.path.join(package, "Sources", "Central", "Console")
    shots = args.screenshots or tempfile.mkdtemp(prefix="console-screenshots.")
    os.makedirs(shots, exist_ok=True)
    ensure_chromium()

    work = tempfile.mkdtemp(prefix="console-browser-test.")
    rig = Rig(bindir, work, console_dir)
    browser = None
    test = None
    ok = False
    try:
        rig.provision()
        rig.start_central()
        rig.start_lane()
        browser = Browser(rig.start_chromedriver(), 1366, 768)
        test = ConsoleTest(rig, browser, shots)
        test.run()
        ok = True
    except (StepFailure, WebDriverError) as error:
        print(f"FAIL {error}", flush=True)
        if browser:
            try:
                path = os.path.join(shots, "failure.png")
                browser.screenshot(path)
                print(f"console-browser-test: the page at the failure: {path}", file=sys.stderr)
            except (WebDriverError, OSError):
                pass
        for name in ("central", "laned"):
            tail = rig.tail(name)
            if tail:
                print(f"console-browser-test: {name}.err: {tail}", file=sys.stderr)
    finally:
        if browser:
            browser.quit()
        rig.stop()
        if args.keep or not ok:
            print(f"console-browser-test: work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    passed = test.passed if test else 0
    print(f"console-browser-test: screenshots in {shots}")
    print(f"console-browser-test: {passed} passed" + ("" if ok else ", 1 failed"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
