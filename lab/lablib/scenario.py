"""What every failure scenario on the lab shares: records written through the VIP, the pair restored between
scenarios, and the checks that nothing acknowledged was lost and nothing diverged.

Used by the scenario tests (tests/lab/test_lab_*.py) and the lab benchmark
(lab/bench.py).  Each scenario starts with restore(): both VMs
powered on, every link up, no standby, no move or ban constraint, no failed
action, DRBD Connected and UpToDate on both, the group running and the VIP
serving.  All state is read from the real tools in the guests; every wait
polls with a deadline.
"""

import re
import threading
import time
import xml.etree.ElementTree as ET

from . import config, guest, net, vm
from .observe import MILESTONES, RUNNING, wait_for

GROUP = "rg_uec"
CLC = "res_uec"
PIDFILE = "/var/run/eucalyptus/eucalyptus-cloud.pid"
DRBD_RESOURCE = "uec-clc"
FENCE_CONSTRAINT = "drbd-fence-by-handler"


class Writer(threading.Thread):
    """Writes numbered records through the VIP until stopped; keeps the acknowledged ones and when they were.

    Paced (``interval`` seconds between writes): a client, not a load test on
    a one-vCPU emulated guest.
    """

    running = set()          # started and not yet finished: the lab conftest stops them after each test

    def __init__(self, lab, prefix, timeout=3, addr=config.VIP, interval=0.5):
        super().__init__(daemon=True)
        self.lab, self.prefix, self.timeout, self.addr, self.interval = lab, prefix, timeout, addr, interval
        self.acked, self.times, self.refused = [], [], 0
        self.stop = threading.Event()

    def start(self):
        Writer.running.add(self)
        super().start()

    def run(self):
        i = 0
        while not self.stop.is_set():
            line = f"{self.prefix}-{i}"
            if self.lab.write(line, timeout=self.timeout, addr=self.addr):
                self.acked.append(line)
                self.times.append(time.monotonic())
            else:
                self.refused += 1
            self.stop.wait(self.interval)
            i += 1

    def wait_acked(self, more=3, timeout=120):
        """Wait until `more` further records are acknowledged."""
        target = len(self.acked) + more
        wait_for(f"{more} records acknowledged through the VIP", lambda: len(self.acked) >= target, timeout, step=0.3)

    def finish(self):
        self.stop.set()
        self.join(30)
        Writer.running.discard(self)

    @classmethod
    def stop_all(cls):
        """Stop every writer still running (a test that failed before its finish())."""
        for writer in list(cls.running):
            writer.finish()

    def longest_gap(self, since=None):
        """Longest time (s) between two acknowledged writes from the last one before `since` (monotonic) on:
        the client's outage."""
        before = [t for t in self.times if since is not None and t < since]
        times = before[-1:] + [t for t in self.times if since is None or t >= since]
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)


def lost(lab, expected, addr=config.VIP):
    """The acknowledged records the cloud no longer has (all of them when the VIP does not answer)."""
    stored = lab.records(addr)
    if stored is None:
        return list(expected)
    stored = set(stored)
    return [r for r in expected if r not in stored]


def installed(lab, node, package="uec-clc-ha"):
    """True when dpkg has ``package`` installed on node."""
    done = lab.exec(node, "dpkg-query", "-W", "-f", "${Status}", package, check=False, timeout=60)
    return done.stdout.strip() == "install ok installed"


def clc_pid(lab, node):
    done = lab.sh(node, f"cat {PIDFILE} 2>/dev/null", check=False, timeout=30)
    return int(done.stdout.split()[0]) if done.stdout.split() and done.stdout.split()[0].isdigit() else None


def fail_count(lab, node, on, rsc=CLC):
    """Pacemaker's fail count of rsc on node `on`, as node `node` reads it (INFINITY as a large number)."""
    done = lab.exec(node, "crm_failcount", "--query", "-r", rsc, "-N", on, timeout=60, check=False)
    m = re.search(r"value=(\S+)", done.stdout)
    if not m:
        return 0
    return 1000000 if m.group(1).upper() == "INFINITY" else int(m.group(1))


