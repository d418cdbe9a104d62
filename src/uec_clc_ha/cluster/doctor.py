"""`uec-clc-ha-ctl doctor`: is this pair safe?  One finding per check (ok, warn, fail), each with its fix.

Called by uec_clc_ha.cli.doctor.  Every check reads this node through
System (files under the root, tools by run(), so the unit tests play each
one against a temporary tree and scripted tools) and, where the cluster
runs, the live CIB and corosync.  What must match the peer is compared
through the three permanent node attributes of uec_clc_ha.cluster.node_facts
(the settings' digest, the DRBD backing disk's size, the Debian release and
Pacemaker version): each node publishes its own when cluster-init brings
the cluster up, when `apply` or the postinst runs on a live cluster, and on
every doctor run, so doctor on either node of a freshly installed pair
compares them with no doctor run on the other first.  doctor computes its
own with the same functions, publishes them, and reads the peer's.

Exit codes: 0 every check ok, 1 warnings, 2 failures.
"""

import os
import re
import stat
from dataclasses import dataclass

from uec_clc_ha.cluster import bmc, corosync_cmap, live_apply, node_facts, pair_status
from uec_clc_ha.cluster.node_facts import DIGEST_ATTR, DISK_ATTR, RELEASE_ATTR
from uec_clc_ha.config import pipeline
from uec_clc_ha.errors import CommandFailure, ToolMissing, UecError
from uec_clc_ha.host import paths

OK, WARN, FAIL = "ok", "warn", "fail"
EXIT = {OK: 0, WARN: 1, FAIL: 2}
UPGRADE_GUIDE = "/usr/share/doc/uec-clc-ha/upgrade.md.gz"
MODULES_LOAD = "/etc/modules-load.d/uec-clc-ha.conf"
LEFTOVER_SUFFIXES = (".ucf-dist", ".ucf-old", ".ucf-new", ".dpkg-dist", ".dpkg-old", ".dpkg-new")
SSH_DIR = "/var/lib/eucalyptus/.ssh"


@dataclass(frozen=True)
class Finding:
    level: str
    check: str
    text: str
    fix: str = ""


def worst(findings):
    return max((f.level for f in findings), key=lambda lv: EXIT[lv], default=OK)


def _major(version):
    m = re.match(r"(\d+)", version or "")
    return int(m.group(1)) if m else 0


