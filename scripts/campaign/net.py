"""The campaign's simulated network: one Linux network namespace per host,
each joined by a veth pair to a router namespace of its own (host N is
10.231.N.2, its router port 10.231.N.1). Nothing is added to the namespace
the campaign was started in.

Partitions are policy rules in the router (`ip rule add from A to B
blackhole`, both ways): packets between the two sides vanish without an
answer, as on a dead switch port, so TCP connections hang until the
software's own timeouts notice (a blackhole route in a host itself would
not do: the sender gets an error at once). Healing removes the rules and
TCP retransmits what was waiting. A whole host can also be taken off the
network by taking its router port (veth) down.
"""
import subprocess

PREFIX = "lkc-"
SWITCH = PREFIX + "sw"
NETWORK = "10.231"


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def existing_namespaces():
    return [line.split()[0] for line in ip("netns", "list").stdout.splitlines() if line.strip()]


class Network:
    """Hosts by name; `address(name)` is the host's address on the switch."""

    def __init__(self):
        self.hosts = {}
        self.blackholes = set()

    def clean_leftovers(self):
        """Namespaces a killed campaign left behind (their processes may still run)."""
        for ns in existing_namespaces():
            if ns.startswith(PREFIX):
                for pid in ip("netns", "pids", ns, check=False).stdout.split():
                    subprocess.run(["kill", "-9", pid], capture_output=True)
                ip("netns", "delete", ns, check=False)

    def create(self, names):
        """One namespace per name, host N (from 1, in the given order) at 10.231.N.2."""
        self.clean_leftovers()
        ip("netns", "add", SWITCH)
        ip("-n", SWITCH, "link", "set", "lo", "up")
        subprocess.run(["ip", "netns", "exec", SWITCH, "sysctl", "-qw", "net.ipv4.ip_forward=1"], check=True)
        for n, name in enumerate(names, start=1):
            ns = PREFIX + name
            address = f"{NETWORK}.{n}.2"
            port = f"p-{name}"[:15]
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", SWITCH)
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "route", "add", "default", "via", f"{NETWORK}.{n}.1")
            ip("-n", SWITCH, "addr", "add", f"{NETWORK}.{n}.1/24", "dev", port)
            ip("-n", SWITCH, "link", "set", port, "up")
            self.hosts[name] = (ns, address, port)

    def namespace(self, name):
        return self.hosts[name][0]

    def address(self, name):
        return self.hosts[name][1]

    def exec_prefix(self, name):
        """The command prefix that runs a program on host `name`."""
        return ["ip", "netns", "exec", self.namespace(name)]

    def partition(self, side_a, side_b):
        """No packet passes between any host of `side_a` and any of `side_b`."""
        for a in side_a:
            for b in side_b:
                for src, dst in ((a, b), (b, a)):
                    if (src, dst) not in self.blackholes:
                        ip("-n", SWITCH, "rule", "add", "from", self.address(src), "to", self.address(dst),
                           "blackhole")
                        self.blackholes.add((src, dst))

    def heal(self):
        """Every partition removed."""
        for src, dst in sorted(self.blackholes):
            ip("-n", SWITCH, "rule", "del", "from", self.address(src), "to", self.address(dst), "blackhole",
               check=False)
        self.blackholes.clear()

    def unplug(self, name, down=True):
        """Takes host `name`'s switch port down (or up again)."""
        ip("-n", SWITCH, "link", "set", self.hosts[name][2], "down" if down else "up")

    def destroy(self):
        for ns, _, _ in self.hosts.values():
            ip("netns", "delete", ns, check=False)
        ip("netns", "delete", SWITCH, check=False)
        self.hosts.clear()
