"""Bringing the running services in line with the generated files: the CIB, corosync, DRBD.

Called by `uec-clc-ha-ctl apply` (and listed by `apply --dry-run`) after
the files are written, by the postinst (to say whether `apply` is needed
after `dpkg-reconfigure`), and by cluster-init (which loads the CIB the same
way).  A file counts as applied when the running service took exactly its
content, as host.applied records it (the sha256 of what was last loaded).
So a file written by `dpkg-reconfigure` and left unchanged by `apply` is
still applied; a file with no record is applied again (every step is
idempotent).  Only services that run on this node:

  cluster.crm differs   the change is shown (secrets masked), then
                        `crm configure load update /etc/uec-clc-ha/cluster.crm`,
                        the CIB stamped with what was loaded (by whom), and
                        only then the objects uec-clc-ha made that the file
                        no longer has are deleted (`crm configure delete`):
                        load first, so a fencing change never leaves a
                        moment without a fencing device.  The objects come
                        from the live CIB, not from a copy of the last file,
                        so what an earlier version or cluster-init left
                        behind goes too.  So does a cluster option set only
                        in some configurations (no-quorum-policy=freeze with
                        an arbiter), which `load update` would keep.
  corosync.conf changed `corosync-cfgtool -R` (every node re-reads it); a
                        change of quorum (the arbiter added or removed)
                        in step with the peer, and corosync-qdevice
                        started or stopped: uec_clc_ha.cluster.quorum_device.
                        A file corosync holds already (the peer's reload
                        made every node re-read its own) is only recorded;
                        a file recorded as taken that corosync no longer
                        runs with (a reload that failed, a hand change) is
                        reloaded:
                        uec_clc_ha.cluster.corosync_cmap
  the DRBD resource     `drbdadm adjust RESOURCE`

Refused, with the way to do it, before anything is written: a CIB that the
peer loaded from a different cluster.crm (the nodes' settings differ:
loading ours would undo theirs, and theirs ours, back and forth); a new
cluster secret or name while corosync runs (it cannot change its key live);
a renamed DRBD resource, or another disk or minor than the one DRBD runs
(adjust would detach the disk under the mounted filesystem); another
device, directory or filesystem type for the mounted filesystem.

Where nothing runs, the services read the files when they start, and that
is said.  A step that enables, disables or starts a unit (sbd's, the
arbiter's corosync-qdevice) records it first as it was (host.unit_record),
so purge can put it back.
"""

import difflib
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from uec_clc_ha.cluster import corosync_cmap, crm_mon, node_word, quorum_device, sbd
from uec_clc_ha.data import drbd_state
from uec_clc_ha.config.render import drbd_path
from uec_clc_ha.errors import CommandFailure, Refused
from uec_clc_ha.host import unit_record
from uec_clc_ha.host.applied import applied, digest, loaded_crm, record
from uec_clc_ha.host.paths import COROSYNC_AUTHKEY, COROSYNC_CONF, CRM_FILE, PACEMAKER_SCHEMAS

OBJECT_RE = re.compile(r"^(?:primitive|clone|ms|group|location|order|colocation)\s+(\S+)|^(fencing_topology)\b",
                       re.M)
SECRET_RE = re.compile(r'(\b\w*(?:pass|secret)\w*=)("[^"]*"|\S+)')
# Every object cluster.crm.j2 can make (tests/unit/cluster/test_live_apply.py checks each rendered
# one matches): only these are ever deleted; what the admin added to the CIB stays.
OWNED_RE = re.compile(r"^(?:res_drbd_.+|ms_drbd_.+|res_fs_clc|res_ip_clc|res_ip_clc_src|res_uec|"
                      r"res_uec_image_store_proxy|res_ping|cl_ping|rg_uec|rg_uec_address|l_uec_connected|"
                      r"o_drbd_before_uec|c_uec_on_drbd|c_address_with_uec|o_address_before_clc|st_sbd|"
                      r"st_sbd_probe|c_st_sbd_away_from_uec|c_st_sbd_probe_away_from_uec|fencing_topology|st_ipmi_.+|"
                      r"l_st_ipmi_.+)$")
