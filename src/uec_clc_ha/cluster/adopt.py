"""Taking over a pair built by hand after the 2010 recipe: no DRBD re-initialisation, no data moved, no restart.

Called by `uec-clc-ha-ctl adopt [--yes]` on each node of a running hand-built
pair, once uec-clc-ha is installed on both with the pair's own names and
addresses and with initialize-drbd, migrate-data, prepare-secondary and
start-cluster answered no (doc/adopt.md; uec-clc-ha-ctl(8), adopt).

The recipe's pair already has the layout uec-clc-ha makes: the data
directories are symlinks into Mount-Point/NAME on the DRBD filesystem, the
resource names are the recipe's (rg_uec, res_fs_clc, res_uec, ...).  What
changes is everything around the data: corosync with authentication, two
links and two_node quorum; SBD fencing instead of stonith-enabled=false and
no-quorum-policy=ignore; DRBD with peer authentication and resource fencing;
the CLC under ocf:ubuntu:eucaclc.  The cloud keeps running throughout:
Pacemaker is put in maintenance mode first (it starts, stops and moves
nothing), each node's cluster stack is restarted under the new
configuration, the new configuration is loaded and every resource re-probed
while still in maintenance, and maintenance ends only once the probes found
the cloud where it runs and DRBD is in sync again.

Stages, in order, each one idempotent (a run that stopped half-way goes on
where it was when run again; /var/lib/uec-clc-ha/adopt.json says where):

  check    read-only; refuses, changing nothing, naming the setting that
           differs: DRBD resource, device and backing disk as the kernel
           runs them, the data directories are symlinks into Mount-Point,
           the node with the cloud has DRBD Primary and mounted, no other
           file under /etc/drbd.d defines the resource, the settings pass
           their checks.
  freeze   maintenance-mode=true in the running cluster.
  turn     the node without the cloud (DRBD Secondary) first; the node with
           the cloud waits until its peer has left the hand-built cluster,
           so it is never the only node under a configuration with fencing
           while its peer still runs the old one.  This node's stack
           stopped (resources keep running: maintenance), the generated
           files written over the hand-written ones (each kept in
           /var/lib/uec-clc-ha/replaced/), DRBD adjusted to them, the SBD
           header checked (written by the first node when there is none,
           with --yes), corosync and Pacemaker started.
  cib      (the node with the cloud, once both are members) the CIB's
           configuration replaced by uec-clc-ha's and stamped as `apply`
           stamps a load (cluster.live_apply), maintenance kept on;
           every resource re-probed; the probes must find DRBD Promoted,
           the filesystem and the CLC running on this node, and nothing of
           the cloud's on the peer (an address they miss is only started).
  release  DRBD Connected and UpToDate on both; maintenance-mode removed:
           Pacemaker finds everything in place and restarts nothing; waits
           until the VIP serves.

Each node ends by publishing its facts for doctor (cluster.node_facts), once
uec-clc-ha's configuration is in the CIB: doctor on either node of the
adopted pair compares them from its first run.
"""

import json
import os
import re
import time

from uec_clc_ha.cluster import cluster_init, crm_mon, live_apply, node_facts
from uec_clc_ha.config import pipeline
from uec_clc_ha.config.render import drbd_path
from uec_clc_ha.data import drbd_state
from uec_clc_ha.errors import NotRunningCleanly, Refused, VerifyError, Waiting
from uec_clc_ha.host import applied, managed_files, unit_record
from uec_clc_ha.host.paths import ADOPT_JOURNAL, CRM_FILE, PACKAGE, STATE_DIR

JOURNAL = ADOPT_JOURNAL
PROPERTIES = "property cib-bootstrap-options: \\\n"
# What the probes must find where the cloud runs before maintenance ends: the data and the CLC.  An
# address the probes miss (the recipe's IPsrcaddr without a destination, say) is only started.
IN_PLACE = ("res_fs_clc", "res_uec")


# -- what the kernel and the running cluster say (read-only) ----------------------------
def _same_device(system, a, b):
    try:
        return os.path.realpath(system.path(a)) == os.path.realpath(system.path(b))
    except OSError:
        return a == b


def _link_target(system, path):
    p = system.path(path)
    return os.readlink(p).rstrip("/") if os.path.islink(p) else None


