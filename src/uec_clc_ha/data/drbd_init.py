"""DRBD bring-up (the recipe's steps 4.2-4.5), after a preflight that refuses to destroy data.

Called by `uec-clc-ha-ctl drbd-init` (and by the postinst when the admin
answered yes to uec-clc-ha/initialize-drbd).  Nothing destructive happens
without --yes, and not before every preflight check passed: the backing
disk exists and is a block device, nothing on it is mounted, it carries no
filesystem, RAID, LVM or partition-table signature (unless --force), the
resource file parses, and the module is loadable and loaded at boot.  Each
step is journaled in /var/lib/uec-clc-ha/drbd-init.json, so a second run
finishes an interrupted one and a run after success does nothing.

On Initial-Primary: create-md, up, promote, mkfs, mount.  Promote works
whether or not the peer is up yet: it waits a little for the peer to
connect; only when both disks are connected and Inconsistent (both freshly
created, so nothing on either needs keeping) does it skip the initial sync
(new-current-uuid --clear-bitmap, then primary).  Otherwise it promotes with
--force and the full sync to the peer runs when the peer connects.  A peer
whose disk already holds data (UpToDate, Consistent or Outdated) is refused:
this node would overwrite it.  On the other node: create-md, up, and watch
the peer connect and the disk become UpToDate (or, with wait=False as in the
postinst, only wait briefly for the connection and let the resync run in the
background).

A former replica (the other node's disk that already carries DRBD metadata,
and in its data area the replicated filesystem: a node purged and installed
again, or drbd-init run again after its journal was lost) keeps its
metadata: the filesystem signature is not a refusal there, create-md is
skipped, and `up` lets DRBD's generation UUIDs decide (the serving peer
newer: a resync of only what changed while the node was away).  When DRBD
finds the two copies unrelated or both changed, it stays StandAlone; that is
reported with the way out (--force: new metadata, a full sync from the peer).
The Initial-Primary never keeps a disk's old contents: a former DRBD disk
there is refused like any other data.
"""

import json
import os
import stat
import time