# Cluster options cluster.crm.j2 sets in some configurations only, with the value it sets: `load update`
# merges a property set, so an option the file no longer names would stay; it is deleted (back to
# Pacemaker's default) when it still has the package's value.  An admin's own value stays.
OWNED_PROPERTIES = {"no-quorum-policy": "freeze"}
BOOTSTRAP_SET = "cib-bootstrap-options"
TOPOLOGY = "fencing_topology"            # crmsh's one name for the whole <fencing-topology>
STAMP_SET = "uec-clc-ha"                  # a cluster_property_set of its own: `load update` never touches it
STAMP = "uec-clc-ha-loaded"
RESOURCE_TAGS = ("primitive", "clone", "group", "master", "bundle")
CONSTRAINT_TAGS = ("rsc_location", "rsc_order", "rsc_colocation", "rsc_ticket")


@dataclass(frozen=True)
class Step:
    what: str
    argv: tuple                  # () when the step only notes what the service already took
    applies: tuple = ()          # (path, content) the service has taken once the step succeeded
    cleanup: bool = False        # run even when an earlier step failed (maintenance mode off)
    rcs: tuple = (0,)            # the exit codes that count as done


@dataclass(frozen=True)
class LiveCib:
    """What the running CIB holds that apply needs: object ids with their parents, the stamp, params."""

    parents: dict                # {id: id of the resource it sits in, or None}
    stamp: dict                  # {"digest", "node", "image-store-proxy", "source-address-route"} or {}
    params: dict                 # {resource id: {name: value}} of the primitives' instance attributes
    options: dict = field(default_factory=dict)   # {name: value} of cib-bootstrap-options

    def leftovers(self, new_text):
        """The ids uec-clc-ha made that new_text no longer has, outermost only (a clone takes its child)."""
        wanted = object_ids(new_text)
        gone = {i for i in self.parents if OWNED_RE.match(i) and i not in wanted}
        return sorted(i for i in gone if self.parents[i] not in gone)

    def leftover_options(self, new_text):
        """The cluster options uec-clc-ha set (OWNED_PROPERTIES, with its value) that new_text no longer names."""
        named = set(re.findall(r"^\s+([\w-]+)=", new_text, re.M))
        return sorted(n for n, v in OWNED_PROPERTIES.items() if self.options.get(n) == v and n not in named)


def object_ids(text):
    """The ids of the objects a crm shell text defines (fencing_topology under crmsh's name for it)."""
    return {a or b for a, b in OBJECT_RE.findall(text)}


def live_cib(system):
    """The running CIB as LiveCib, or None when it does not answer."""
    done = system.run(["cibadmin", "-Q", "-o", "configuration"], rcs=None, timeout=60)
    if done.rc != 0 or not done.stdout.strip():
        return None
    try:
        root = ET.fromstring(done.stdout)
    except ET.ParseError:
        return None
    parents, params = {}, {}

    def walk(element, parent):
        for child in element:
            if child.tag in RESOURCE_TAGS:
                parents[child.get("id")] = parent
                if child.tag == "primitive":
                    params[child.get("id")] = {nv.get("name"): nv.get("value") for nv in
                                               child.findall("instance_attributes/nvpair")}
                walk(child, child.get("id"))
    walk(root.find("resources") if root.find("resources") is not None else [], None)
    for constraint in (root.find("constraints") if root.find("constraints") is not None else []):
        if constraint.tag in CONSTRAINT_TAGS:
            parents[constraint.get("id")] = None
    # A topology is ours only when every level names devices of ours; an admin's own stays.
    levels = root.findall("fencing-topology/fencing-level")
    if levels and all(OWNED_RE.match(d) for lv in levels for d in (lv.get("devices") or "").split(",") if d):
        parents[TOPOLOGY] = None
    options = {nv.get("name"): nv.get("value") for nv in
               root.findall(f"crm_config/cluster_property_set[@id='{BOOTSTRAP_SET}']/nvpair")}
    stamp = {}
    for nv in root.findall(f"crm_config/cluster_property_set[@id='{STAMP_SET}']/nvpair[@name='{STAMP}']"):
        words = (nv.get("value") or "").split()
        if words:
            stamp = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            stamp["digest"] = words[0]
    return LiveCib(parents, stamp, params, options)