def fence_events(lab, node):
    """Every fencing action the cluster recorded, as node sees it: [(target, action, status, completed)].

    --verbose: without it `stonith_admin --history` prints one event only (its help: "the last successful
    fencing operation"; Pacemaker 3.0 picks one of the completed ones), so a new fencing could go unseen."""
    done = lab.exec(node, "stonith_admin", "--history", "*", "--verbose", "--output-as=xml", timeout=60,
                    check=False)
    if "<pacemaker-result" not in done.stdout:
        return []
    root = ET.fromstring(done.stdout)
    return sorted((e.get("target", ""), e.get("action", ""), e.get("status", ""), e.get("completed", ""))
                  for e in root.iter("fence_event"))


def fence_constraints(lab, node):
    """Ids of the constraints crm-fence-peer.sh placed (DRBD's fence-peer handler) in the CIB."""
    done = lab.exec(node, "cibadmin", "--query", "--scope", "constraints", timeout=60, check=False)
    return re.findall(r'id="(' + FENCE_CONSTRAINT + r'[^"]*)"', done.stdout)


def move_constraints(lab, node):
    """Ids of the cli-prefer/cli-ban constraints a move (crm_resource --move/--ban) left in the CIB."""
    done = lab.exec(node, "cibadmin", "--query", "--scope", "constraints", timeout=60, check=False)
    return re.findall(r'id="(cli-[^"]*)"', done.stdout)


def out_of_sync_kib(lab, node):
    """DRBD's oos: counter of /proc/drbd (KiB the node knows differ from its peer)."""
    m = re.search(r"\boos:(\d+)", lab.sh(node, "cat /proc/drbd", timeout=30).stdout)
    return int(m.group(1)) if m else None


def verify(lab, node, timeout=900):
    """Online verify (`drbdadm verify`) from node, both copies compared block by block: KiB found out of sync.

    While it reads both disks a node's emulated CPU can be too busy for its agent to answer one poll within the
    poll's timeout (make test, 2026-12-07: `cat /proc/drbd` unanswered for 45 s): such a poll counts as "still
    verifying", and the verify's own deadline decides."""
    def state():
        try:
            return lab.drbd(node)[0]
        except guest.AgentError:
            return None
    lab.exec(node, "drbdadm", "verify", DRBD_RESOURCE, timeout=60)
    wait_for("DRBD's online verify started", lambda: state() in ("VerifyS", "Connected"), 120, step=0.5)
    wait_for("DRBD's online verify done", lambda: state() == "Connected", timeout, step=2)
    return out_of_sync_kib(lab, node)


def fencing_probe_delay(lab, node):
    """The fencing probe's delay unit (st_sbd_probe's fencing_delay in the live CIB), or None without a probe."""
    done = lab.exec(node, "crm_resource", "--resource", "st_sbd_probe", "--get-parameter", "fencing_delay",
                    "--quiet", timeout=60, check=False)
    out = done.stdout.strip()
    return int(out) if done.rc == 0 and out.isdigit() else None


def quorum(lab, node):
    """corosync-quorumtool -s on node: {"expected": N, "total": N, "flags": {...}, "text": its output}."""
    text = lab.exec(node, "corosync-quorumtool", "-s", timeout=60, check=False).stdout
    field = dict(re.findall(r"^([A-Z][\w ]+?):\s+(.*?)\s*$", text, re.M))
    return {"expected": int(field.get("Expected votes", "0")), "total": int(field.get("Total votes", "0")),
            "flags": set(field.get("Flags", "").split()), "text": text}


def qdevice_connected(lab, node):
    """True when node's corosync-qdevice is connected to the arbiter (corosync-qdevice-tool -s)."""
    text = lab.exec(node, "corosync-qdevice-tool", "-s", timeout=60, check=False).stdout
    return re.search(r"^\s*State:\s+Connected", text, re.M) is not None