from uec_clc_ha.config.render import drbd_path
from uec_clc_ha.data import drbd_state
from uec_clc_ha.errors import Refused
from uec_clc_ha.host import applied
from uec_clc_ha.host.paths import DRBD_INIT_JOURNAL as JOURNAL
MODULES_LOAD = "/etc/modules-load.d/uec-clc-ha.conf"
PRIMARY_STEPS = ("create-md", "up", "promote", "mkfs", "mount")
SECONDARY_STEPS = ("create-md", "up", "sync")
# Seconds to wait for the peer to connect before promoting alone (and before the
# postinst leaves a secondary's resync to run in the background).
CONNECT_WAIT = 15
# Seconds StandAlone lasts before the watch of the sync reports it (DRBD passes through it while it connects).
STANDALONE_WAIT = 10
PEER_HAS_DATA = ("UpToDate", "Consistent", "Outdated")
# DRBD 8.4 connection states in which the peers talk to each other.
CONNECTED = frozenset({"Connected", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID",
                       "SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "VerifyS", "VerifyT"})


def _device_ids(system, rdev):
    """'major:minor' of a block device and of its partitions (from /sys/dev/block)."""
    own = f"{os.major(rdev)}:{os.minor(rdev)}"
    ids = {own}
    for name in system.listdir(f"/sys/dev/block/{own}"):
        # partitions are the subdirectories that have a dev file; the rest are attributes
        if not os.path.isdir(system.path(f"/sys/dev/block/{own}/{name}")):
            continue
        dev = system.read_or_none(f"/sys/dev/block/{own}/{name}/dev")
        if dev:
            ids.add(dev.decode().strip())
    return ids


def _mount_points_on(system, ids):
    """Mount points (from /proc/self/mountinfo) of filesystems on any of the device ids."""
    data = system.read_or_none("/proc/self/mountinfo") or b""
    return [line.split()[4] for line in data.decode("utf-8", "replace").splitlines()
            if len(line.split()) > 4 and line.split()[2] in ids]


def signatures(system, disk):
    """The signature types wipefs finds on the disk ("drbd" for DRBD metadata, "ext4", "LVM2_member", ...)."""
    done = system.run(["wipefs", "--no-act", "--noheadings", "--output", "TYPE", system.path(disk)], rcs=None)
    return set(done.stdout.split())


def former_replica(config, found):
    """True when the other node's disk carries DRBD metadata: drbd-init keeps it (see the module docstring)."""
    return config.initial_primary != config.local_node and "drbd" in found


def preflight(system, config, found):
    """Every reason not to go ahead, as messages naming the condition and the way out.

    ``found``: the disk's signatures (see signatures()); empty under --force.
    """
    disk = config.drbd_disk
    problems = []
    st = system.stat(disk)
    if st is None:
        return [f"{disk} (DRBD-Disk) does not exist: create the partition or fix the setting"]
    real = os.stat(system.path(disk))
    if not stat.S_ISBLK(real.st_mode):
        return [f"{disk} (DRBD-Disk) is not a block device"]
    mounted = _mount_points_on(system, _device_ids(system, real.st_rdev))
    if mounted:
        problems.append(f"{disk} is in use: a filesystem on it is mounted at {', '.join(sorted(mounted))}; "
                        "unmount it first")
    data = sorted(found - {"drbd"})
    if data and not former_replica(config, found):
        inside = (" inside DRBD metadata: a DRBD disk, perhaps with a copy of the cloud's data"
                  if "drbd" in found else "")
        problems.append(f"{disk} holds data ({', '.join(data)} signature{inside}): drbd-init would destroy "
                        "it. Check that nothing on it is needed, then run again with --force")
    check = system.run(["drbdadm", "sh-nop"], rcs=None)
    if check.rc != 0:
        problems.append(f"the DRBD configuration does not parse ({check.stderr.strip().splitlines()[-1:]}); "
                        "run `uec-clc-ha-ctl check` and `uec-clc-ha-ctl apply`")
    if not system.exists("/proc/drbd"):
        if not system.which("modprobe"):
            problems.append("modprobe is not installed (package kmod): the drbd module cannot be loaded")
        elif system.run(["modprobe", "--dry-run", "drbd"], rcs=None).rc != 0:
            problems.append("the drbd kernel module is not available for this kernel "
                            "(install a kernel with DRBD, or LINBIT's drbd-dkms)")
    boot = system.read_or_none(MODULES_LOAD) or b""
    if b"drbd" not in boot.split():
        problems.append(f"{MODULES_LOAD} does not load drbd at boot: run `uec-clc-ha-ctl apply`")
    return problems


def _load(system):
    data = system.read_or_none(JOURNAL)
    return json.loads(data) if data else None


def _save(system, journal):
    system.write_atomic(JOURNAL, json.dumps(journal, indent=1) + "\n", mode=0o600)


def _record(system, journal, step):
    journal["done"].append(step)
    _save(system, journal)


def init(system, config, out, yes, force=False, sync_timeout=3600, wait=True, connect_wait=CONNECT_WAIT):
    """Bring DRBD up on this node (see the module docstring); returns the journal.

    ``wait``: on the secondary, watch the initial sync to the end (the CLI);
    False only waits up to ``connect_wait`` seconds for the connection (the
    postinst, which must never block on a sync).
    """
    primary = config.initial_primary
    if not primary:
        raise Refused("Initial-Primary is not set: name the node that holds the data now "
                      "(`uec-clc-ha-ctl set Initial-Primary=NODE`), then run this again")
    is_primary = primary == config.local_node
    steps = PRIMARY_STEPS if is_primary else SECONDARY_STEPS
    journal = _load(system)
    if journal and journal.get("complete"):
        out.write(f"nothing to do: DRBD resource {config.drbd_resource} was initialised "
                  f"({journal.get('finished', '')})\n")
        return journal
    if not yes:
        raise Refused(f"drbd-init writes DRBD metadata to {config.drbd_disk}"
                      + (f" and creates a new {config.filesystem} filesystem on {config.drbd_device}"
                         if is_primary else "")
                      + ": everything on the disk is lost. Run it again with --yes to go ahead.")
    res = config.drbd_resource
    # An unfinished run that kept a former replica's metadata, run again with --force: start over.
    discard = journal is not None and force and journal.get("metadata") == "kept"
    if journal is None or discard:
        found = set() if force or not system.exists(config.drbd_disk) else signatures(system, config.drbd_disk)
        problems = preflight(system, config, found)
        if problems:
            raise Refused("drbd-init refused; nothing was changed:\n  - " + "\n  - ".join(problems))
        if discard:
            out.write(f"drbd-init: --force: the former copy on {config.drbd_disk} is discarded; new metadata, "
                      "and the peer sends a full copy\n")
            system.run(["drbdadm", "down", res], timeout=600)
        journal = {"role": "primary" if is_primary else "secondary", "done": []}
        if former_replica(config, found):
            journal["metadata"] = "kept"
        if discard:          # an interruption from here on resumes at create-md, not at the kept copy's sync
            _save(system, journal)
    _upgrade_journal(journal)
    commands = {
        "create-md": ["drbdadm", "--", "--force", "create-md", res],
        "up": ["drbdadm", "adjust", res],
        "mkfs": [f"mkfs.{config.filesystem}", "-q", config.drbd_device],
    }
    if not system.exists("/proc/drbd"):
        system.run(["modprobe", "drbd"])
    for step in steps:
        if step in journal["done"]:
            continue
        if step == "create-md" and journal.get("metadata") == "kept":
            out.write(f"drbd-init: {config.drbd_disk} already carries DRBD metadata (a former replica): kept; "
                      "DRBD compares its data with the peer's when they connect\n")
            _record(system, journal, step)
            continue
        out.write(f"drbd-init: {step}\n")
        if step == "mount":
            system.makedirs(config.mount_point)
            if not drbd_state.mounted_from(system, config.mount_point, config.drbd_device):
                system.run(["mount", "-o", config.mount_options, config.drbd_device, config.mount_point])
        elif step == "promote":
            journal["promoted"] = _promote(system, res, out, connect_wait)
        elif step == "sync":
            if wait:
                _watch_sync(system, config, out, sync_timeout)
            else:
                journal["sync"] = _watch_connect(system, config, out, connect_wait)
        else:
            system.run(commands[step], timeout=600)
            if step == "up":                  # the kernel has this resource file's configuration now
                applied.record(system, drbd_path(config), system.read_bytes(drbd_path(config)))
        _record(system, journal, step)
    journal["complete"] = True
    journal["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    _save(system, journal)
    out.write(f"drbd-init: done; this node is {'Primary' if is_primary else 'Secondary'} of {res}\n")
    return journal


def _upgrade_journal(journal):
    """A journal of 0.1.0 named promote's two halves; both done is promote done."""
    if "primary" in journal["done"] and "promote" not in journal["done"]:
        journal["done"].append("promote")


def _wait_connected(system, res, out, seconds):
    deadline = time.monotonic() + seconds
    cstate, dstate = drbd_state.states(system, res)
    if cstate not in CONNECTED and seconds > 0:
        out.write(f"drbd-init: waiting up to {seconds:.0f} s for the peer to connect ({cstate})\n")
    while cstate not in CONNECTED and time.monotonic() < deadline:
        time.sleep(1)
        cstate, dstate = drbd_state.states(system, res)
    return cstate, dstate


def _promote(system, res, out, connect_wait):
    """Make this node Primary; returns how ("new disks, initial sync skipped" or "forced, full sync")."""
    cstate, dstate = _wait_connected(system, res, out, connect_wait)
    local, _, peer = dstate.partition("/")
    if cstate in CONNECTED and peer in PEER_HAS_DATA:
        raise Refused(f"the peer's disk of {res} already holds data ({dstate}): making this node Primary "
                      "would overwrite it. If the peer holds the cloud's data, set Initial-Primary to the "
                      "peer and run drbd-init there; this node then receives a copy")
    if cstate == "Connected" and local == peer == "Inconsistent":
        system.run(["drbdadm", "--", "--clear-bitmap", "new-current-uuid", res], timeout=600)
        system.run(["drbdadm", "primary", res], timeout=600)
        out.write("drbd-init: both disks are new: the initial sync is skipped\n")
        return "new disks, initial sync skipped"
    system.run(["drbdadm", "primary", "--force", res], timeout=600)
    if cstate in CONNECTED:
        out.write(f"drbd-init: Primary; the full initial sync to the peer runs now ({dstate})\n")
    else:
        out.write(f"drbd-init: Primary without the peer ({cstate}); the full initial sync runs when the "
                  "peer is up and connects\n")
    return "forced, full sync"


def _refuse_standalone(config, cstate, dstate):
    """DRBD gave up on the peer (unrelated data, or both copies changed): say so and the way out."""
    if cstate != "StandAlone":
        return
    raise Refused(f"DRBD resource {config.drbd_resource} refused the peer and stays StandAlone ({dstate}): "
                  f"the copy on {config.drbd_disk} and the peer's have no common history, or both changed "
                  "(the kernel log says which). If the peer holds the cloud's data, discard this node's copy: "
                  "`uec-clc-ha-ctl drbd-init --yes --force` (new metadata, a full sync from the peer)")


def _watch_connect(system, config, out, seconds):
    """The postinst's secondary: wait briefly for the connection, leave the resync to DRBD."""
    res = config.drbd_resource
    cstate, dstate = _wait_connected(system, res, out, seconds)
    _refuse_standalone(config, cstate, dstate)
    if cstate in CONNECTED:
        out.write(f"drbd-init: connected ({dstate}); the resync runs in the background: "
                  f"`drbdadm status {res}` shows its progress\n")
        return "connected"
    out.write(f"drbd-init: the peer is not connected yet ({cstate}); DRBD connects by itself when the "
              "peer is up\n")
    return "waiting for the peer"


def _watch_sync(system, config, out, timeout):
    res = config.drbd_resource
    deadline = time.monotonic() + timeout
    last = ""
    standalone_since = None
    while time.monotonic() < deadline:
        cstate, dstate = drbd_state.states(system, res)
        line = f"connection {cstate}, disks {dstate}"
        if line != last:
            out.write(f"drbd-init: {line}\n")
            last = line
        if cstate != "StandAlone":
            standalone_since = None
        elif standalone_since is None:
            standalone_since = time.monotonic()
        elif time.monotonic() - standalone_since >= STANDALONE_WAIT:
            _refuse_standalone(config, cstate, dstate)
        if cstate == "Connected" and dstate.startswith("UpToDate/UpToDate"):
            return
        time.sleep(2)
    raise Refused(f"DRBD resource {res} did not reach UpToDate within {timeout} s ({last}); "
                  "check the replication link and the peer, then run drbd-init again to keep watching")