def stamp_value(config, content):
    """What the CIB is stamped with after a load: the file's sha256, the node, the per-host resolutions."""
    return (f"{digest(content)} node={config.local_node} image-store-proxy={config.image_store_proxy} "
            f"source-address-route={config.source_address_route}")


def stamp_argv(config, content):
    """The command that stamps the live CIB as loaded here from ``content`` (apply, cluster-init, adopt)."""
    return ("crm_attribute", "--type", "crm_config", "--set-name", STAMP_SET, "--name", STAMP,
            "--update", stamp_value(config, content))


def _pending(system, changes):
    """{path: Change} of the generated files whose content the running service has not taken."""
    done = applied(system)
    return {c.path: c for c in changes if c.action != "remove" and done.get(c.path) != digest(c.new.content)}


def masked(text):
    return SECRET_RE.sub(lambda m: m.group(1) + "(hidden)", text)


def crm_diff(old, new):
    """The change of cluster.crm as a unified diff, secrets masked."""
    return "".join(difflib.unified_diff(masked(old).splitlines(keepends=True), masked(new).splitlines(keepends=True),
                                        f"{CRM_FILE} (loaded)", f"{CRM_FILE} (new)"))


def _loaded_text(system, change):
    """The cluster.crm the CIB was last loaded from: the kept copy, else the file this apply replaces."""
    kept = loaded_crm(system)
    if kept is not None:
        return kept
    return (change.old or b"").decode("utf-8", "replace") if change.action == "update" else ""


def plan(system, config, changes, force=False):
    """(steps, notes): what to run on this node so its running services take the generated files.

    Refused (nothing run, nothing written) for what cannot change on a live
    pair; ``force`` loads this node's cluster.crm over a CIB the peer loaded
    from a different one.
    """
    differs = _pending(system, changes)
    new_files = {c.path: c.new.content for c in changes if c.action != "remove"}
    steps, notes = [], []
    view = crm_mon.read(system) if CRM_FILE in new_files else None
    if view is not None:
        held = _fencing(system, config, view, steps, notes) or _probe_held(system, config, view, steps, notes)
        cib = None if held else live_cib(system)
        if cib is not None:
            before = next((c.old for c in changes if c.path == CRM_FILE and c.action == "update"), None)
            crm = crm_steps(system, config, new_files[CRM_FILE], force, cib, before)
            steps += _mount_options_in_place(config, view, cib, crm, notes, force)
            steps += _old_vip_steps(system, config, crm)
            steps += schema_steps(system, view)
    elif CRM_FILE in differs:
        notes.append(f"Pacemaker does not run here: it reads the new {CRM_FILE} when "
                     "`uec-clc-ha-ctl cluster-init` loads it")
    corosync_runs = system.run(["corosync-cfgtool", "-s"], rcs=None, timeout=15).rc == 0
    if COROSYNC_AUTHKEY in differs and corosync_runs and COROSYNC_AUTHKEY in applied(system):
        raise Refused(
            "the cluster secret or name changed (a new corosync key) while corosync runs: corosync cannot take a "
            "new key live, and a node restarted with it could not talk to its peer (each would fence the other). "
            "Change it with the pair in maintenance: `crm configure property maintenance-mode=true`, stop "
            "pacemaker and corosync on both nodes (the cloud keeps running), `uec-clc-ha-ctl apply` on both, "
            "start corosync and pacemaker on both, then `crm configure property maintenance-mode=false`. Or put "
            "the old secret back (`uec-clc-ha-ctl set --force Cluster-Secret=...`). Nothing was written.")
    changed = COROSYNC_CONF in differs
    if changed and not corosync_runs:
        notes.append("corosync does not run here: it reads the new corosync.conf when it starts")
    reload = Step("corosync re-reads corosync.conf on every node", ("corosync-cfgtool", "-R"),
                  (COROSYNC_CONF, differs[COROSYNC_CONF].new.content) if changed else ())
    # what corosync runs against the file (only the corosync stack renders one): taken already by a reload
    # on the peer (recorded, no reload), or recorded as taken but not what corosync runs (a value changed by
    # hand with corosync-cmapctl, a node that missed a reload: reloaded, the file is what counts)
    content = new_files.get(COROSYNC_CONF)
    drift = corosync_cmap.drift(system, content) if corosync_runs and content is not None else None
    if changed and drift == []:
        reload = Step("corosync runs with this corosync.conf already (a reload made it live; recorded)", (),
                      reload.applies)
    elif not changed and drift:
        changed = True
        reload = Step(f"corosync re-reads corosync.conf on every node (it runs with other values: "
                      f"{'; '.join(drift)})", ("corosync-cfgtool", "-R"), (COROSYNC_CONF, content))
    if corosync_runs and config.cluster_stack == "corosync":
        # this node's words (sbd runs here, it has the probe) are told whatever the quorum change holds back:
        # the peer's apply waits for them, and a node that rejoined has said nothing yet
        words = [s for s in steps if s.argv[:1] == ("attrd_updater",)]
        arranged, more = quorum_device.arrange(system, config, [s for s in steps if s not in words], reload,
                                               changed, Step)
        steps = words + arranged
        notes += more
    elif corosync_runs and changed:
        steps.append(reload)
    steps += _drbd_steps(system, config, differs, notes)
    return steps, notes


