"""Bringing the running services in line with the files `apply` changed: the CIB, corosync, DRBD.

Called by `uec-clc-ha-ctl apply` (and listed by `apply --dry-run`) after
the files are written, only for the services that run on this node:

  cluster.crm changed   the change is shown (secrets masked), then
                        `crm configure load update /etc/uec-clc-ha/cluster.crm`;
                        objects no longer in the file are deleted from the CIB
                        (`crm configure delete --force ID`)
  corosync.conf changed `corosync-cfgtool -R` (every node re-reads it)
  the DRBD resource     `drbdadm adjust RESOURCE`

Where nothing runs, the services read the files when they start, and that
is said.
"""

import difflib
import re
from dataclasses import dataclass

from . import crm_mon, drbd_state
from .render import drbd_path

CRM_FILE = "/etc/uec-clc-ha/cluster.crm"
COROSYNC_CONF = "/etc/corosync/corosync.conf"
OBJECT_RE = re.compile(r"^(?:primitive|clone|ms|group|location|order|colocation)\s+(\S+)", re.M)
SECRET_RE = re.compile(r'(\b\w*(?:pass|secret)\w*=)("[^"]*"|\S+)')


@dataclass(frozen=True)
class Step:
    what: str
    argv: tuple


def masked(text):
    return SECRET_RE.sub(lambda m: m.group(1) + "(hidden)", text)


def crm_diff(old, new):
    """The change of cluster.crm as a unified diff, secrets masked."""
    return "".join(difflib.unified_diff(masked(old).splitlines(keepends=True), masked(new).splitlines(keepends=True),
                                        f"{CRM_FILE} (loaded)", f"{CRM_FILE} (new)"))


def removed_objects(old, new):
    return sorted(set(OBJECT_RE.findall(old)) - set(OBJECT_RE.findall(new)))


def plan(system, config, changes):
    """(steps, notes): what to run for the changed files on this node, and what is not running."""
    changed = {c.path: c for c in changes if c.action in ("create", "update")}
    steps, notes = [], []
    if CRM_FILE in changed:
        if crm_mon.read(system) is not None:
            old = (changed[CRM_FILE].old or b"").decode("utf-8", "replace")
            for obj in removed_objects(old, changed[CRM_FILE].new.content.decode("utf-8", "replace")):
                steps.append(Step(f"delete {obj} from the CIB (no longer in {CRM_FILE})",
                                  ("crm", "configure", "delete", "--force", obj)))
            steps.append(Step(f"load {CRM_FILE} into the live CIB", ("crm", "configure", "load", "update", CRM_FILE)))
        else:
            notes.append(f"Pacemaker does not run here: it reads the new {CRM_FILE} when "
                         "`uec-clc-ha-ctl cluster-init` loads it")
    if COROSYNC_CONF in changed:
        if system.run(["corosync-cfgtool", "-s"], rcs=None, timeout=15).rc == 0:
            steps.append(Step("corosync re-reads corosync.conf on every node", ("corosync-cfgtool", "-R")))
        else:
            notes.append("corosync does not run here: it reads the new corosync.conf when it starts")
    res = drbd_path(config)
    if res in changed:
        if drbd_state.role(system, config.drbd_resource) != "Unconfigured":
            steps.append(Step(f"DRBD {config.drbd_resource} takes the new configuration",
                              ("drbdadm", "adjust", config.drbd_resource)))
        else:
            notes.append(f"DRBD {config.drbd_resource} is not up here: it reads the new file when it is brought up")
    return steps, notes


def show(out, changes, steps, notes, dry_run):
    crm = next((c for c in changes if c.path == CRM_FILE and c.action in ("create", "update")), None)
    if crm is not None and any(s.argv[:2] == ("crm", "configure") for s in steps):
        print(crm_diff((crm.old or b"").decode("utf-8", "replace"), crm.new.content.decode("utf-8", "replace")),
              file=out, end="")
    for s in steps:
        print(f"{'would run' if dry_run else 'running'}: {' '.join(s.argv)}  ({s.what})", file=out)
    for n in notes:
        print(n, file=out)


def run(system, steps):
    for s in steps:
        system.run(list(s.argv), timeout=300, env={"HOME": "/root"})