def votes_with_arbiter(lab, node):
    """True when node's corosync counts an arbiter's vote (corosync-quorumtool -s lists the Qdevice flag)."""
    return "Qdevice" in quorum(lab, node)["flags"]


def fencing_race_bound(lab, node, cut_off=False):
    """Seconds after a cut before which the losing node's fencing request cannot leave it: corosync's token
    timeout and consensus (the live values, corosync-cmapctl) plus the delay it waits: priority-fencing-delay
    (the live CIB), or with the fencing probe the two delays a node cut off from the ping hosts waits.

    A lower bound: the loser's own scheduling and its fence agent's start
    come on top.  A loser reset before it has had its chance to fence.
    """
    def cmap(key):
        out = lab.exec(node, "corosync-cmapctl", "-g", key, timeout=60).stdout
        return int(out.rsplit("=", 1)[1]) / 1000
    probe = fencing_probe_delay(lab, node)
    if probe is not None:
        wait = 2 * probe if cut_off else 0
    else:
        delay = lab.exec(node, "crm_attribute", "--type", "crm_config", "--name", "priority-fencing-delay",
                         "--query", "--quiet", timeout=60, check=False).stdout.strip()
        m = re.fullmatch(r"(\d+)(s?)", delay)
        wait = int(m.group(1)) if m else 0
    return cmap("runtime.config.totem.token") + cmap("runtime.config.totem.consensus") + wait


def split_brain_seen(lab, node):
    done = lab.sh(node, "journalctl -k --no-pager -b", timeout=60)
    return "Split-Brain detected" in done.stdout


def boot_id(lab, node):
    answer = guest.ping(node, timeout=5)
    return answer.get("boot_id") if answer else None


def settled(lab, node, timeout=120):
    """Wait until the cluster has nothing left to do (crm_resource --wait, as node sees it)."""
    lab.exec(node, "crm_resource", "--wait", f"--timeout={int(timeout)}s", timeout=timeout + 30)


def healthy(lab):
    """A reason the pair is not in its normal state, or "" when it is.

    One crm_mon per node (half a second of an emulated CPU each): the
    restore loop polls this, and its own load must not slow what it waits for.
    """
    where = {}
    for node in config.NODES:
        view = lab.view(node)
        if view is None:
            return f"no cluster view on {node}"
        if not view.quorate:
            return f"{node}'s partition is not quorate"
        for n, v in view.nodes.items():
            if not v["online"] or v["standby"]:
                return f"{n} is {'in standby' if v['standby'] else 'offline'} as {node} sees it"
        if view.failures:
            return f"failed actions: {view.failures}"
        cs, roles, disks = lab.drbd(node)
        if cs != "Connected" or disks != "UpToDate/UpToDate":
            return f"DRBD on {node}: {cs} {roles} {disks}"
        where[node] = view.running_on(RUNNING)
    if None in where.values() or len(set(where.values())) != 1:
        return "the group does not run on one node"
    if fence_constraints(lab, "clc1"):
        return "a DRBD fence constraint is still in the CIB"
    if not lab.serving():
        return "the VIP does not serve /register"
    return ""


def wait_online(lab, timeout):
    """Wait until both nodes see a quorate cluster with both nodes online."""
    wait_for("a quorate cluster with both nodes online", lambda: all(
        (v := lab.view(n)) is not None and v.quorate and all(x["online"] for x in v.nodes.values())
        and len(v.nodes) == 2 for n in config.NODES), timeout, step=3)