VIP_RE = re.compile(r"^primitive res_ip_clc \S+ \\\n\tparams ip=(\S+) cidr_netmask=(\d+) nic=(\S+)", re.M)
SETTLE = ("crm_resource", "--wait", "--timeout=240s")


def _old_vip_steps(system, config, crm):
    """After a new VIP is loaded (or noted), the old one taken off this node's interface if it is still there.

    Pacemaker stops a resource whose definition changed with the parameters
    of its last start, which its controller keeps in memory; after a
    restart of the stack under a running cloud (maintenance mode: SBD
    timeouts, a key change) it knows none, and stops the address with the
    new parameters: IPaddr2 removes the new VIP (absent) and leaves the old
    one on the interface (seen on Debian 13's Pacemaker 3.0).  Once the
    cluster has settled, the old address is removed here; `ip addr del`
    exits 2 when it is gone already, as it is when Pacemaker knew.
    """
    if not crm:
        return []
    m = VIP_RE.search(loaded_crm(system) or "")
    if m is None or m.group(1) == str(config.vip):
        return []
    ip, prefix, nic = m.groups()
    done = system.run(["ip", "-4", "-o", "addr", "show", "dev", nic], rcs=None, timeout=30)
    if not re.search(rf"\binet {re.escape(ip)}/", done.stdout):
        return []
    return [Step("wait until the cluster has moved the VIP (crm_resource --wait)", SETTLE),
            Step(f"the old VIP {ip}/{prefix} taken off {nic} here if it is still there (Pacemaker stopped the "
                 "address with the new parameters)", ("ip", "addr", "del", f"{ip}/{prefix}", "dev", nic), rcs=(0, 2))]