def other_definitions(system, resource, ours):
    """Files under /etc/drbd.d other than ours that define the resource too (drbdadm would refuse both)."""
    found = []
    directory = system.path("/etc/drbd.d")
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else ():
        path = f"/etc/drbd.d/{name}"
        if path == ours or not name.endswith(".res"):
            continue
        text = (system.read_or_none(path) or b"").decode("utf-8", "replace")
        if re.search(rf"^\s*resource\s+{re.escape(resource)}\s*\{{", text, re.M):
            found.append(path)
    return found


# -- the stages ---------------------------------------------------------------------------
class Adoption(cluster_init.Stages):
    """The stages for this node; ``out`` gets one line per step (shares cluster-init's stack stages)."""

    def __init__(self, system, config, out, yes=False, force=False, clock=time.monotonic, sleep=time.sleep):
        super().__init__(system, config, out, yes, force, clock, sleep)
        self.journal = self._load()

    def say(self, message):
        self.out.write(f"adopt: {message}\n")
        self.out.flush()

    @property
    def primary(self):
        # The SBD header is written by the node that turns first: the one without the cloud.
        return not self.has_cloud

    @property
    def has_cloud(self):
        return self.journal["has_cloud"]

    def _load(self):
        data = self.system.read_or_none(JOURNAL)
        return json.loads(data) if data else {}

    def _save(self, **changes):
        self.journal.update(changes)
        self.system.makedirs(STATE_DIR, mode=0o755)
        self.system.write_atomic(JOURNAL, json.dumps(self.journal, indent=1, sort_keys=True) + "\n", mode=0o600)

    # check ---------------------------------------------------------------------------------
    def check(self):
        """Refused (nothing changed) unless this node is one half of a hand-built pair these settings describe."""
        c, system = self.c, self.system
        if c.cluster_stack != "corosync":
            raise Refused("Cluster-Stack is heartbeat: adopt brings a pair onto corosync and Pacemaker 2; set "
                          "Cluster-Stack=corosync (`uec-clc-ha-ctl set Cluster-Stack=corosync`)")
        built = pipeline.build(system, pipeline.load_raw(system))
        problems = pipeline.check(system, built)
        if problems:
            raise VerifyError(problems)
        self.built = built
        if self.journal.get("turned"):
            return                                 # this node runs uec-clc-ha's stack already
        res = c.drbd_resource
        kernel = drbd_state.running(system, res)
        if kernel is None:
            raise Refused(f"the DRBD resource {res} (DRBD-Resource) is not running on this node: adopt takes "
                          "over a running pair without touching its data. Set DRBD-Resource to the resource "
                          "the pair uses (`drbdadm status` names it), or bring it up first (`drbdadm up "
                          f"{res}`)")
        if kernel["disk"] and kernel["disk"] != c.drbd_disk:
            same = _same_device(system, kernel["disk"], c.drbd_disk)
            raise Refused(f"DRBD-Disk is {c.drbd_disk}, but the running resource {res} uses {kernel['disk']}"
                          + (" (the same device under another name: `drbdadm adjust` compares the names and "
                             "would detach the disk and attach it again, the replication link down meanwhile)"
                             if same else "")
                          + f": set DRBD-Disk={kernel['disk']} (`uec-clc-ha-ctl set`), then run adopt again")
        if kernel["minor"] is not None and kernel["minor"] != c.drbd_minor:
            raise Refused(f"DRBD-Device is {c.drbd_device}, but the running resource {res} is /dev/drbd"
                          f"{kernel['minor']}: set DRBD-Device=/dev/drbd{kernel['minor']}, then run adopt again")
        if kernel["address"] and kernel["address"] != (str(c.replication_local_address), c.drbd_port):
            addr, port = kernel["address"]
            raise Refused(f"the running resource {res} replicates from {addr}:{port}, the settings say "
                          f"{c.replication_local_address}:{c.drbd_port}: set Replication-Local-Address and "
                          "DRBD-Port to what the pair uses, then run adopt again")
        ours = drbd_path(c)
        others = other_definitions(system, res, ours)
        if others:
            raise Refused(f"{', '.join(others)} also define{'s' if len(others) == 1 else ''} the DRBD resource "
                          f"{res}; uec-clc-ha writes it to {ours}. Move {'it' if len(others) == 1 else 'them'} "
                          "out of /etc/drbd.d (keep a copy), then run adopt again")
        for d in c.data_directories:
            target = f"{c.mount_point}/{os.path.basename(d)}"
            if _link_target(system, d) != target:
                what = "a real directory" if os.path.isdir(system.path(d)) and not os.path.islink(
                    system.path(d)) else ("missing" if not os.path.lexists(system.path(d)) else
                                          f"a symlink to {_link_target(system, d)}")
                raise Refused(f"{d} is {what}, not the recipe's symlink to {target} (Data-Directories, "
                              "Mount-Point): adopt takes over a pair whose data is on DRBD already. For a pair "
                              "whose data is not, use drbd-init and migrate-data instead")
        role = drbd_state.role(system, res)
        if role == "Primary":
            if not drbd_state.mounted_from(system, c.mount_point, c.drbd_device):
                raise Refused(f"DRBD {res} is Primary here but {c.drbd_device} is not mounted at {c.mount_point} "
                              "(Mount-Point): adopt takes over a pair that serves; check the running cluster")
            has_cloud = True
        elif role == "Secondary":
            has_cloud = False
        else:
            raise Refused(f"DRBD {res} is {role} here: adopt takes over a running pair (one node Primary, "
                          "the other Secondary)")
        view = crm_mon.read(system)
        if self.journal.get("turning"):
            pass                                   # this node's old stack was stopped by an earlier run
        elif view is None or not view.resources:
            raise Refused("no hand-built cluster runs on this node (crm_mon shows no resources): adopt takes "
                          "over a pair whose cluster runs the cloud. Start it first (`systemctl start corosync "
                          "pacemaker`, or Heartbeat); for a pair without a cluster, use cluster-init")
        if self.journal.get("has_cloud") not in (None, has_cloud):
            raise Refused("the cloud moved since adopt last ran here; the node with the cloud must turn last. "
                          f"Remove {JOURNAL} once `crm_mon` shows where it runs, then run adopt again")
        self._save(has_cloud=has_cloud)
        what = "runs the cloud (DRBD Primary, mounted)" if has_cloud else "is the standby node (DRBD Secondary)"
        self.say(f"{c.local_node} {what}; DRBD {res} on {c.drbd_disk}, data directories on {c.mount_point}")

    # freeze --------------------------------------------------------------------------------
    def freeze(self):
        if self.journal.get("turned") or self.journal.get("turning"):
            return
        if self._maintenance() != "true":
            self.system.run(["crm_attribute", "--type", "crm_config", "--name", "maintenance-mode",
                             "--update", "true"], timeout=60)
            self.changed.append("maintenance-mode on")
        self.say("the running cluster is in maintenance mode: it starts, stops and moves nothing now")

    def _maintenance(self):
        done = self.system.run(["crm_attribute", "--type", "crm_config", "--name", "maintenance-mode",
                                "--query", "--quiet"], rcs=None, timeout=60)
        return done.stdout.strip() if done.rc == 0 else ""

    # turn ----------------------------------------------------------------------------------
    def turn(self, peer_wait):
        if self.journal.get("turned"):
            return
        if self.has_cloud and not self.journal.get("turning"):
            self._wait_peer_left(peer_wait)
        self._save(turning=True)                   # from here a rerun goes on without the old stack
        self.say("stopping this node's hand-built cluster stack (maintenance: the resources keep running)")
        unit_record.note(self.system, "pacemaker.service", "corosync.service")     # as the admin ran them
        if self._systemd():
            self.system.run(["systemctl", "stop", "pacemaker.service"], timeout=600)
            self.system.run(["systemctl", "stop", "corosync.service"], timeout=300)
        else:
            self.system.run(["service", "pacemaker", "stop"], rcs=None, timeout=600)
            self.system.run(["service", "corosync", "stop"], rcs=None, timeout=300)
        installer = managed_files.Installer(self.system, lambda message: self.say(message), "admin")
        for path, result in installer.install_generated(self.built.files).items():
            if result != "unchanged":
                self.say(f"{result} {path}")
        res = self.c.drbd_resource
        self.system.run(["drbdadm", "adjust", res], timeout=120)
        path = drbd_path(self.c)
        applied.record(self.system, path, self.system.read_bytes(path))      # what DRBD runs now
        self.say(f"DRBD {res} adjusted to {PACKAGE}'s configuration (peer authentication, "
                 "fencing; it reconnects once both nodes have it)")
        self.disable("drbd.service")
        self.sbd()
        self.stack()
        self._save(turned=True)
        self.changed.append("turned")

    def _until(self, seconds, pending, give_up):
        """Poll pending() every 3 s until it returns "" (done); each new line it returns (what is awaited)
        is said once; after ``seconds`` the exception give_up(line) is raised."""
        deadline = self.clock() + seconds
        last = None
        while True:
            line = pending()
            if not line:
                return
            if line != last:
                self.say(line)
                last = line
            if self.clock() >= deadline:
                raise give_up(line)
            self.sleep(3)

    def _wait_peer_left(self, seconds):
        peer = self.peer()
        self._until(seconds, lambda: "" if peer not in self.members()[0] else (
            f"waiting for {peer} to turn first (`uec-clc-ha-ctl adopt --yes` there): the node with the cloud "
            "turns last"), lambda line: Waiting(
            f"{peer} is still a member of the hand-built cluster: run `uec-clc-ha-ctl adopt --yes` on {peer} "
            "first (it turns first, having no cloud), then here again. Nothing was changed here but maintenance "
            "mode (the cloud keeps running)"))
        self.say(f"{peer} has left the hand-built cluster: turning this node")

    # cib -----------------------------------------------------------------------------------
    def cib(self, probe_wait):
        if self.journal.get("cib"):
            return
        self._wait_cib(120)
        text = self.system.read(CRM_FILE)
        if text.count(PROPERTIES) != 1:
            raise NotRunningCleanly(f"{CRM_FILE} has no single `{PROPERTIES.strip()}` block to keep maintenance "
                                    "mode in: run `uec-clc-ha-ctl apply` and adopt again")
        frozen = text.replace(PROPERTIES, PROPERTIES + "\tmaintenance-mode=true \\\n")
        staged = f"{STATE_DIR}/adopt.crm"
        self.system.write_atomic(staged, frozen, mode=0o600)
        self.system.run(["crm", "configure", "load", "replace", staged], timeout=300, env={"HOME": "/root"})
        self.system.remove(staged)
        self.system.run(list(live_apply.stamp_argv(self.c, text.encode())), timeout=60)    # as apply loads it
        self.say(f"the cluster's configuration replaced by {CRM_FILE} (maintenance mode kept)")
        self.system.run(["crm_resource", "--refresh"], timeout=300)
        self.system.run(["crm_resource", "--wait", f"--timeout={probe_wait}s"], rcs=None, timeout=probe_wait + 60)
        self._probed_in_place(probe_wait)
        applied.record(self.system, CRM_FILE, text.encode())
        self._save(cib=True)
        self.changed.append("cib")

    def _probed_in_place(self, seconds):
        """Wait until the probes found DRBD Promoted, the data and the CLC here, nothing of them on the peer."""
        def pending():
            problem = self._misplaced(crm_mon.read(self.system))
            return f"probes: {problem}" if problem else ""
        self._until(seconds, pending, lambda line: NotRunningCleanly(
            f"after re-probing, {line[len('probes: '):]}. Maintenance mode stays on (the cloud is left as it "
            "runs); check `crm_mon -1r`, then take maintenance off with `crm_attribute --type crm_config --name "
            "maintenance-mode --delete`"))
        self.say(f"probes: DRBD Promoted and {', '.join(IN_PLACE)} running on {self.c.local_node}, nothing of the "
                 f"cloud's on {self.peer()}")

    def _misplaced(self, view):
        if view is None:
            return "Pacemaker does not answer here"
        here, peer = self.c.local_node, self.peer()
        promoted = [n for r in view.resources if r.agent == "ocf:linbit:drbd" and r.role == "Promoted"
                    for n in r.nodes]
        if promoted != [here]:
            return f"DRBD found Promoted on {', '.join(promoted) or 'no node'}"
        where = view.running_on(IN_PLACE)
        if where != here:
            found = {r.id: r.nodes for r in view.resources if r.id in IN_PLACE}
            return "the data and the CLC are not found running on " + here + ": " + ", ".join(
                f"{k} on {'/'.join(found.get(k, ())) or 'no node'}" for k in IN_PLACE)
        elsewhere = [r.id for r in view.resources if peer in r.nodes and r.agent not in (
            "ocf:linbit:drbd", "ocf:pacemaker:ping")]
        if elsewhere:
            return f"found running on {peer} too: {', '.join(elsewhere)}"
        return ""

    def wait_loaded(self, seconds):
        """(The node without the cloud) until the peer has loaded uec-clc-ha's configuration; then noted here."""
        peer = self.peer()
        self._until(seconds, lambda: "" if self._cib_has_agent() else
                    f"waiting for {peer} to load uec-clc-ha's configuration", lambda line: Waiting(
                        f"{peer} has not loaded uec-clc-ha's configuration yet: `uec-clc-ha-ctl adopt --yes` there "
                        "finishes the adoption; then run it here again"))
        applied.record(self.system, CRM_FILE, self.system.read_bytes(CRM_FILE))
        self.say(f"{peer} loaded uec-clc-ha's configuration into the cluster")

    def _cib_has_agent(self):
        return self._cib_matches("//primitive[@id='res_uec'][@class='ocf'][@provider='ubuntu']")

    # release -------------------------------------------------------------------------------
    def release(self, sync_wait, serving_wait):
        if not self.journal.get("released"):
            self._wait_in_sync(sync_wait)
            self.system.run(["crm_attribute", "--type", "crm_config", "--name", "maintenance-mode", "--delete"],
                            rcs=None, timeout=60)
            if self._maintenance() == "true":
                raise NotRunningCleanly("maintenance-mode is still set in the CIB after removing it; check "
                                        "`crm configure show`")
            self.say("maintenance mode off: the cluster manages the cloud")
            self._save(released=True)
            self.changed.append("released")
        return self.serving(serving_wait)

    def _wait_in_sync(self, seconds):
        res = self.c.drbd_resource

        def pending():
            cs, ds = drbd_state.states(self.system, res)
            if cs == "Connected" and ds == "UpToDate/UpToDate":
                return ""
            return f"DRBD {res}: {cs or '?'} {ds or '?'} (waiting for the peer's copy to be in sync)"
        self._until(seconds, pending, lambda line: NotRunningCleanly(
            f"{line} after {seconds} s; maintenance mode stays on until it is: check `drbdadm status {res}` on "
            "both nodes, then run adopt again"))
        self.say(f"DRBD {res}: Connected, UpToDate on both")