class Doctor:
    """The checks of one node.  ``raw``: the settings as the file holds them; ``config``: resolved; ``files``: the
    rendered files; ``keys``: the derived keys."""

    def __init__(self, system, raw, config, files, keys):
        self.system, self.raw, self.c, self.files, self.keys = system, raw, config, files, keys
        self.findings = []
        self._crm = None
        self._crm_read = False
        self._facts = None

    # -- helpers -------------------------------------------------------------------------------
    def add(self, level, check, text, fix=""):
        self.findings.append(Finding(level, check, text, fix))

    def run(self, argv, timeout=20):
        """Completed, or None when the tool is missing or timed out."""
        try:
            return self.system.run(argv, rcs=None, timeout=timeout)
        except (ToolMissing, CommandFailure):
            return None

    def crm(self):
        if not self._crm_read:
            self._crm_read = True
            done = self.run(["crm_mon", "--output-as=xml", "--include=all"])
            if done is not None and done.rc == 0 and "<pacemaker-result" in done.stdout:
                self._crm = pair_status.crm(done.stdout)
        return self._crm

    def facts(self):
        """This node's node_facts, computed once (the functions cluster-init, apply and the postinst publish by)."""
        if self._facts is None:
            self._facts = node_facts.compute(self.system, self.raw, self.c, self.keys)
        return self._facts

    def attribute(self, node, name):
        return node_facts.published(self.system, node, name)

    def unpublished(self, what):
        """The warning for a peer whose attribute the CIB does not hold (it ran no uec-clc-ha with a running
        cluster since it was installed or upgraded to a version that publishes it)."""
        peer = self.c.peer_node
        return f"{peer} has not published {what}", f"`uec-clc-ha-ctl apply` on {peer} publishes it (so do " \
            "cluster-init, doctor and the package's configuration there, with the cluster running)"

    # -- the checks, in the order they are printed -------------------------------------------
    def check_all(self):
        for check in (self.hostnames, self.links, self.drbd_disk, self.drbd_module, self.eucalyptus_boot,
                      self.data_directories, self.ssh_key, self.time, self.fencing, self.cluster_priority, self.quorum, self.cib,
                      self.taken, self.publish, self.same_settings, self.same_release, self.secret_files, self.leftovers):
            check()
        return self.findings

    def hostnames(self):
        name = (self.system.read_or_none("/proc/sys/kernel/hostname") or b"").decode().strip()
        local, peer = self.c.local_node, self.c.peer_node
        if name and name != local:
            self.add(FAIL, "hostname", f"this host is {name}, the settings say Local-Node {local}",
                     f"uec-clc-ha-ctl set Local-Node={name} (or rename the host)")
        else:
            self.add(OK, "hostname", f"this host is {local}")
        for node, address in ((local, self.c.local_address), (peer, self.c.peer_address)):
            done = self.run(["getent", "ahostsv4", node])
            found = sorted({line.split()[0] for line in (done.stdout if done else "").splitlines() if line.strip()})
            if not found:
                self.add(FAIL, "names", f"{node} does not resolve", f"add '{address} {node}' to /etc/hosts "
                         "on both nodes")
            elif str(address) not in found:
                self.add(WARN, "names", f"{node} resolves to {', '.join(found)}, not {address}",
                         f"make {node} resolve to {address} (/etc/hosts on both nodes)")
            else:
                self.add(OK, "names", f"{node} resolves to {address}")

    def links(self):
        for what, address in (("public", self.c.peer_address),
                              ("replication", self.c.replication_peer_address)):
            done = self.run(["ping", "-n", "-q", "-c", "2", "-W", "2", str(address)], timeout=15)
            if done is not None and done.rc == 0:
                self.add(OK, "links", f"the peer answers on the {what} link ({address})")
            else:
                self.add(FAIL, "links", f"the peer does not answer on the {what} link ({address})",
                         "check the cabling and that the peer's interface holds the address (`ip -br addr`)")

    def drbd_disk(self):
        disk = self.c.drbd_disk
        facts = self.facts()
        if facts.disk_problem == node_facts.DISK_MISSING:
            self.add(FAIL, "drbd-disk", f"DRBD-Disk {disk} does not exist", "set DRBD-Disk to this node's "
                     "backing disk (/dev/disk/by-id/...)")
            return
        if facts.disk_problem == node_facts.DISK_NOT_BLOCK:
            self.add(FAIL, "drbd-disk", f"DRBD-Disk {disk} is not a block device", "set DRBD-Disk to a disk "
                     "or partition")
            return
        size = facts.disk_bytes
        if size is None:
            self.add(WARN, "drbd-disk", f"the size of {disk} could not be read (blockdev --getsize64)")
            return
        if self.crm() is None:
            self.add(WARN, "drbd-disk", f"{disk}: {int(size)} bytes; {self.c.peer_node}'s size not compared (the "
                     "cluster does not run here)", "uec-clc-ha-ctl cluster-init")
            return
        peer = self.attribute(self.c.peer_node, DISK_ATTR)
        if peer is None:
            text, fix = self.unpublished("its disk's size")
            self.add(WARN, "drbd-disk", f"{disk}: {int(size)} bytes; {text}", fix)
        elif peer != size:
            self.add(FAIL, "drbd-disk", f"{disk}: {int(size)} bytes here, {int(peer)} on {self.c.peer_node}",
                     "give both nodes backing disks of the same size (DRBD uses the smaller)")
        else:
            self.add(OK, "drbd-disk", f"{disk}: {int(size)} bytes on both nodes")

    def drbd_module(self):
        done = self.run(["modinfo", "-F", "version", "drbd"])
        if done is None or done.rc != 0:
            self.add(FAIL, "drbd-module", "the drbd kernel module is not available",
                     "install a kernel with the drbd module (Debian's stock kernels have it)")
            return
        at_boot = b"drbd" in (self.system.read_or_none(MODULES_LOAD) or b"").split()
        loaded = self.system.exists("/proc/drbd")
        if at_boot and loaded:
            self.add(OK, "drbd-module", f"drbd {done.stdout.strip()} loaded, and loaded at boot ({MODULES_LOAD})")
        else:
            self.add(WARN, "drbd-module", f"drbd {'loaded' if loaded else 'not loaded'}; "
                     f"{'loaded' if at_boot else 'not loaded'} at boot",
                     "uec-clc-ha-ctl apply (writes " + MODULES_LOAD + "); modprobe drbd")

    def eucalyptus_boot(self):
        done = self.run(["systemctl", f"--root={self.system.root}", "is-enabled", "eucalyptus-cloud.service"])
        state = done.stdout.strip() if done is not None else ""
        sysv = [n for d in ("/etc/rc2.d", "/etc/rc3.d", "/etc/rc5.d") for n in self.system.listdir(d)
                if re.fullmatch(r"S\d\deucalyptus(-cloud)?", n)]
        installed = state not in ("", "not-found") or self.system.exists("/etc/init.d/eucalyptus-cloud") or \
            self.system.exists("/usr/sbin/eucalyptus-cloud")
        if not installed:
            self.add(WARN, "eucalyptus", "eucalyptus-cloud is not installed here", "install the Cloud Controller "
                     "(eucalyptus-cloud) on both nodes")
        elif state == "enabled" or sysv:
            self.add(FAIL, "eucalyptus", "eucalyptus-cloud starts at boot: it would run beside the cluster's",
                     "dpkg-reconfigure uec-clc-ha (answer yes to taking it out of boot start-up)")
        else:
            self.add(OK, "eucalyptus", "eucalyptus-cloud is installed and out of boot start-up (the cluster "
                     "starts it)")

    def data_directories(self):
        mount = self.c.mount_point.rstrip("/") + "/"
        for d in self.c.data_directories:
            st = self.system.stat(d)
            if st is None:
                self.add(FAIL, "data", f"{d} does not exist", "uec-clc-ha-ctl migrate-data (the node with the "
                         "data) or prepare-secondary (the other)")
            elif not stat.S_ISLNK(st.st_mode):
                self.add(FAIL, "data", f"{d} is a real directory, not on DRBD", "uec-clc-ha-ctl migrate-data "
                         "(the node with the data) or prepare-secondary (the other)")
            else:
                target = os.readlink(self.system.path(d))
                if target.startswith(mount):
                    self.add(OK, "data", f"{d} -> {target} (on DRBD)")
                else:
                    self.add(FAIL, "data", f"{d} -> {target}, outside {self.c.mount_point}",
                             "uec-clc-ha-ctl prepare-secondary")

    def ssh_key(self):
        mount = self.c.mount_point.rstrip("/") + "/"
        under = [d for d in self.c.data_directories if SSH_DIR.startswith(d.rstrip("/") + "/")]
        if not under:
            self.add(FAIL, "ssh-key", f"{SSH_DIR} is not under any of Data-Directories: the two CLCs would "
                     "present different keys to the CC and Walrus", "keep /var/lib/eucalyptus in Data-Directories")
            return
        st = self.system.stat(under[0])
        if st is not None and stat.S_ISLNK(st.st_mode) and os.readlink(self.system.path(under[0])).startswith(mount):
            self.add(OK, "ssh-key", f"{SSH_DIR} is on DRBD: both CLCs present the same key to the CC and Walrus")
        else:
            self.add(FAIL, "ssh-key", f"{SSH_DIR} is not on DRBD yet", "migrate the data first (see data)")

    def time(self):
        done = self.run(["timedatectl", "show", "--property=NTPSynchronized", "--value"])
        value = done.stdout.strip() if done is not None and done.rc == 0 else ""
        if value == "yes":
            self.add(OK, "time", "the clock is synchronized (NTP)")
        else:
            self.add(WARN, "time", "the clock is not known to be synchronized: logs and certificates of the two "
                     "nodes disagree", "install and enable systemd-timesyncd or chrony on both nodes")

    def fencing(self):
        f = self.c.fencing
        if f == "none":
            self.add(FAIL, "fencing", "FENCING IS OFF: a split between the nodes can promote DRBD on both and "
                     "corrupt the cloud's data", "set Fencing=sbd (a shared disk and a watchdog) or ipmilan")
            return
        if f == "sbd":
            ok = self.system.exists(self.c.sbd_device)
            self.add(OK if ok else FAIL, "fencing", f"sbd on {self.c.sbd_device}" + ("" if ok else
                     ": the device does not exist"), "" if ok else "attach the shared disk, or fix SBD-Device")
            wd = self.c.sbd_watchdog_device
            st = self.system.stat(wd)
            if st is None:
                self.add(FAIL, "watchdog", f"no watchdog {wd}: sbd cannot run, and without it nothing resets a "
                         "hung node",
                         "load the board's watchdog driver (or softdog, see uec-clc-ha-ctl(8), cluster-init)")
            else:
                self.add(OK, "watchdog", f"watchdog {wd} present")
            if self.c.fencing_probe:
                probe = "/usr/sbin/fence_uec_clc_ha_probe"
                if self.system.exists(probe):
                    self.add(OK, "fence-probe", f"the fencing probe looks at {self.c.peer_node} through the disk for "
                             f"{self.c.fencing_probe_window} s before st_sbd fences it; the delay is paid only in a "
                             "split")
                else:
                    self.add(FAIL, "fence-probe", f"Fencing-Probe-Window is {self.c.fencing_probe_window} but "
                             f"{probe} is missing: level 1 of this node's fencing cannot run",
                             "reinstall uec-clc-ha (apt-get install --reinstall uec-clc-ha)")
        else:
            self.add(OK, "fencing", f"IPMI fencing of {self.c.peer_node} at {self.c.ipmi_peer_address}")
            self.peer_bmc()

    def peer_bmc(self):
        """The peer's BMC asked for its power state with the CIB's user and password (this node's own BMC is
        checked by doctor on the peer, the node that would fence through it)."""
        peer, address = self.c.peer_node, self.c.ipmi_peer_address
        state, detail = bmc.status(self.system, self.c, address)
        if state == "on":
            self.add(OK, "bmc", f"{peer}'s BMC at {address} answers fence_ipmilan ({detail})")
        elif state == "off":
            self.add(WARN, "bmc", f"{peer}'s BMC at {address} answers: {peer} is powered off",
                     f"power {peer} on (ipmitool -I lanplus -H {address} -U {self.c.ipmi_user} -a chassis power on)")
        else:
            self.add(FAIL, "bmc", f"{peer}'s BMC at {address} does not answer fence_ipmilan with the settings' "
                     f"IPMI-User and IPMI-Password ({detail}): fencing {peer} would fail, and if {peer} were lost "
                     "the cloud would wait instead of moving here",
                     f"check the BMC's network and user (ipmitool -I lanplus -H {address} -U {self.c.ipmi_user} -a "
                     "chassis power status), or set IPMI-Peer-Address / IPMI-User / IPMI-Password and apply")

    def cluster_priority(self):
        """Pacemaker's agents ahead of the rest of a busy node: the drop-in's cluster-priority weighs the
        fencer's session as nice -10 and the executor's as -5 where the kernel groups by session (Debian's
        default), or the fencer itself at nice -10 where it does not (the agents' nice is 0 either way)."""
        grouped = (self.system.read_or_none("/proc/sys/kernel/sched_autogroup_enabled") or b"").strip() == b"1"
        wanted = (("pacemaker-fence", "fencer", -10),) + ((("pacemaker-execd", "executor", -5),) if grouped else ())
        found = []
        for name, label, want in wanted:
            done = self.run(["pgrep", "-x", name])
            pids = done.stdout.split() if done is not None and done.rc == 0 else []
            if not pids:
                return                                      # no cluster here: the quorum check says so
            found.append((label, want, self._weight(pids[0], grouped)))
        what = "session" if grouped else "process"
        said = " and ".join(f"the {label}'s {what} {'?' if got is None else got}" for label, _, got in found)
        if all(got is not None and got <= want for _, want, got in found):
            self.add(OK, "priority", f"nice of {said}: on a busy node fencing and the monitors get the CPU "
                     "before the CLC and an admin's commands")
        else:
            self.add(WARN, "priority", f"nice of {said} (wanted: "
                     + ", ".join(f"{label} {want}" for label, want, _ in found) + "): on a loaded node the "
                     "monitors and the fence agents share the CPU with everything else; monitors may run past "
                     "their timeouts, and a split may be lost that should be won",
                     "/usr/lib/uec-clc-ha/cluster-priority (at any time; Pacemaker's start runs it too)")

    def _weight(self, pid, grouped):
        """The nice of pid's session (/proc/PID/autogroup: "/autogroup-45 nice -10"), or of the process."""
        if grouped:
            words = (self.system.read_or_none(f"/proc/{pid}/autogroup") or b"").decode().split()
            return int(words[-1]) if words and words[-1].lstrip("-").isdigit() else None
        fields = (self.system.read_or_none(f"/proc/{pid}/stat") or b"").decode().rsplit(")", 1)[-1].split()
        return int(fields[16]) if len(fields) > 16 and fields[16].lstrip("-").isdigit() else None

    def quorum(self):
        done = self.run(["corosync-cmapctl", "runtime.votequorum."])
        if done is None or done.rc != 0:
            if self.c.cluster_stack == "corosync":
                self.add(WARN, "quorum", "corosync does not run here: quorum not checked",
                         "uec-clc-ha-ctl cluster-init")
            return
        values = pair_status.cmap(done.stdout)
        if self.c.arbiter_host:
            self.arbiter(values.get("runtime.votequorum.two_node") == "1")
        elif values.get("runtime.votequorum.two_node") == "1":
            self.add(OK, "quorum", "two_node quorum (wait_for_all): a node that starts alone waits for its peer")
        else:
            self.add(FAIL, "quorum", "corosync runs without two_node: one node cannot keep quorum",
                     "uec-clc-ha-ctl apply (corosync.conf sets two_node)")

    def arbiter(self, two_node):
        """With an Arbiter: corosync counts its vote, and corosync-qdevice here is connected to it."""
        host = f"{self.c.arbiter_host}:{self.c.arbiter_port}"
        if two_node:
            self.add(WARN, "quorum", f"corosync still counts two_node votes, not the arbiter {host}'s",
                     "uec-clc-ha-ctl apply on both nodes (the second node's apply reloads both)")
            return
        done = self.run(["corosync-qdevice-tool", "-sv"])
        q = pair_status.qdevice(done.stdout) if done is not None and done.rc == 0 else None
        if q is None:
            self.add(FAIL, "quorum", f"corosync expects the arbiter {host}'s vote, but corosync-qdevice does not "
                     "run here: if the peer is lost, this node has no quorum and the cloud waits for the peer",
                     "systemctl enable --now corosync-qdevice (uec-clc-ha-ctl apply does it)")
        elif q["state"] != "Connected":
            self.add(WARN, "quorum", f"the arbiter {host} is not connected ({q['state']}): both nodes keep quorum "
                     "together, but if one is lost now the other has no quorum and the cloud waits until the "
                     "arbiter and the lost node are both back",
                     f"on {self.c.arbiter_host}: systemctl status corosync-qnetd uec-clc-ha-arbiter.socket; "
                     "here: corosync-qdevice-tool -sv and journalctl -u corosync-qdevice")
        elif q["heuristics"] == "Fail" and not self.reaches_a_ping_host():
            self.add(WARN, "quorum", f"the arbiter {host} is connected, but this node's heuristics fail (it "
                     "reaches none of the Ping-Hosts): in a split the arbiter votes for the other node",
                     "check this node's public network and its Ping-Hosts")
        elif q["heuristics"] == "Fail":
            # mode sync: qdevice runs them at membership changes only, so its result can be older than the network
            self.add(OK, "quorum", f"the arbiter {host} is connected (TLS {'on' if q['tls'] else 'OFF'}); its "
                     "heuristics failed at the last membership change (they run only then), and this node "
                     "reaches a Ping-Host now: a split is decided on a fresh result")
        else:
            self.add(OK, "quorum", f"the arbiter {host} is connected (TLS {'on' if q['tls'] else 'OFF'}, "
                     f"heuristics {q['heuristics'] or 'not run'}): in a split its vote decides, with no "
                     "fencing delay")

    def reaches_a_ping_host(self):
        """The heuristics run now (reach-any, as corosync-qdevice runs it); False when it cannot be run."""
        done = self.run([paths.REACH_ANY, *(str(h) for h in self.c.ping_hosts)], timeout=10)
        return done is not None and done.rc == 0

    def cib(self):
        view = self.crm()
        if view is None:
            self.add(WARN, "cib", "the cluster does not run here: the live configuration not checked",
                     "uec-clc-ha-ctl cluster-init")
            return
        done = self.run(["crm_attribute", "--type", "crm_config", "--name", "no-quorum-policy", "--query",
                         "--quiet"])
        policy = done.stdout.strip() if done is not None and done.rc == 0 else ""
        bad = []
        if policy == "ignore":
            bad.append("no-quorum-policy=ignore (the recipe's: a lone node would run the cloud)")
        if not view["stonith_enabled"] and self.c.fencing != "none":
            bad.append("stonith-enabled=false (the recipe's: nothing is fenced)")
        if bad:
            policy = live_apply.OWNED_PROPERTIES["no-quorum-policy"] if self.c.arbiter_host else "stop"
            self.add(FAIL, "cib", "the live CIB has " + "; ".join(bad),
                     f"crm configure property no-quorum-policy={policy} stonith-enabled=true "
                     "(or uec-clc-ha-ctl apply --force)")
        else:
            self.add(OK, "cib", "no-quorum-policy and stonith-enabled are as the package sets them")

    def taken(self):
        """The running services hold what the files say: `apply --dry-run` would run nothing."""
        if self.crm() is None:
            return
        try:
            steps, notes = live_apply.plan(self.system, self.c, pipeline.plan(self.system, self.files))
        except UecError as e:
            self.add(FAIL, "applied", f"the running cluster cannot take the files as they are: {e}",
                     "see the message; `uec-clc-ha-ctl apply --dry-run` repeats it")
            return
        pending = [s.what for s in steps if s.argv] + notes
        if pending:
            self.add(WARN, "applied", "the running cluster differs from the files: " + "; ".join(pending),
                     "uec-clc-ha-ctl apply (on each node; --dry-run shows what it runs)")
        else:
            self.add(OK, "applied", "the running cluster holds what the files say (CIB, corosync, DRBD)")
        self.corosync_running()

    def corosync_running(self):
        """corosync runs with the keys of its corosync.conf (a reload that failed, or a change made by hand
        with corosync-cmapctl, shows here even where apply's record says the file was taken)."""
        if not self.system.exists(paths.COROSYNC_CONF):
            return
        found = corosync_cmap.drift(self.system, self.system.read_bytes(paths.COROSYNC_CONF))
        if found is None:
            return
        if found:
            self.add(WARN, "corosync", f"corosync runs with other values than {paths.COROSYNC_CONF}: "
                     + "; ".join(found),
                     "uec-clc-ha-ctl apply (it reloads corosync: every node re-reads its own corosync.conf)")
        else:
            self.add(OK, "corosync", f"corosync runs with every value of {paths.COROSYNC_CONF}")

    def publish(self):
        """This node's facts for the peer's doctor (node_facts.publish); said only when the CIB did not take them."""
        if self.crm() is None:
            return
        _, failed = node_facts.publish(self.system, self.c.local_node, self.facts())
        if failed:
            self.add(WARN, "publish", f"this node's facts could not be published for {self.c.peer_node}'s doctor: "
                     + "; ".join(failed), "check that the CIB takes changes here (`cibadmin -Q -o nodes`, "
                     "`journalctl -u pacemaker`), then run doctor again")

    def same_settings(self):
        mine = self.facts().digest
        if self.crm() is None:
            self.add(WARN, "same-settings", "the cluster does not run here: the peer's settings not compared",
                     "uec-clc-ha-ctl cluster-init")
            return
        peer = self.attribute(self.c.peer_node, DIGEST_ATTR)
        if peer is None:
            self.add(WARN, "same-settings", *self.unpublished("its settings' digest"))
        elif peer != mine:
            self.add(FAIL, "same-settings", f"{self.c.peer_node}'s settings (or cluster secret) differ from this "
                     "node's", "compare `uec-clc-ha-ctl show` on both nodes; make them equal (the node "
                     "names and addresses swapped), then apply on both")
        else:
            self.add(OK, "same-settings", f"{self.c.peer_node} holds the same settings and cluster secret")

    def same_release(self):
        facts = self.facts()
        debian, pacemaker = facts.debian, facts.pacemaker
        here = f"Debian {debian or '(unknown)'} (Pacemaker {pacemaker or 'unknown'})"
        if self.crm() is None:
            self.add(OK, "release", f"{here} here; the peer's not compared (the cluster does not run here)")
            return
        peer = self.attribute(self.c.peer_node, RELEASE_ATTR)
        theirs = dict(w.split("=", 1) for w in (peer or "").split() if "=" in w)
        if peer is None:
            text, fix = self.unpublished("its release")
            self.add(WARN, "release", f"{here} here; {text}", fix)
        elif _major(theirs.get("debian")) == _major(debian):
            self.add(OK, "release", f"both nodes run {here}" if theirs.get("pacemaker") == pacemaker else
                     f"both nodes run Debian {debian} (Pacemaker {pacemaker} here, {theirs.get('pacemaker')} on "
                     f"{self.c.peer_node})")
        else:
            major = {self.c.local_node: _major(debian), self.c.peer_node: _major(theirs.get("debian"))}
            older = min(major, key=lambda n: major[n])
            newer = self.c.peer_node if older == self.c.local_node else self.c.local_node
            self.add(WARN, "release", f"the nodes run different Debian releases: {here} here, Debian "
                     f"{theirs.get('debian')} (Pacemaker {theirs.get('pacemaker')}) on {self.c.peer_node}; a pair "
                     "runs so only in the middle of a rolling upgrade",
                     f"finish it: `uec-clc-ha-ctl standby {older}` (the cloud moves to {newer}), upgrade {older} "
                     f"the same way, reboot it, `uec-clc-ha-ctl unstandby {older}` ({UPGRADE_GUIDE})")

    def secret_files(self):
        bad = []
        for path in sorted(list(self.files) + [paths.SETTINGS_PATH]):
            f = self.files.get(path)
            if f is not None and not f.secret:
                continue
            st = self.system.stat(path)
            if st is not None and st.st_mode & 0o077:
                bad.append(f"{path} ({st.st_mode & 0o7777:04o})")
        if bad:
            self.add(FAIL, "secrets", "readable by others: " + ", ".join(bad), "uec-clc-ha-ctl apply (sets the "
                     "modes), or chmod 600")
        else:
            self.add(OK, "secrets", "files holding the secret or keys are mode 0600")

    def leftovers(self):
        found = [path + suffix for path in sorted(self.files) for suffix in LEFTOVER_SUFFIXES
                 if self.system.exists(path + suffix)]
        if found:
            self.add(WARN, "leftovers", "ucf/dpkg leftovers: " + ", ".join(found),
                     "compare each with the file beside it, then delete it")
        else:
            self.add(OK, "leftovers", "no ucf or dpkg leftovers beside the generated files")


def render(findings):
    width = max((len(f.check) for f in findings), default=0)
    lines = []
    for f in findings:
        lines.append(f"{f.level:<4} {f.check:<{width}}  {f.text}" + (f"\n{'':<{width + 7}}fix: {f.fix}"
                                                                       if f.fix and f.level != OK else ""))
    return "\n".join(lines) + "\n"

