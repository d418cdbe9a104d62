"""The state of the DRBD resource and its filesystem, as the data steps need it.

Used by uec_clc_ha.data.migration and uec_clc_ha.data.drbd_init before they touch
data, and by uec_clc_ha.cluster.adopt and live_apply (what the kernel runs): is this node Primary, is it connected
and in sync, is the DRBD device mounted at the mount point, is eucalyptus
running.  Read-only.
"""

import os
import re

from uec_clc_ha.agent.clc_process import runs_program
from uec_clc_ha.config import settings, settings_file
from uec_clc_ha.errors import UecError


def role(system, resource):
    """'Primary', 'Secondary', or what drbdadm says ('Unconfigured', ...)."""
    done = system.run(["drbdadm", "role", resource], rcs=None)
    if done.rc != 0:
        return "Unconfigured"
    return done.stdout.strip().split("/")[0] or "Unknown"


def running(system, resource):
    """{"disk", "minor", "address"} of the resource as the kernel runs it (`drbdsetup show`), or None."""
    done = system.run(["drbdsetup", "show", resource], rcs=None, timeout=30)
    if done.rc != 0 or f"resource {resource}" not in done.stdout:
        return None
    text = done.stdout
    found = {}
    m = re.search(r'^\s*disk\s+"([^"]+)"', text, re.M)
    found["disk"] = m.group(1) if m else None
    m = re.search(r"^\s*device\s+minor\s+(\d+)", text, re.M)
    found["minor"] = int(m.group(1)) if m else None
    m = re.search(r"_this_host\s*(?:\{|ipv4)\s*(?:address\s+ipv4\s+)?([0-9.]+):(\d+)", text)
    found["address"] = (m.group(1), int(m.group(2))) if m else None
    return found


def states(system, resource):
    """(connection state, 'local/peer' disk states) as drbdadm reports them."""
    cstate = system.run(["drbdadm", "cstate", resource], rcs=None, timeout=30).stdout.strip()
    dstate = system.run(["drbdadm", "dstate", resource], rcs=None, timeout=30).stdout.strip()
    return cstate, dstate


def mounted_from(system, mount_point, device):
    """True when Mount-Point is a mount of the DRBD device (compared by device number)."""
    target = system.path(mount_point)
    dev = system.path(device)
    try:
        rdev = os.stat(dev).st_rdev
        mnt_dev = os.stat(target).st_dev
        parent_dev = os.stat(os.path.dirname(target.rstrip("/")) or "/").st_dev
    except FileNotFoundError:
        return False
    return mnt_dev != parent_dev and mnt_dev == rdev


def running_eucalyptus():
    """[(pid, name)] of Eucalyptus processes that must not run while their data moves.

    A process counts when it runs one of PROGRAMS (argv[0], the kernel's name,
    or the script an interpreter runs), never when it only names one in its
    arguments (an admin reading /etc/init.d/image-store-proxy).
    """
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        if proc.info["pid"] == os.getpid():
            continue
        if runs_program(proc.info["cmdline"] or [], proc.info["name"] or "", PROGRAMS):
            found.append((proc.info["pid"], proc.info["name"] or ""))
    return found


PROGRAMS = frozenset({"eucalyptus-cloud", "image-store-proxy"})


def data_on_drbd(system):
    """Data directories that are symlinks into the DRBD mount point (after migrate-data or prepare-secondary)."""
    try:
        raw = settings_file.load(system)
    except UecError:
        raw = settings.defaults()
    mount = raw.get("Mount-Point") or settings.defaults()["Mount-Point"]
    found = []
    for d in (raw.get("Data-Directories") or settings.defaults()["Data-Directories"]).split():
        path = system.path(d)
        if os.path.islink(path) and os.readlink(path).rstrip("/").startswith(mount.rstrip("/") + "/"):
            found.append(d)
    return found