def adopt(system, config, out, yes=False, force=False, peer_wait=900, membership_wait=300, probe_wait=300,
          sync_wait=3600, serving_wait=900, stages_class=Adoption):
    """Every stage for this node; the node with the cloud returns where the cloud runs once it serves."""
    if not yes:
        raise Refused("adopt puts the running cluster in maintenance mode, restarts this node's cluster stack "
                      "under uec-clc-ha's configuration (replacing the hand-written corosync, DRBD and CIB "
                      "configuration; copies are kept in /var/lib/uec-clc-ha/replaced/), and may write an SBD "
                      "header on the SBD device. The data and the running cloud are left as they are. Run it "
                      "again with --yes to go ahead.")
    s = stages_class(system, config, out, yes, force)
    s.check()
    s.freeze()
    s.turn(peer_wait)
    joined = s.membership(membership_wait)
    if not s.has_cloud:
        if not joined:
            raise Waiting(f"{config.local_node} runs uec-clc-ha's cluster stack and waits for {config.peer_node}: "
                          f"run `uec-clc-ha-ctl adopt --yes` there (it has the cloud, and finishes the adoption)")
        s.say(f"{config.local_node} has turned and joined {config.peer_node}, which finishes the adoption")
        s.wait_loaded(probe_wait + membership_wait)
        node_facts.publish_here(system, s.say)
        return None
    if not joined:
        raise Waiting(f"{config.peer_node} is not a member of the new cluster yet; the cloud keeps running here, "
                      "in maintenance mode. Check `uec-clc-ha-ctl adopt --yes` on "
                      f"{config.peer_node}, then run it here again")
    s.cib(probe_wait)
    where = s.release(sync_wait, serving_wait)
    s._save(done=True)
    node_facts.publish_here(system, s.say)
    out.write(f"adopt: done: {cluster_init.GROUP} runs on {where} under uec-clc-ha; `uec-clc-ha-ctl doctor` "
              "checks the pair\n")
    return where