def restore(lab, timeout=900):
    """Bring the pair back to normal from whatever a scenario left: links, power, standby, constraints, failures."""
    for node in config.NODES:
        for link in net.LINKS:
            net.set_link(node, link, True)
    if vm.with_bmcs():
        for node in config.NODES:
            vm.start_bmc(node)                             # a BMC a scenario stopped answers again
    for node in config.NODES:
        if not lab.running(node):
            lab.boot(node)
    for node in config.NODES:
        guest.wait_up(node, 600)
    wait_online(lab, timeout)
    for node in config.NODES:
        lab.exec("clc1", "crm_attribute", "--node", node, "--name", "standby", "--update", "off",
                 "--lifetime", "forever", timeout=60)
    lab.exec("clc1", "crm_resource", "--clear", "--resource", GROUP, timeout=60, check=False)
    if any(fail_count(lab, "clc1", n) for n in config.NODES):
        lab.exec("clc1", "crm_resource", "--cleanup", timeout=120)
    wait_normal(lab, timeout, clean=True)
    settled(lab, "clc1")
    wait_normal(lab, 120, clean=True)


def whole_again(lab, survivor, writer):
    """After a split: the pair restored, the cloud still on survivor (nothing moves back), every acknowledged
    record read back, no split brain, online verify clean."""
    restore(lab)
    assert lab.active(survivor) == survivor
    writer.wait_acked()
    writer.finish()
    assert lost(lab, writer.acked) == []
    assert not any(split_brain_seen(lab, n) for n in config.NODES)
    assert verify(lab, survivor) == 0


def wait_normal(lab, timeout, clean=False):
    """Wait until healthy(); AssertionError with the last reason it was not.

    ``clean``: failed actions (a scenario's, or a monitor a loaded emulated
    node ran out of time for while recovering) are cleaned up as they are
    seen, so the next scenario starts without them.
    """
    last = [""]

    def normal():
        last[0] = healthy(lab)
        if clean and last[0].startswith("failed actions"):
            lab.exec("clc1", "crm_resource", "--cleanup", timeout=120, check=False)
        return not last[0]
    try:
        wait_for("the pair back to normal", normal, timeout, step=5)
    except TimeoutError as e:
        raise AssertionError(f"the pair did not return to normal within {timeout} s: {last[0]}") from e


def cursor(lab, node):
    """The journal cursor of node's latest entry: what a scenario logs after it is read with after()."""
    out = lab.exec(node, "journalctl", "--no-pager", "-n", "1", "-o", "cat", "--show-cursor", timeout=60).stdout
    return re.search(r"-- cursor: (\S+)", out).group(1)


def after(lab, node, cur, pattern):
    """[(guest time, line)] of node's journal entries after cursor `cur` that match pattern."""
    out = lab.exec(node, "journalctl", "--no-pager", "-o", "short-unix", f"--after-cursor={cur}", timeout=120).stdout
    found = []
    for line in out.splitlines():
        stamp, _, rest = line.partition(" ")
        if re.search(pattern, rest):
            try:
                found.append((float(stamp), rest))
            except ValueError:
                continue
    return found


def fencing_requests_this_boot(lab, node):
    """How many times node's fencer asked for fencing since node booted (its journal of this boot)."""
    out = lab.sh(node, "journalctl --no-pager -b -o cat | grep -c 'Requesting fencing' || true").stdout.strip()
    return int(out)


def fencings_after(lab, node, cur, target):
    """[(guest time, line)] of the fencings of target that node's journal confirms after cursor `cur`.

    The fencer's history (fence_events) has no marker of when a scenario began; the journal after a cursor
    taken before the scenario does."""
    confirmed = dict(MILESTONES)["fencing confirmed"].pattern.format(target=re.escape(target))
    return after(lab, node, cur, confirmed)


OPERATION = r"Result of (start|stop|promote|demote) operation for (\S+) on "
# The cloud's resources: an administrator's change that does not need them must not start or stop them.
CLOUD = {f"res_drbd_{DRBD_RESOURCE}", "res_fs_clc", CLC, "res_uec_image_store_proxy", "res_ip_clc", "res_ip_clc_src"}


