"""What the process-level lane tests share (lane-kill-test.py,
console-browser-test.py): a laned config for a lane with virtual buttons,
headless boards and a TCP link to a clearanced on loopback, and one request
on laned's control socket (docs/control-socket.md)."""
import json
import os
import socket
import subprocess
import time


class SocketClosed(OSError):
    """laned closed the control socket before answering (it is stopping or dying)."""


def lane_config(work, control_socket, lane, *, decision_timeout, heartbeat, dead_after, why_no_grace,
                unladen_grace="0s"):
    """The lane's YAML, with `{port}` left for central's link port (known
    only once central runs; see `with_link_port`). `unladen_grace` is 0s
    unless a test presses Unladen after the arrival (the lane takes a press
    after arrival only while the grace runs)."""
    return f"""
lane: {{id: {lane}, control_point: LMC, direction: import}}
# Grace {unladen_grace}: {why_no_grace}
decision: {{timeout: {decision_timeout}, unladen_grace: {unladen_grace}}}
link:
  tcp: {{host: 127.0.0.1, port: {{port}}}}
  key_file: {work}/keys/{lane}.key
  heartbeat: {heartbeat}
  dead_after: {dead_after}
gpio: {{backend: virtual}}
displays: {{backend: headless}}
journal: {{path: {work}/journal.sqlite}}
control: {{socket: {control_socket}, allow_virtual_inputs: true}}
watchdog: {{enabled: false}}
log: {{level: warning}}
"""


def with_link_port(template_path, config_path, port):
    """Writes the config laned starts with: the template with central's link port."""
    with_link_ports(template_path, config_path, [port])


def with_link_ports(template_path, config_path, ports):
    """The same for a central of several nodes: with more than one port the
    lane lists them in order as `link.tcp.endpoints` and fails over between
    them (docs/lane-config.md, "Failover")."""
    config = open(template_path).read()
    if len(ports) == 1:
        config = config.replace("{port}", str(ports[0]))
    else:
        endpoints = ", ".join(f'"127.0.0.1:{port}"' for port in ports)
        config = config.replace("{host: 127.0.0.1, port: {port}}", f"{{endpoints: [{endpoints}]}}")
    with open(config_path, "w") as f:
        f.write(config)


def control(control_socket, command, **fields):
    """One request and its reply (a dict with `ok` and `result` or `error`).
    Raises OSError (SocketClosed among them) when laned cannot answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(control_socket)
        s.sendall((json.dumps({"id": 1, "command": command, **fields}) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                raise SocketClosed(f"laned closed the control socket during '{command}'")
            data += chunk
    return json.loads(data)


def stop(processes, grace=10):
    """Terminates every process still running, each given `grace` seconds
    to exit before it is killed."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()


def wait_ports(out_path, who, process=None, ceiling=60):
    """The HTTP and link ports a starting clearanced printed to `out_path`
    ("listening on HOST:PORT", "link listening on HOST:PORT"); exits naming
    `who` if they do not come within `ceiling` seconds or the process dies."""
    deadline = time.monotonic() + ceiling
    http = link = 0
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        for line in open(out_path).read().splitlines():
            if line.startswith("link listening on "):
                link = int(line.rsplit(":", 1)[1])
            elif line.startswith("listening on "):
                http = int(line.rsplit(":", 1)[1])
        if http and link:
            return http, link
        time.sleep(0.05)
    raise SystemExit(f"{who}: clearanced did not start (see {out_path.replace('.out', '.err')})")


def provision_central(bindir, work, lanes, accounts, store=None):
    """A central store with `lanes` (LMC, import, keys in `work`/keys) and
    `accounts` ((name, role) pairs) added through the clearanced command
    line; returns {role: token}. `store` is clearanced's store options
    (default `--db work/central.db`; `postgres_store()` for PostgreSQL)."""
    store = store or ["--db", f"{work}/central.db"]
    os.mkdir(f"{work}/keys", 0o700)

    def clearanced(*args):
        return subprocess.run([f"{bindir}/clearanced", *args], check=True, capture_output=True, text=True).stdout

    for lane in lanes:
        clearanced("lane", "add", *store, "--id", lane, "--control-point", "LMC",
                   "--direction", "import", "--keys-dir", f"{work}/keys")
    tokens = {}
    for name, role in accounts:
        tokens[role] = clearanced("account", "add", *store, "--name", name, "--role", role).strip().splitlines()[-1]
    return tokens


def postgres_store():
    """clearanced's options for the PostgreSQL database scripts/with-postgres.sh
    started (its environment); exits when the script is not running under it."""
    url = os.environ.get("LANEKIOSK_TEST_POSTGRES_URL")
    password_file = os.environ.get("LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE")
    if not url or not password_file:
        raise SystemExit("run this under scripts/with-postgres.sh (no LANEKIOSK_TEST_POSTGRES_URL)")
    return ["--store", url, "--store-password-file", password_file]


def postgres_query(sql):
    """Rows of one query on with-postgres.sh's database, through psql, as lists of strings."""
    env = dict(os.environ, PGPASSWORD=open(os.environ["LANEKIOSK_TEST_POSTGRES_PASSWORD_FILE"]).read().strip())
    out = subprocess.run(["psql", os.environ["LANEKIOSK_TEST_POSTGRES_URL"], "-X", "-At", "-F", "\t",
                          "-v", "ON_ERROR_STOP=1", "-c", sql], env=env, check=True, capture_output=True,
                         text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]
