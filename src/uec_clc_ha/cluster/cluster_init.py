"""Bringing the cluster up on this node: SBD, corosync and Pacemaker, DRBD handed over, the CIB loaded.

Called by `uec-clc-ha-ctl cluster-init` and by the postinst when the admin
answered yes to uec-clc-ha/start-cluster.  Named stages, each idempotent, run
in order; a run on a pair that is up changes nothing and says so:

  files      the generated files are in place (`apply` has nothing to do)
  foreign    no cluster configured by hand runs here (a recipe pair: adopt)
  sbd        Fencing sbd: a watchdog exists; the device carries an SBD header
             with the settings' timeouts (written with `sbd create` only on
             the initial primary, only with --yes, only on a device without
             a header or other data; a header with other timeouts is refused
             without --force, and with --force while an sbd on either node
             still reads the device: `sbd ping` of both slots); sbd enabled
             so it starts with corosync.
             Other fencing: sbd (a dependency) is disabled, since Debian's
             sbd.service is required by corosync.service.
  drbd       drbd-init/migrate-data leave the resource Primary and mounted:
             unmounted and demoted, so ocf:linbit:drbd takes over (it
             promotes the node whose disk is UpToDate: the data's node);
             DRBD's own boot service disabled.  Left as it is when the
             stored CIB is in maintenance mode (the cloud runs on it while
             the stack restarts: a change of the SBD header's timeouts).
  arbiter    with an Arbiter: this node enrolled with it (a qdevice
             certificate from its CA) and corosync-qdevice enabled;
             without: corosync-qdevice disabled.
  stack      corosync and pacemaker enabled and started (and
             corosync-qdevice with an Arbiter); a corosync that runs
             another cluster (Debian's, started when its package was
             installed) stopped first, with Pacemaker, and the CIB that
             cluster left, which holds no resources, set aside
             (cluster.stored_cib; purge puts it back).
  membership waits (with progress) until both nodes are members and the
             partition is quorate, and keeps the evidence that they were
             (cluster.pairing: the prerm refuses removal on it); says
             plainly when it waits for the peer (two_node's wait_for_all:
             a node that starts alone takes over only once it has seen its
             peer).
  cib        /etc/uec-clc-ha/cluster.crm loaded as `apply` loads it (cluster.live_apply:
             load, stamp, then delete what the file no longer has); then
             this node's facts published for doctor (cluster.node_facts),
             also on the first node, which goes on to wait for its peer.
  serving    waits until the group runs and the VIP answers, or names what
             blocks it.

Each unit a stage enables, disables, starts or stops is recorded first as
it was (host.unit_record), so purge puts it back.

A stage that cannot finish yet (the peer not installed) raises Waiting:
the CLI exits 9 and the postinst reports it; everything done so far stays.
"""

import os
import time

from uec_clc_ha.agent import clc_health
from uec_clc_ha.cluster import arbiter, corosync_cmap, crm_mon, live_apply, node_facts, pairing, sbd, stored_cib
from uec_clc_ha.config import pipeline
from uec_clc_ha.data import drbd_state
from uec_clc_ha.errors import CommandFailure, NotFound, NotRunningCleanly, Refused, Waiting
from uec_clc_ha.host import applied, unit_record, units
from uec_clc_ha.host.paths import COROSYNC_AUTHKEY, COROSYNC_CONF, CRM_FILE

GROUP = "rg_uec"
QDEVICE = "corosync-qdevice.service"
GROUP_MEMBERS = ("res_fs_clc", "res_ip_clc", "res_ip_clc_src", "res_uec")     # of rg_uec and rg_uec_address