def _fencing(system, config, view, steps, notes):
    """sbd's service and the peer's word follow Fencing; True when the CIB must wait (st_sbd not safe yet)."""
    if not system.which("sbd"):
        return False
    if config.fencing != "sbd":
        if sbd.enabled(system):
            steps.append(Step(f"sbd.service disabled (Fencing is {config.fencing}; sbd keeps running until the "
                              "cluster stack restarts here)", ("systemctl", "disable", "sbd.service")))
        return False
    found = sbd.header(system, config.sbd_device)
    wanted = (config.sbd_watchdog_timeout, config.sbd_msgwait_timeout)
    if found is not None and found != wanted:
        raise Refused(
            f"{config.sbd_device} carries an SBD header with watchdog {found[0]} s and msgwait {found[1]} s, the "
            f"settings say {wanted[0]} s and {wanted[1]} s: the header cannot be written while sbd uses the "
            "device, and fencing with timeouts the header does not have fails. With the cloud running on, "
            "the new timeouts set on both nodes: `crm configure property maintenance-mode=true`; on both nodes "
            "`systemctl stop pacemaker corosync` (sbd stops with corosync) and `uec-clc-ha-ctl apply`; on the "
            f"initial primary ({config.initial_primary}) `uec-clc-ha-ctl cluster-init --yes --force` (it "
            "checks that no sbd reads the disk, writes the header and starts the stack) and, while it waits "
            "for its peer, `uec-clc-ha-ctl cluster-init` on the other node; once both are up, `crm configure "
            "property maintenance-mode=false`. Or set SBD-Watchdog-Timeout and "
            f"SBD-Msgwait-Timeout back to {found[0]} and {found[1]}. Nothing was written.")
    if not sbd.enabled(system):
        steps.append(Step("sbd.service enabled (it starts with corosync)", ("systemctl", "enable", "sbd.service")))
    if any(r.id == "st_sbd" for r in view.resources):
        return False                 # loaded: nobody waits for the nodes' word (a rebooted node has none)
    here = sbd.active(system)
    publish = sbd.publish_argv(system, config.local_node, here)
    if publish:
        steps.append(Step(f"tell {config.peer_node} whether sbd runs here", publish))
    missing = [what for what, ok in (
        (f"the SBD device {config.sbd_device} has no header yet (`uec-clc-ha-ctl cluster-init --yes` on the "
         f"initial primary writes it)", found is not None),
        (f"sbd does not run on {config.local_node}", here),
        (f"{config.peer_node} has not said that sbd runs there", sbd.said(system, config.peer_node)))
        if not ok]
    if missing:
        notes.append(
            f"{CRM_FILE} is not loaded yet: the CIB would fence through the SBD disk, and a poison pill that no "
            f"sbd reads counts as a fencing that succeeded: {'; '.join(missing)}. sbd starts with corosync: on "
            "each node in turn, the one without the cloud first, `uec-clc-ha-ctl standby NODE`, `systemctl "
            "restart corosync pacemaker`, `uec-clc-ha-ctl unstandby NODE` and `uec-clc-ha-ctl apply`. The "
            "fencing the CIB has now stays until then.")
        return True
    return False


PROBE_ATTRIBUTE = "uec-clc-ha-fence-probe"      # "1": this node has fence_uec_clc_ha_probe (uec-clc-ha 0.5.0 on)


def _probe_held(system, config, view, steps, notes):
    """True when the CIB must wait for the peer's word that it has the fencing probe (a rolling upgrade).

    A fencing topology whose level 1 is an agent the fencing node lacks
    leaves that node's fencing to chance; the probe is loaded once both nodes
    said they have it (a transient node attribute, as for sbd), and from then
    on nobody waits.
    """
    if not config.fencing_probe or any(r.id == "st_sbd_probe" for r in view.resources):
        return False
    tell = _probe_word_argv(system, config)
    if tell:
        steps.append(Step(f"tell {config.peer_node} that this node has the fencing probe", tell))
    if node_word.flag(system, config.peer_node, PROBE_ATTRIBUTE) is not True:
        notes.append(
            f"{CRM_FILE} is not loaded yet: its fencing starts with the probe fence_uec_clc_ha_probe, and "
            f"{config.peer_node} has not said that it has it: upgrade uec-clc-ha there (0.5.0 or later) and run "
            f"`uec-clc-ha-ctl apply` there, then here again. The fencing the CIB has now stays until then.")
        return True
    return False


def _probe_word_argv(system, config):
    """The command that tells the peer this node has the fencing probe, or None when it said so already."""
    if node_word.flag(system, config.local_node, PROBE_ATTRIBUTE) is True:
        return None
    return node_word.tell_argv(PROBE_ATTRIBUTE, "1")


def tell_peer_of_probe(system, config):
    """Tell the peer that this node has the fencing probe, unless it knows: the postinst does this on an upgrade
    (so that after both nodes' upgrades the first apply loads it), apply otherwise."""
    tell = _probe_word_argv(system, config) if config.fencing_probe else None
    if tell:
        system.run(tell, rcs=None, timeout=30)


LOAD = ("crm", "configure", "load", "update")
MAINTENANCE = ("crm_attribute", "--type", "crm_config", "--name", "maintenance-mode")