def restarted(lab, cursors):
    """The resources the controllers started, stopped, promoted or demoted after each node's journal cursor."""
    return sorted({re.search(OPERATION, line).group(2) for node in config.NODES
                   for _, line in after(lab, node, cursors[node], OPERATION)})


class Watch:
    """An administrator's operation on the serving pair, watched: where the cloud ran and its PID, each node's
    journal cursor, and a client writing through the VIP from before the operation (restore() first)."""

    def __init__(self, lab, prefix):
        restore(lab)
        self.lab = lab
        self.active = lab.active("clc1")
        self.pid = clc_pid(lab, self.active)
        self.cursors = {n: cursor(lab, n) for n in config.NODES}
        self.writer = Writer(lab, prefix)
        self.writer.start()
        self.writer.wait_acked()
        self.started = time.monotonic()

    def finish(self):
        """Stop the client; (its longest gap since the operation began, the resources that started or stopped).
        Nothing acknowledged may be lost."""
        self.writer.wait_acked()
        self.writer.finish()
        assert lost(self.lab, self.writer.acked) == [], "acknowledged records lost"
        return self.writer.longest_gap(self.started), restarted(self.lab, self.cursors)


def shown(lab, key, node="clc1"):
    """A setting's value as `uec-clc-ha-ctl show KEY` prints it on node ("" when empty)."""
    return lab.exec(node, "uec-clc-ha-ctl", "show", key, timeout=120).stdout.split(":", 1)[1].strip()


def set_on_both(lab, *assignments):
    """`uec-clc-ha-ctl set KEY=VALUE ...` on both nodes (the admin changes both before `apply`)."""
    for node in config.NODES:
        lab.exec(node, "uec-clc-ha-ctl", "set", *assignments, timeout=120)


def sbd_header(lab, node):
    """(watchdog, msgwait) of the SBD device's header as node reads it; None while it has none."""
    from uec_clc_ha.cluster import sbd
    return sbd.parse_header(lab.exec(node, "sbd", "-d", config.SBD_DEVICE, "dump", timeout=60, check=False).stdout)


def new_sbd_timeouts(lab, header, *assignments):
    """New SBD timeouts on a serving pair: the steps apply's refusal prints (doc/configuration.md), as an admin
    types them, until the device has `header` (watchdog, msgwait).  `assignments` are set on both nodes first
    (none: they are set already).  The cloud runs on through it (maintenance mode).  Used by
    test_lab_administration and lab/bench.py (crmsh's timeouts); (the initial primary, {node: what its
    cluster-init said})."""
    watchdog, msgwait = header
    if assignments:
        set_on_both(lab, *assignments)
    refused = lab.exec("clc1", "uec-clc-ha-ctl", "apply", timeout=300, check=False)
    assert refused.rc == 6 and "maintenance-mode=true" in refused.stderr, refused.stderr
    assert "Nothing was written" in refused.stderr
    primary = shown(lab, "Initial-Primary")
    other = config.peer(primary)
    lab.exec(primary, "crm", "configure", "property", "maintenance-mode=true", timeout=120)
    for node in config.NODES:
        lab.exec(node, "systemctl", "stop", "pacemaker", "corosync", timeout=600)
    for node in config.NODES:
        lab.exec(node, "uec-clc-ha-ctl", "apply", timeout=600)
    said = {}

    def first():
        said[primary] = lab.exec(primary, "uec-clc-ha-ctl", "cluster-init", "--yes", "--force", timeout=1800,
                                 check=False)
    thread = threading.Thread(target=first)
    thread.start()
    wait_for("the new SBD header", lambda: sbd_header(lab, other) == (watchdog, msgwait), 600)
    said[other] = lab.exec(other, "uec-clc-ha-ctl", "cluster-init", timeout=1800, check=False)
    thread.join()
    for node, done in said.items():
        assert done.rc == 0, f"{node}: {done.stdout}{done.stderr}"
    lab.exec(primary, "crm", "configure", "property", "maintenance-mode=false", timeout=120)
    wait_normal(lab, 900)
    return primary, said