class Stages:
    """The stages for one node; ``out`` gets one line per step and per progress change."""

    def __init__(self, system, config, out, yes=False, force=False, clock=time.monotonic, sleep=time.sleep):
        self.system, self.c, self.out = system, config, out
        self.yes, self.force = yes, force
        self.clock, self.sleep = clock, sleep
        self.changed = []

    def say(self, message):
        self.out.write(f"cluster-init: {message}\n")
        self.out.flush()

    @property
    def primary(self):
        return self.c.initial_primary == self.c.local_node

    def peer(self):
        return self.c.peer_node

    # -- services -----------------------------------------------------------
    def _systemd(self):
        return self.system.exists("/run/systemd/system")

    def service_enabled(self, unit):
        return units.enabled_word(self.system, unit) in units.NEEDS_NO_ENABLE

    # Every change to a unit is recorded first (host.unit_record): purge puts the units back as they were.
    def enable(self, unit):
        if self._systemd():
            if not self.service_enabled(unit):
                unit_record.note(self.system, unit)
                self.system.run(["systemctl", "enable", unit])
                self.changed.append(f"enabled {unit}")
        else:
            unit_record.note(self.system, unit)
            self.system.run(["update-rc.d", unit.removesuffix(".service"), "enable"], rcs=None)

    def disable(self, unit):
        if self._systemd():
            if units.enabled(self.system, unit):
                unit_record.note(self.system, unit)
                self.system.run(["systemctl", "disable", unit])
                self.changed.append(f"disabled {unit}")
        else:
            unit_record.note(self.system, unit)
            self.system.run(["update-rc.d", unit.removesuffix(".service"), "disable"], rcs=None)

    def active(self, unit):
        if self._systemd():
            return units.active(self.system, unit)
        return self.system.run(["service", unit.removesuffix(".service"), "status"], rcs=None).rc == 0

    # -- stages -------------------------------------------------------------
    def files(self):
        if self.c.cluster_stack != "corosync":
            raise Refused("Cluster-Stack is heartbeat: that stack serves legacy Pacemaker 1.x systems, whose "
                          "own tools bring it up (`/etc/init.d/heartbeat start`, then `crm configure load update "
                          f"{CRM_FILE}`); cluster-init brings up corosync and Pacemaker 2")
        built = pipeline.build(self.system, pipeline.load_raw(self.system))
        pending = [c.path for c in pipeline.plan(self.system, built.files) if c.action in ("create", "update")]
        if pending:
            raise Refused("the generated files differ from the settings: " + ", ".join(pending) +
                          ". Run `uec-clc-ha-ctl apply` (or `dpkg-reconfigure uec-clc-ha`) first.")
        for tool, package in (("corosync", "corosync"), ("pacemakerd", "pacemaker"), ("crm", "crmsh")):
            self.system.require(tool, package)

    def foreign(self):
        """Refused when a cluster built by hand (the 2010 recipe) runs here: adopt takes such a pair over."""
        if not self.active("pacemaker.service"):
            return
        view = crm_mon.read(self.system)
        if view and view.resources and not view.using("ocf:ubuntu:eucaclc"):
            raise Refused("a cluster configured by hand runs here (its resources do not use ocf:ubuntu:eucaclc): "
                          "cluster-init would load uec-clc-ha's configuration over it. To take over a pair built "
                          "after the 2010 recipe without touching its data, run `uec-clc-ha-ctl adopt --yes` on "
                          "both nodes (uec-clc-ha-ctl(8), adopt)")

    def sbd(self):
        if self.c.fencing != "sbd":
            if self.system.which("sbd"):
                self.disable("sbd.service")
                self.say(f"fencing is {self.c.fencing}: sbd is not used (disabled so corosync does not wait "
                         "for it)")
            return
        self.system.require("sbd", "sbd")
        watchdog = self.c.sbd_watchdog_device
        if not self.system.exists(watchdog):
            raise Refused(
                f"WARNING: there is no watchdog {watchdog}: SBD cannot fence this node without one, and "
                "without fencing the cluster starts nothing. A hardware watchdog is the safe choice "
                "(iTCO_wdt, ipmi_watchdog, sp5100_tco, i6300esb on a VM): load its module. Only softdog "
                "could serve here; it resets a node whose kernel still runs, not one that hangs hard. If "
                "that is acceptable: `echo softdog > /etc/modules-load.d/softdog.conf; modprobe softdog`, "
                "then run `uec-clc-ha-ctl cluster-init` again. Or choose another Fencing.")
        device = self.c.sbd_device
        header = self.sbd_header(device)
        wanted = (self.c.sbd_watchdog_timeout, self.c.sbd_msgwait_timeout)
        if header is None and not self.primary:
            header = self._wait_for_header(device, 60)
        if header is None:
            self._create_header(device, wanted, "has no SBD header yet")
        elif header != wanted:
            message = (f"{device} carries an SBD header with watchdog {header[0]} s and msgwait {header[1]} s, "
                       f"not the settings' {wanted[0]} s and {wanted[1]} s")
            if not (self.force and self.primary):
                raise Refused(message + ". Re-creating it while an sbd uses it breaks fencing: with the pair "
                              "in maintenance mode (the cloud runs on), stop pacemaker and corosync on both "
                              "nodes, then run `uec-clc-ha-ctl cluster-init --yes --force` on the initial primary "
                              f"({self.c.initial_primary}); /usr/share/doc/uec-clc-ha/configuration.md has the "
                              "steps. Or set SBD-Watchdog-Timeout and SBD-Msgwait-Timeout to the header's values "
                              "and `apply`.")
            self._nobody_reads(device, header)
            self._create_header(device, wanted, message + " (--force)")
        else:
            self.say(f"SBD header on {device}: watchdog {header[0]} s, msgwait {header[1]} s")
        self.enable("sbd.service")

    def sbd_header(self, device):
        return sbd.header(self.system, device)

    def _nobody_reads(self, device, header):
        """Refused while an sbd on either node reads the device: a header rewritten under it is dropped."""
        if not self.yes:
            return                            # _create_header refuses, naming --yes; nothing to ask the disk yet
        self.say(f"asking {device} whether an sbd still reads it (up to {header[1]} s per node)")
        readers = [n for n in (self.c.local_node, self.c.peer_node)
                   if sbd.reads_slot(self.system, device, n, header[1])]
        if readers:
            raise Refused(f"sbd still reads {device} on {' and '.join(readers)}: a header rewritten under a "
                          "running sbd makes it drop the device (\"Header changed since start-up\") and fencing "
                          "through the disk fails. sbd stops with corosync: put the pair in maintenance (`crm "
                          "configure property maintenance-mode=true`), `systemctl stop pacemaker corosync` on "
                          "both nodes, then run this again. Nothing was written.")

    def _wait_for_header(self, device, seconds):
        self.say(f"waiting up to {seconds} s for the initial primary ({self.c.initial_primary}) to write the "
                 f"SBD header on {device}")
        deadline = self.clock() + seconds
        while self.clock() < deadline:
            header = self.sbd_header(device)
            if header is not None:
                return header
            self.sleep(2)
        raise Waiting(f"the SBD device {device} has no header yet: the initial primary "
                      f"({self.c.initial_primary}) writes it when uec-clc-ha is installed there (or runs "
                      "`uec-clc-ha-ctl cluster-init`); then run `uec-clc-ha-ctl cluster-init` on this node")

    def _create_header(self, device, wanted, why):
        if not self.yes:
            raise Refused(f"{device} {why}: cluster-init would write one (`sbd create`), and whatever the "
                          "device holds is lost. Run it again with --yes to go ahead.")
        real = self.system.path(device)
        if not os.path.exists(real):
            raise NotFound(f"{device} (SBD-Device) does not exist")
        if not self.force:
            done = self.system.run(["wipefs", "--no-act", "--noheadings", "--output", "TYPE", real], rcs=None)
            signatures = sorted(set(done.stdout.split()))
            if signatures:
                raise Refused(f"{device} holds data ({', '.join(signatures)} signature): `sbd create` would "
                              "destroy it. Check that it is the shared SBD disk, then run again with --force.")
        self.system.run(["sbd", "-d", device, "-1", str(wanted[0]), "-4", str(wanted[1]), "create"], timeout=60)
        self.changed.append(f"SBD header written on {device}")
        self.say(f"SBD header written on {device} (watchdog {wanted[0]} s, msgwait {wanted[1]} s)")

    def drbd(self):
        res = self.c.drbd_resource
        self.disable("drbd.service")
        if self._pacemaker_manages_drbd():
            return
        if drbd_state.role(self.system, res) != "Primary":
            return
        if stored_cib.in_maintenance(self.system):
            self.say(f"DRBD {res} stays Primary with what runs on it: the CIB is in maintenance mode, and "
                     "Pacemaker finds it as it is when it starts")
            return
        if drbd_state.mounted_from(self.system, self.c.mount_point, self.c.drbd_device):
            running = drbd_state.running_eucalyptus()
            if running:
                raise Refused(f"Eucalyptus runs ({', '.join(n for _, n in running)}) on the DRBD filesystem at "
                              f"{self.c.mount_point}: stop it (`systemctl stop eucalyptus-cloud`), then run "
                              "cluster-init again; the cluster starts it")
            self.system.run(["umount", self.c.mount_point], timeout=120)
        self.system.run(["drbdadm", "secondary", res], timeout=120)
        self.changed.append(f"DRBD {res} handed to Pacemaker")
        self.say(f"DRBD {res}: unmounted and demoted; Pacemaker promotes the node whose disk is UpToDate")

    def _pacemaker_manages_drbd(self):
        if not self.active("pacemaker.service"):
            return False
        view = crm_mon.read(self.system)
        return bool(view and any(r.agent == "ocf:linbit:drbd" for r in view.resources))

    def arbiter(self):
        if not self.c.arbiter_host:
            if self.system.which("corosync-qdevice"):
                self.disable(QDEVICE)
            return
        self.system.require("corosync-qdevice", "corosync-qdevice")
        if arbiter.prepare(self.system, self.c, say=self.say):
            self.changed.append(f"enrolled with the arbiter {self.c.arbiter_host}")
        self.enable(QDEVICE)

    def stack(self):
        for unit in ("corosync.service", "pacemaker.service"):
            self.enable(unit)
        self._not_another_cluster()
        if not self.active("pacemaker.service"):
            self._not_another_clusters_cib()
        if not (self.active("corosync.service") and self.active("pacemaker.service")):
            self.say("starting corosync and pacemaker" + (" (sbd starts with corosync)" if self.c.fencing == "sbd"
                                                          else ""))
            unit_record.note(self.system, "corosync.service", "pacemaker.service",
                             *(("sbd.service",) if self.c.fencing == "sbd" else ()))
            if self._systemd():
                self._start_systemd(attempts=3)
            else:
                self.system.run(["service", "corosync", "start"], timeout=300)
                self.system.run(["service", "pacemaker", "start"], timeout=300)
            for path in (COROSYNC_CONF, COROSYNC_AUTHKEY):      # what the corosync just started read
                content = self.system.read_or_none(path)
                if content is not None:
                    applied.record(self.system, path, content)
            self.changed.append("started corosync and pacemaker")
        if self.c.arbiter_host and not self.active(QDEVICE):
            unit_record.note(self.system, QDEVICE)
            # --no-block: it connects to the arbiter on its own time (and is restarted until it can)
            self.system.run(["systemctl", "start", "--no-block", QDEVICE] if self._systemd()
                            else ["service", "corosync-qdevice", "start"], timeout=120)
            self.changed.append(f"started {QDEVICE}")

    def _not_another_cluster(self):
        """A corosync that runs another cluster than this pair's is stopped, with Pacemaker, to start with the
        generated files.

        Debian's corosync and pacemaker packages start their services when
        they are installed (as dependencies of this package, just before its
        postinst), with corosync's own corosync.conf: a cluster named
        "debian" of one node on localhost.  Left running, it would never let
        the peer in.  Nothing of the cloud can run on such a stack (foreign()
        refused one that has resources of its own), and a corosync that runs
        this pair's cluster name is never stopped here.
        """
        if not self._systemd() or not self.active("corosync.service"):
            return
        name = corosync_cmap.running_cluster_name(self.system)
        if name is None or name == self.c.cluster_name:
            return
        self.say(f"corosync runs the cluster {name!r} (the corosync.conf it was started with, such as the one "
                 f"its package installs), not {self.c.cluster_name!r}: stopping pacemaker and corosync to start "
                 f"them with {COROSYNC_CONF}")
        # sbd too: it ran with that cluster (Debian enables it with corosync) and stops with corosync here
        unit_record.note(self.system, "corosync.service", "pacemaker.service",
                         *(("sbd.service",) if self.system.which("sbd") else ()))
        self.system.run(["systemctl", "stop", "pacemaker.service", "corosync.service"], timeout=300)
        self.changed.append(f"stopped corosync's cluster {name!r}")

    def _not_another_clusters_cib(self):
        """The CIB another cluster left here (Debian's, with its node1) set aside: Pacemaker starts this pair's
        cluster from an empty one (cluster.stored_cib; purge puts it back)."""
        why = stored_cib.whose(self.system, self.c.cluster_name, (self.c.local_node, self.c.peer_node))
        if why is None:
            return
        dest = stored_cib.set_aside(self.system)
        self.say(f"the CIB stored in {stored_cib.CIB_DIR} is not this pair's ({why}, no resources): set aside "
                 f"in {dest} so Pacemaker starts this pair's cluster from an empty one (purge puts it back)")
        self.changed.append(f"set aside another cluster's CIB ({dest})")

    def _start_systemd(self, attempts):
        """systemctl start, again when sbd gave up its start-up or corosync died while the partition formed.

        sbd aborts its start-up ("Not enough votes to proceed") when the cluster
        has not settled within its watchdog timeout; joining a running peer can
        take that long on a slow host.  And corosync (3.1.9 on the lab) aborts
        on an assertion when the peer's quorum device registers in the middle
        of the join (the device's vote arrives before the peer's own).  A fresh
        start then finds the partition formed.  Any other failure, or the last
        attempt's, is raised.
        """
        for attempt in range(1, attempts + 1):
            done = self.system.run(["systemctl", "start", "corosync.service", "pacemaker.service"], rcs=None,
                                   timeout=300)
            if done.rc == 0:
                return
            sbd_failed = self.system.run(["systemctl", "is-failed", "sbd.service"], rcs=None).stdout.strip() \
                == "failed"
            corosync_died = self.system.run(["systemctl", "show", "--property=Result", "--value",
                                             "corosync.service"], rcs=None).stdout.strip() in ("signal", "core-dump")
            if not (sbd_failed or corosync_died) or attempt == attempts:
                log = self.system.run(["journalctl", "--no-pager", "-n", "15", "-u", "sbd", "-u", "corosync",
                                       "-u", "pacemaker"], rcs=None, timeout=30).stdout
                raise CommandFailure(["systemctl", "start", "corosync.service", "pacemaker.service"], done.rc,
                                     (done.stderr or done.stdout) + log)
            why = "sbd gave up its start-up" if sbd_failed else "corosync died on a signal"
            self.say(f"{why} (attempt {attempt} of {attempts}: the partition was still forming); starting again")
            self.system.run(["systemctl", "reset-failed", "sbd.service", "corosync.service", "pacemaker.service"],
                            rcs=None)
            self.system.run(["systemctl", "stop", "corosync.service"], rcs=None, timeout=120)
            self.sleep(3)

    def membership(self, seconds):
        """Wait until both nodes are members of a quorate partition; False when the peer is still missing.

        Once they are, the evidence that this node formed the pair is kept
        (cluster.pairing): the prerm refuses removal on it later.
        """
        deadline = self.clock() + seconds
        last = None
        while True:
            seen = pairing.membership(self.system)
            members, quorate = (seen.members, seen.quorate) if seen else ([], False)
            line = f"members {', '.join(members) or '(none yet)'}; quorate: {'yes' if quorate else 'no'}"
            if line != last:
                self.say(line)
                last = line
            if quorate and self.peer() in members:
                pairing.note(self.system, self.c.local_node, seen)
                return True
            if self.clock() >= deadline:
                return False
            self.sleep(2)

    def members(self):
        """(the members of this node's partition, whether it is quorate), as crm_node says."""
        seen = pairing.membership(self.system)
        return (seen.members, seen.quorate) if seen else ([], False)

    # Both nodes' cluster-init load cluster.crm once they are members, often at the same moment (new SBD
    # timeouts, doc/configuration.md): crmsh's `load update` patches the CIB it read, and the peer's load in
    # between makes the patch fail ("could not patch cib", the lab, 2026-12-07).  The steps are computed again
    # from the live CIB: the peer's load of the same file leaves only the note that it is there.
    LOAD_ATTEMPTS = 3

    def cib(self):
        """cluster.crm into the live CIB, the way `apply` loads it (load, stamp, delete what it dropped)."""
        data = self.system.read_bytes(CRM_FILE)
        self._wait_cib(120)
        publish = sbd.publish_argv(self.system, self.c.local_node, sbd.active(self.system)) \
            if self.c.fencing == "sbd" else None
        if publish:
            self.system.run(list(publish), rcs=None, timeout=30)
        for attempt in range(1, self.LOAD_ATTEMPTS + 1):
            steps = live_apply.crm_steps(self.system, self.c, data)
            try:
                live_apply.run(self.system, steps, load_attempts=1)       # read again between the loads
                break
            except CommandFailure as e:
                if attempt == self.LOAD_ATTEMPTS or not any(s.argv[:2] == ("crm", "configure") for s in steps):
                    raise
                self.say(f"the CIB changed under the load (the peer loading too?): {e}; reading it again")
                self.sleep(5)
        if any(s.argv[:4] == live_apply.LOAD for s in steps):
            self.changed.append(f"loaded {CRM_FILE} into the CIB")
            self.say(f"loaded {CRM_FILE} into the live CIB")
        for s in steps:
            if s.argv[:3] == ("crm", "configure", "delete"):
                self.changed.append("deleted " + " ".join(s.argv[4:]))
                self.say(f"deleted from the CIB what {CRM_FILE} no longer has: {', '.join(s.argv[4:])}")

    def _wait_cib(self, seconds):
        deadline = self.clock() + seconds
        while self.system.run(["cibadmin", "-Q", "-o", "nodes"], rcs=None, timeout=30).rc != 0:
            if self.clock() >= deadline:
                raise NotRunningCleanly(f"Pacemaker's CIB did not answer within {seconds} s "
                                        "(`journalctl -u pacemaker` says why)")
            self.sleep(2)

    def _cib_matches(self, xpath):
        """True when the live CIB's resources section has an element matching xpath."""
        return self.system.run(["cibadmin", "-Q", "-o", "resources", "-A", xpath], rcs=None, timeout=30).rc == 0

    def serving(self, seconds):
        """Wait until the group runs on one node and the VIP answers; NotRunningCleanly naming the block."""
        url = f"https://{self.c.vip}:8443/register"
        deadline = self.clock() + seconds
        last = None
        while True:
            view = crm_mon.read(self.system)
            line, where = self.progress(view)
            if where:
                problem = clc_health.register_problem(url, 5)
                if problem is None:
                    self.say(f"serving: {GROUP} runs on {where}, {url} answers")
                    return where
                line += f"; {problem}"
            if line != last:
                self.say(line)
                last = line
            if self.clock() >= deadline:
                raise NotRunningCleanly(f"the cloud did not come up within {seconds} s: {line}")
            self.sleep(3)

    def progress(self, view):
        """(one line on the group's state, the node it runs on or None)."""
        if view is None:
            return "Pacemaker does not answer here", None
        active = {r.id: r.nodes for r in view.resources if r.nodes}
        promoted = [n for r in view.resources if r.agent == "ocf:linbit:drbd" and r.role == "Promoted"
                    for n in r.nodes]
        where = view.running_on(GROUP_MEMBERS)
        started = [m for m in GROUP_MEMBERS if m in active]
        parts = [f"DRBD Promoted on {promoted[0]}" if promoted else "DRBD not promoted yet",
                 f"{GROUP}: {', '.join(started) or 'nothing'} started"]
        if view.failures:
            parts.append("failed: " + "; ".join(view.failures))
        if not view.quorate:
            parts.append("no quorum")
        return ", ".join(parts), where


def init(system, config, out, yes=False, force=False, membership_wait=90, serving_wait=900,
         stages_class=Stages):
    """Every stage in order; returns the node the cloud runs on.  Waiting when the peer is not there yet."""
    s = stages_class(system, config, out, yes, force)
    s.files()
    s.foreign()
    s.sbd()
    s.drbd()
    s.arbiter()
    s.stack()
    joined = s.membership(membership_wait)
    s.cib()
    node_facts.publish_here(system, s.say)
    if not joined:
        quorum = f"with the arbiter {config.arbiter_host}'s vote" if config.arbiter_host else "with two_node quorum"
        raise Waiting(
            f"the cluster runs on {config.local_node} and waits for {config.peer_node}: {quorum} "
            "(wait_for_all) a node that starts alone takes over only once it has seen its peer, so a "
            f"half-installed pair never runs the cloud twice. Install uec-clc-ha on {config.peer_node} (or "
            f"start the cluster there): the cloud starts then, with nothing more to do on {config.local_node}.")
    where = s.serving(serving_wait)
    if not s.changed:
        out.write(f"cluster-init: nothing to do: the pair is up ({GROUP} on {where}, the VIP answers)\n")
    return where