def _mount_options_in_place(config, view, cib, crm, notes, force):
    """The CIB steps, wrapped so that new Mount-Options reach the mounted filesystem without restarting it.

    Filesystem's `options` is not reloadable: loaded as it is, Pacemaker
    stops and starts the filesystem, and the cloud's group with it.  Options
    that only add to the running ones are remounted in place on the node where
    the filesystem is mounted, and the CIB takes them in maintenance mode,
    followed by a re-probe of the filesystem (Pacemaker then records it
    running with the new options and restarts nothing).  That node's apply
    must come first; options that drop one need the filesystem mounted afresh
    (the cloud restarts), which only --force goes ahead with.
    """
    running = cib.params.get("res_fs_clc", {}).get("options")
    if not any(s.argv[:4] == LOAD for s in crm) or running in (None, config.mount_options):
        return crm
    where = [n for r in view.resources if r.id == "res_fs_clc" for n in r.nodes]
    if not where or force:
        return crm
    dropped = sorted(set(running.split(",")) - set(config.mount_options.split(",")))
    if dropped:
        raise Refused(f"Mount-Options drops {', '.join(dropped)}: a remount cannot take an option away, so the "
                      "cloud's filesystem would be unmounted and mounted afresh, and the Cloud Controller restarted "
                      "with it. To accept that restart: `uec-clc-ha-ctl apply --force`; or keep the options and add "
                      "to them. Nothing was written.")
    if where != [config.local_node]:
        notes.append(f"{CRM_FILE} is not loaded yet: its new Mount-Options reach the mounted filesystem in place "
                     f"only from {where[0]}, where it is mounted (a load from here would restart it, and the cloud "
                     f"with it): run `uec-clc-ha-ctl apply` on {where[0]} first, then here again")
        return []
    steps = [Step("remount the cloud's filesystem with the new options, in place",
                  ("mount", "-o", f"remount,{config.mount_options}", config.mount_point))]
    if not view.maintenance:
        steps.append(Step("maintenance mode while the CIB takes the new options (nothing starts or stops)",
                          (*MAINTENANCE, "--update", "true")))
    steps += crm
    steps.append(Step("re-probe the filesystem: Pacemaker records it running with the new options",
                      ("crm_resource", "--refresh", "--resource", "res_fs_clc")))
    steps.append(Step("wait for the probe", ("crm_resource", "--wait", "--timeout=120s")))
    if not view.maintenance:
        steps.append(Step("maintenance mode off", (*MAINTENANCE, "--delete"), cleanup=True))
    return steps


def crm_steps(system, config, new, force=False, cib=None, before=None):
    """Load (unless the CIB holds this file already), stamp, then delete what the file no longer has.

    [] when the live CIB holds exactly ``new`` (cluster.crm's content) and
    this node has noted it; [] too when the CIB does not answer.  Refused
    when the peer loaded a file that is neither ``new``, nor the one this
    node last loaded or noted, nor ``before`` (this node's cluster.crm
    before this apply wrote ``new``: the peer loaded what this node had, as
    after the arbiter was added, whose CIB the second node loads).
    """
    cib = cib or live_cib(system)
    if cib is None:
        return []
    new_digest = digest(new)
    ours = applied(system).get(CRM_FILE)
    stamp = cib.stamp
    agreed = {new_digest, ours} | ({digest(before)} if before is not None else set())
    if stamp and stamp["digest"] not in agreed and not force:
        raise Refused(_other_file(config, stamp))
    leftovers = cib.leftovers(new.decode("utf-8", "replace"))
    drbd = [i for i in leftovers if i.startswith(("ms_drbd_", "res_drbd_"))]
    if drbd:
        raise Refused(f"the new {CRM_FILE} drops {', '.join(drbd)}, the DRBD resource the cloud's filesystem "
                      "runs on (DRBD-Resource changed): deleting it would stop DRBD under the mounted data. "
                      "Rename a DRBD resource with the cluster stopped on both nodes, or set DRBD-Resource "
                      "back. Nothing was written.")
    _refuse_filesystem_changes(config, cib)
    steps = []
    stamp_step = Step("stamp the CIB with what was loaded (its sha256, this node)", stamp_argv(config, new),
                      (CRM_FILE, new))
    if stamp.get("digest") == new_digest:
        if ours != new_digest:
            steps.append(Step(f"note that the live CIB holds this {CRM_FILE} already (loaded on "
                              f"{stamp.get('node', 'the peer')})", (), (CRM_FILE, new)))
    elif not stamp and ours == new_digest and "rg_uec" in cib.parents:
        steps.append(stamp_step)               # loaded by a version that did not stamp the CIB yet
    else:
        steps += [Step(f"load {CRM_FILE} into the live CIB", (*LOAD, CRM_FILE)), stamp_step]
    if leftovers:
        steps.append(Step(f"delete from the CIB what {CRM_FILE} no longer has: {', '.join(leftovers)}",
                          ("crm", "configure", "delete", "--force", *leftovers)))
    for name in cib.leftover_options(new.decode("utf-8", "replace")):
        steps.append(Step(f"delete the cluster option {name}, which {CRM_FILE} no longer sets (Pacemaker's "
                          "default again)", ("crm_attribute", "--type", "crm_config", "--name", name, "--delete")))
    return steps


