"""Reading the pair's real state for the lab tests and benchmarks: DRBD, Pacemaker, the client's view.

Used by tests/lab/test_*.py and tests/bench/ lab benchmarks.  Everything is
read from the real tools in the guests (/proc/drbd, `crm_mon
--output-as=xml`, journalctl) or from the client namespace (curl on the
VIP); waiting is always polling with a deadline, never a blind sleep.
"""

import re
import time

from . import config, guest, net, pair, state, vm

from uec_clc_ha.cluster import crm_mon  # the product's own crm_mon XML reader

RUNNING = ("res_fs_clc", "res_ip_clc", "res_uec")       # where these run is where the cloud runs
DRBD_RE = re.compile(r"^\s*\d+: cs:(\S+) ro:(\S+) ds:(\S+)", re.M)


class Lab:
    def __init__(self, st=None):
        self.state = st or state.load()

    # -- in the guests ---------------------------------------------------------
    def exec(self, node, *argv, timeout=120, check=True, stdin=None):
        r = guest.exec_(node, list(argv), timeout=timeout, stdin=stdin)
        return r.check() if check else r

    def sh(self, node, script, timeout=120, check=True):
        return self.exec(node, "sh", "-c", script, timeout=timeout, check=check)

    def drbd(self, node):
        """(connection state, roles, disk states) of the resource, e.g. ("Connected", "Primary/Secondary", ...)."""
        text = self.sh(node, "cat /proc/drbd", timeout=30).stdout
        m = DRBD_RE.search(text)
        return m.groups() if m else ("Unconfigured", "", "")

    def view(self, node):
        """The cluster as node's crm_mon shows it; None when there is no answer (no stack yet, or a node
        too busy to answer within a minute: a VM booting on an emulated CPU)."""
        try:
            done = self.exec(node, "crm_mon", "-1", "--output-as=xml", timeout=60, check=False)
        except guest.AgentError:
            return None
        return crm_mon.parse(done.stdout) if "<pacemaker-result" in done.stdout else None

    def active(self, node):
        """The node the group runs on, as `node` sees the cluster (None when nowhere or split)."""
        v = self.view(node)
        return v.running_on(RUNNING) if v is not None else None

    def journal(self, node, since, *units):
        args = ["journalctl", "--no-pager", "-o", "short-unix", "--since", since]
        for u in units:
            args += ["-u", u]
        return self.exec(node, *args, timeout=120).stdout

    # -- the machines ------------------------------------------------------------
    def running(self, node):
        return vm.pid_of(node) is not None

    def kill(self, node):
        return vm.kill(vm.pid_of(node), node)

    def boot(self, node):
        st = state.load()
        return pair.boot(node, st["image"], st["accel"], fresh=False)

    def link(self, node, link, up):
        net.set_link(node, link, up)

    def isolate(self, node, on):
        net.set_isolated(node, on)

    # -- the client ------------------------------------------------------------------
    def serving(self, addr=config.VIP):
        return pair.serving(addr)

    def write(self, line, timeout=5, addr=config.VIP):
        """POST one record through the VIP; True when acknowledged (HTTP 200)."""
        code, _ = pair.curl(pair.RECORDS_URL.format(addr=addr), data=line, timeout=timeout)
        return code == 200

    def records(self, addr=config.VIP):
        code, body = pair.curl(pair.RECORDS_URL.format(addr=addr), timeout=10)
        return body.split() if code == 200 else None


def wait_for(what, check, timeout, step=2.0):
    return pair.wait_for(what, check, timeout, step)


def now():
    return time.monotonic()


# Milestones of a failover in the survivor's journal (short-unix timestamps), in the order they happen.
# The results' words are Pacemaker's: "ok" up to 2.1.5 (Debian 12), "OK" from 3.0 (Debian 13).
MILESTONES = (
    ("membership change", re.compile(r"corosync\[\d+\]:.*(A processor failed|Members left|link: host: \d+ link: \d+ is down)")),
    ("fencing requested", re.compile(r"(Requesting fencing \(\w+\) targeting node|Requesting peer fencing).*{target}")),
    ("fencing confirmed", re.compile(r"(Operation '\w+' .*targeting {target}.*OK|Peer {target} was terminated)")),
    ("DRBD promoted", re.compile(r"Result of promote operation for res_drbd_\S+ on {survivor}: (?i:ok)")),
    ("filesystem mounted", re.compile(r"Result of start operation for res_fs_clc on {survivor}: (?i:ok)")),
    ("VIP up", re.compile(r"Result of start operation for res_ip_clc on {survivor}: (?i:ok)")),
    ("source address", re.compile(r"Result of start operation for res_ip_clc_src on {survivor}: (?i:ok)")),
    ("CLC started", re.compile(r"Result of start operation for res_uec on {survivor}: (?i:ok)")),
)


def milestones(journal_text, t0, target, survivor):
    """{milestone: seconds after t0} of the first line of each milestone after t0 (guest clock)."""
    found = {}
    for line in journal_text.splitlines():
        stamp, _, rest = line.partition(" ")
        try:
            t = float(stamp)
        except ValueError:
            continue
        if t < t0:
            continue
        for name, pattern in MILESTONES:
            if name not in found and re.search(pattern.pattern.format(target=target, survivor=survivor), rest):
                found[name] = round(t - t0, 1)
    return {name: found[name] for name, _ in MILESTONES if name in found}


def guest_clock(lab, node):
    return float(lab.exec(node, "date", "+%s.%N", timeout=30).stdout.strip())
