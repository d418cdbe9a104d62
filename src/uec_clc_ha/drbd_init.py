"""DRBD bring-up (the recipe's steps 4.2-4.5), after a preflight that refuses to destroy data.

Called by `uec-clc-ha-ctl drbd-init` (and by the postinst when the admin
answered yes to uec-clc-ha/initialize-drbd).  Nothing destructive happens
without --yes, and not before every preflight check passed: the backing
disk exists and is a block device, nothing on it is mounted, it carries no
filesystem, RAID, LVM or partition-table signature (unless --force), the
resource file parses, and the module is loadable and loaded at boot.  Each
step is journaled in /var/lib/uec-clc-ha/drbd-init.json, so a second run
finishes an interrupted one and a run after success does nothing.

On Initial-Primary: create-md, up, new-current-uuid --clear-bitmap (the
disks start out identical, so there is nothing to sync), primary, mkfs,
mount.  On the other node: create-md, up, and watch the peer connect and the
disk become UpToDate.
"""

import json
import os
import stat
import time

from . import drbd_state
from .errors import Refused
from .settings import STATE_DIR

JOURNAL = f"{STATE_DIR}/drbd-init.json"
MODULES_LOAD = "/etc/modules-load.d/uec-clc-ha.conf"
PRIMARY_STEPS = ("create-md", "up", "new-current-uuid", "primary", "mkfs", "mount")
SECONDARY_STEPS = ("create-md", "up", "sync")


def _device_ids(system, rdev):
    """'major:minor' of a block device and of its partitions (from /sys/dev/block)."""
    own = f"{os.major(rdev)}:{os.minor(rdev)}"
    ids = {own}
    for name in system.listdir(f"/sys/dev/block/{own}"):
        dev = system.read_or_none(f"/sys/dev/block/{own}/{name}/dev")
        if dev:
            ids.add(dev.decode().strip())
    return ids


def _mount_points_on(system, ids):
    """Mount points (from /proc/self/mountinfo) of filesystems on any of the device ids."""
    data = system.read_or_none("/proc/self/mountinfo") or b""
    return [line.split()[4] for line in data.decode("utf-8", "replace").splitlines()
            if len(line.split()) > 4 and line.split()[2] in ids]


def preflight(system, config, force):
    """Every reason not to go ahead, as messages naming the condition and the way out."""
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
    if not force:
        done = system.run(["wipefs", "--no-act", "--noheadings", "--output", "TYPE", system.path(disk)], rcs=None)
        signatures = sorted({t for t in done.stdout.split() if t != "drbd"})
        if signatures:
            problems.append(f"{disk} holds data ({', '.join(signatures)} signature): drbd-init would destroy it. "
                            "Check that nothing on it is needed, then run again with --force")
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


def _record(system, journal, step):
    journal["done"].append(step)
    system.write_atomic(JOURNAL, json.dumps(journal, indent=1) + "\n", mode=0o600)


def init(system, config, out, yes, force=False, sync_timeout=3600):
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
    if journal is None:
        problems = preflight(system, config, force)
        if problems:
            raise Refused("drbd-init refused; nothing was changed:\n  - " + "\n  - ".join(problems))
        journal = {"role": "primary" if is_primary else "secondary", "done": []}
    res = config.drbd_resource
    commands = {
        "create-md": ["drbdadm", "--", "--force", "create-md", res],
        "up": ["drbdadm", "adjust", res],
        "new-current-uuid": ["drbdadm", "--", "--clear-bitmap", "new-current-uuid", res],
        "primary": ["drbdadm", "primary", res],
        "mkfs": [f"mkfs.{config.filesystem}", "-q", config.drbd_device],
    }
    if not system.exists("/proc/drbd"):
        system.run(["modprobe", "drbd"])
    for step in steps:
        if step in journal["done"]:
            continue
        out.write(f"drbd-init: {step}\n")
        if step == "mount":
            system.makedirs(config.mount_point)
            if not drbd_state.mounted_from(system, config.mount_point, config.drbd_device):
                system.run(["mount", "-o", config.mount_options, config.drbd_device, config.mount_point])
        elif step == "sync":
            _watch_sync(system, res, out, sync_timeout)
        else:
            system.run(commands[step], timeout=600)
        _record(system, journal, step)
    journal["complete"] = True
    journal["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    system.write_atomic(JOURNAL, json.dumps(journal, indent=1) + "\n", mode=0o600)
    out.write(f"drbd-init: done; this node is {'Primary' if is_primary else 'Secondary'} of {res}\n")
    return journal


def _watch_sync(system, res, out, timeout):
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        cstate = system.run(["drbdadm", "cstate", res], rcs=None).stdout.strip()
        dstate = system.run(["drbdadm", "dstate", res], rcs=None).stdout.strip()
        line = f"connection {cstate}, disks {dstate}"
        if line != last:
            out.write(f"drbd-init: {line}\n")
            last = line
        if cstate == "Connected" and dstate.startswith("UpToDate/UpToDate"):
            return
        time.sleep(2)
    raise Refused(f"DRBD resource {res} did not reach UpToDate within {timeout} s ({last}); "
                  "check the replication link and the peer, then run drbd-init again to keep watching")