def _schema_version(name):
    m = re.fullmatch(r"pacemaker-(\d+)\.(\d+)", name or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def schema_steps(system, view):
    """The CIB's schema raised to the newest this node's Pacemaker knows, once every node runs the same
    Pacemaker: after a release upgrade (Debian 12's 2.1.5 writes pacemaker-3.9, Debian 13's 3.0 knows
    pacemaker-4.0) the CIB keeps the old schema until asked.  Never while the nodes run different
    versions (crm_mon's mixed_version): the older could no longer read it.  [] when nothing to do."""
    if view.mixed:
        return []
    done = system.run(["cibadmin", "-Q", "--no-children"], rcs=None, timeout=60)
    m = re.search(r'\bvalidate-with="([^"]+)"', done.stdout) if done.rc == 0 else None
    current = _schema_version(m.group(1)) if m else None
    known = [v for v in (_schema_version(n[:-4]) for n in system.listdir(PACEMAKER_SCHEMAS) if n.endswith(".rng")) if v]
    if current is None or not known or max(known) <= current:
        return []
    newest = "pacemaker-%d.%d" % max(known)
    return [Step(f"the CIB's schema {m.group(1)} raised to {newest} (every node runs this Pacemaker)",
                 ("cibadmin", "--upgrade", "--force"))]


def _other_file(config, stamp):
    node = stamp.get("node", "another node")
    mine = {"image-store-proxy": ("Image-Store-Proxy", config.image_store_proxy),
            "source-address-route": ("Source-Address-Route", config.source_address_route)}
    autos = [f"{key} resolves to {stamp[name]} on {node} and to {value} here: set it on both nodes "
             f"(`uec-clc-ha-ctl set {key}={stamp[name]}`)"
             for name, (key, value) in mine.items() if stamp.get(name) not in (None, value)]
    return (f"the live CIB was loaded on {node} from a different {CRM_FILE} than this node's: loading this one "
            f"would undo it (and {node}'s next apply would undo this one, restarting resources each time). "
            + ("; ".join(autos) + ". " if autos else
               f"The two nodes' settings differ (`uec-clc-ha-ctl doctor` compares them), or {node} was "
               "reconfigured or upgraded first: bring this node's settings in line (dpkg-reconfigure uec-clc-ha, "
               "or `uec-clc-ha-ctl set`). ")
            + "To load this node's file over it anyway: `uec-clc-ha-ctl apply --force`. Nothing was written.")


# res_fs_clc's parameters that name the data's place: another value while it is mounted loses the cloud's data
FILESYSTEM_FIXED = (("device", "DRBD-Device", "drbd_device"), ("directory", "Mount-Point", "mount_point"),
                    ("fstype", "Filesystem", "filesystem"))


def _refuse_filesystem_changes(config, cib):
    running = cib.params.get("res_fs_clc")
    if not running:
        return
    for param, key, attr in FILESYSTEM_FIXED:
        if running.get(param) not in (None, getattr(config, attr)):
            raise Refused(f"{key} is {getattr(config, attr)}, but the cloud's filesystem runs with {param}="
                          f"{running[param]}: the data directories point there, and a new {key} on a live pair "
                          "would unmount the cloud's data and mount something else in its place. Set "
                          f"{key}={running[param]} back. Nothing was written.")


def _drbd_steps(system, config, differs, notes):
    res = config.drbd_resource
    kernel = drbd_state.running(system, res)
    if kernel is not None:
        if kernel["disk"] and kernel["disk"] != config.drbd_disk:
            raise Refused(f"DRBD-Disk is {config.drbd_disk}, but DRBD {res} runs on {kernel['disk']}: `drbdadm "
                          "adjust` compares the names and would detach the disk and attach the new one under the "
                          f"running resource. If it is the same device under another name, set DRBD-Disk="
                          f"{kernel['disk']}; a new disk is attached with the resource down (`drbdadm down`, on "
                          "the node without the cloud). Nothing was written.")
        if kernel["minor"] is not None and kernel["minor"] != config.drbd_minor:
            raise Refused(f"DRBD-Device is {config.drbd_device}, but DRBD {res} runs as /dev/drbd{kernel['minor']} "
                          f"under the mounted filesystem: set DRBD-Device=/dev/drbd{kernel['minor']} back. "
                          "Nothing was written.")
    for path in applied(system):
        old = path[len("/etc/drbd.d/"):-len(".res")] if path.startswith("/etc/drbd.d/") and path.endswith(".res") \
            else None
        if old and old != res and drbd_state.role(system, old) != "Unconfigured":
            raise Refused(f"DRBD-Resource is {res}, but DRBD runs the cloud's data as {old}: a DRBD resource "
                          f"cannot be renamed while it is up. Set DRBD-Resource={old} back. Nothing was written.")
    path = drbd_path(config)
    steps = []
    if path in differs:
        if kernel is not None or drbd_state.role(system, res) != "Unconfigured":
            steps.append(Step(f"DRBD {res} takes the new configuration", ("drbdadm", "adjust", res),
                              (path, differs[path].new.content)))
        else:
            notes.append(f"DRBD {res} is not up here: it reads the new file when it is brought up")
    return steps


def show(out, system, changes, steps, notes, dry_run):
    crm = next((c for c in changes if c.path == CRM_FILE), None)
    if crm is not None and any(s.argv[:2] == ("crm", "configure") for s in steps):
        print(crm_diff(_loaded_text(system, crm), crm.new.content.decode("utf-8", "replace")), file=out, end="")
    for s in steps:
        if s.argv:
            print(f"{'would run' if dry_run else 'running'}: {' '.join(s.argv)}  ({s.what})", file=out)
        else:
            print(f"{'would ' if dry_run else ''}{s.what}", file=out)
    for n in notes:
        print(n, file=out)


# systemctl verbs that change a unit: the unit is recorded first (host.unit_record), so purge puts it back.
UNIT_CHANGES = ("enable", "disable", "start", "stop", "restart")


def changed_units(argv):
    """The units a step's `systemctl VERB [--options] UNIT...` changes (none for any other command)."""
    if len(argv) < 2 or argv[0] != "systemctl" or argv[1] not in UNIT_CHANGES:
        return ()
    return tuple(a for a in argv[2:] if not a.startswith("-"))


# crmsh's `load update` patches the CIB it read: a CIB written in between (the peer's apply loading the same file, a
# node attribute it publishes) makes the patch fail ("could not patch cib").  The load is idempotent: tried again.
LOAD_ATTEMPTS = 3
LOAD_RETRY_WAIT = 5


def run(system, steps, sleep=time.sleep, load_attempts=LOAD_ATTEMPTS):
    """Each step in order; after a failure only the cleanup steps still run, then the failure is raised.

    A step that enables, disables, starts or stops a unit records the unit
    as it was first (host.unit_record: the first record of a unit stays).
    ``load_attempts``: how often the CIB load is tried (cluster-init reads
    the CIB again between its own).
    """
    failed = None
    for s in steps:
        if failed is not None and not s.cleanup:
            continue
        try:
            if changed_units(s.argv):
                unit_record.note(system, *changed_units(s.argv))
            if s.argv and s.argv[:4] == LOAD:
                _load(system, s, sleep, load_attempts)
            elif s.argv:
                system.run(list(s.argv), rcs=s.rcs, timeout=300, env={"HOME": "/root"})
            if s.applies:
                record(system, *s.applies)
        except Exception as e:
            if failed is None:
                failed = e
    if failed is not None:
        raise failed


def _load(system, step, sleep, attempts):
    for attempt in range(1, attempts + 1):
        try:
            system.run(list(step.argv), rcs=step.rcs, timeout=300, env={"HOME": "/root"})
            return
        except CommandFailure:
            if attempt == attempts:
                raise
            sleep(LOAD_RETRY_WAIT)
