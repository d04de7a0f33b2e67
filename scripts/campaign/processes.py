"""The campaign's processes: PostgreSQL, clearanced nodes, laned lanes and
the impairment proxies in front of them, each on its own host (network
namespace), each startable, killable (SIGKILL), freezable (SIGSTOP) and
restartable by the nemesis."""
import os
import secrets
import shutil
import signal
import subprocess
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


class Process:
    """One long-running program on one host, restarted with the same command."""

    def __init__(self, name, command, log_dir, env=None):
        self.name = name
        self.command = command
        self.log_dir = log_dir
        self.env = env
        self.popen = None
        self.frozen = False

    def start(self):
        out = open(f"{self.log_dir}/{self.name}.out", "a")
        err = open(f"{self.log_dir}/{self.name}.err", "a")
        self.popen = subprocess.Popen(self.command, stdout=out, stderr=err, env=self.env,
                                      start_new_session=True)
        self.frozen = False

    @property
    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def pids(self):
        """The process and every descendant (PostgreSQL's backends, say)."""
        if not self.running:
            return []
        return process_tree(self.popen.pid)

    def kill(self):
        for pid in self.pids():
            os.kill(pid, signal.SIGKILL)
        if self.popen:
            self.popen.wait()

    def freeze(self):
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self):
        for pid in self.pids():
            os.kill(pid, signal.SIGCONT)
        self.frozen = False

    def stop(self, grace=10):
        if not self.running:
            return
        if self.frozen:
            self.thaw()
        self.popen.terminate()
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()


def process_tree(root):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def wait_for(probe, what, ceiling=60, every=0.05):
    deadline = time.monotonic() + ceiling
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise RuntimeError(f"{what} did not happen within {ceiling} s (last seen: {last})")


class Postgres:
    """PostgreSQL 15 on the `pg` host, listening on its network address, run
    in the foreground (not through pg_ctl) so that SIGKILL and SIGSTOP hit
    the postmaster and every backend, and a restart replays its WAL."""

    def __init__(self, network, work):
        self.network = network
        self.dir = f"{work}/pg"
        self.data = f"{self.dir}/data"
        self.port = 5432
        self.password_file = f"{self.dir}/password"
        self.process = None

    @property
    def address(self):
        return self.network.address("pg")

    @property
    def url(self):
        return f"postgres://lanekiosk@{self.address}:{self.port}/lanekiosk"

    def initdb(self):
        os.makedirs(self.dir, mode=0o755)
        shutil.chown(self.dir, "postgres")
        with open(self.password_file, "w") as f:
            f.write(secrets.token_urlsafe(18) + "\n")
        os.chmod(self.password_file, 0o644)
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres",
                        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, capture_output=True)
        with open(f"{self.data}/pg_hba.conf", "a") as f:
            network = ".".join(self.address.split(".")[:2])
            f.write(f"host all all {network}.0.0/16 scram-sha-256\n")
        self.process = Process("postgres", self.network.exec_prefix("pg") + [
            "runuser", "-u", "postgres", "--", f"{PG_BIN}/postgres", "-D", self.data,
            "-c", f"listen_addresses={self.address}", "-p", str(self.port), "-k", self.dir,
            "-c", "fsync=on", "-c", "max_connections=200"], self.dir)
        self.process.start()
        self.wait_ready()
        password = open(self.password_file).read().strip()
        self.psql_admin(f"CREATE ROLE lanekiosk LOGIN CREATEDB PASSWORD '{password}'",
                        "CREATE DATABASE lanekiosk OWNER lanekiosk")

    def psql_admin(self, *sql):
        args = ["runuser", "-u", "postgres", "--", f"{PG_BIN}/psql", "-h", self.dir, "-p", str(self.port),
                "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]
        for statement in sql:
            args += ["-c", statement]
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout

    def wait_ready(self, ceiling=120):
        wait_for(lambda: subprocess.run(
            [f"{PG_BIN}/pg_isready", "-h", self.dir, "-p", str(self.port), "-q"]).returncode == 0,
                 "PostgreSQL accepting connections", ceiling)

    def query(self, sql):
        """Rows of one query as the campaign's checker reads them (lists of strings)."""
        env = dict(os.environ, PGPASSWORD=open(self.password_file).read().strip())
        out = subprocess.run(["psql", "-h", self.dir, "-p", str(self.port), "-U", "lanekiosk", "-d", "lanekiosk",
                              "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             env=env, check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def restart(self):
        """After a SIGKILL: start again; PostgreSQL replays its WAL."""
        pid_file = f"{self.data}/postmaster.pid"
        if os.path.exists(pid_file):
            os.remove(pid_file)
        self.process.start()
        self.wait_ready()

    def stop(self):
        if self.process:
            self.process.stop(grace=30)
