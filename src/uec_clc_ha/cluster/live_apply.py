"""Bringing the running services in line with the generated files: the CIB, corosync, DRBD.

Called by `uec-clc-ha-ctl apply` (and listed by `apply --dry-run`) after
the files are written, by the postinst (to say whether `apply` is needed
after `dpkg-reconfigure`), and by cluster-init (which records what it
loaded).  A file counts as applied when the running service took exactly
its content, as host.applied records it (the sha256 of what was last
loaded, and a copy of the loaded cluster.crm that tells which CIB objects
a new one drops).  So a file written by `dpkg-reconfigure` and left
unchanged by `apply` is still applied; a file with no record is applied
again (every step is idempotent).  Only services that run on this node:

  cluster.crm differs   the change is shown (secrets masked), then
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

from uec_clc_ha.cluster import crm_mon
from uec_clc_ha.data import drbd_state
from uec_clc_ha.config.render import drbd_path
from uec_clc_ha.host.applied import applied, digest, loaded_crm, record
from uec_clc_ha.host.paths import COROSYNC_CONF, CRM_FILE

OBJECT_RE = re.compile(r"^(?:primitive|clone|ms|group|location|order|colocation)\s+(\S+)", re.M)
SECRET_RE = re.compile(r'(\b\w*(?:pass|secret)\w*=)("[^"]*"|\S+)')


@dataclass(frozen=True)
class Step:
    what: str
    argv: tuple
    applies: tuple = ()          # (path, content) the service has taken once the step succeeded


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


def removed_objects(old, new):
    return sorted(set(OBJECT_RE.findall(old)) - set(OBJECT_RE.findall(new)))


def _loaded_text(system, change):
    """The cluster.crm the CIB was last loaded from: the kept copy, else the file this apply replaces."""
    kept = loaded_crm(system)
    if kept is not None:
        return kept
    return (change.old or b"").decode("utf-8", "replace") if change.action == "update" else ""


def plan(system, config, changes):
    """(steps, notes): what to run on this node so its running services take the generated files."""
    differs = _pending(system, changes)
    steps, notes = [], []
    if CRM_FILE in differs:
        if crm_mon.read(system) is not None:
            change = differs[CRM_FILE]
            new = change.new.content
            for obj in removed_objects(_loaded_text(system, change), new.decode("utf-8", "replace")):
                steps.append(Step(f"delete {obj} from the CIB (no longer in {CRM_FILE})",
                                  ("crm", "configure", "delete", "--force", obj)))
            steps.append(Step(f"load {CRM_FILE} into the live CIB", ("crm", "configure", "load", "update", CRM_FILE),
                              (CRM_FILE, new)))
        else:
            notes.append(f"Pacemaker does not run here: it reads the new {CRM_FILE} when "
                         "`uec-clc-ha-ctl cluster-init` loads it")
    if COROSYNC_CONF in differs:
        if system.run(["corosync-cfgtool", "-s"], rcs=None, timeout=15).rc == 0:
            steps.append(Step("corosync re-reads corosync.conf on every node", ("corosync-cfgtool", "-R"),
                              (COROSYNC_CONF, differs[COROSYNC_CONF].new.content)))
        else:
            notes.append("corosync does not run here: it reads the new corosync.conf when it starts")
    res = drbd_path(config)
    if res in differs:
        if drbd_state.role(system, config.drbd_resource) != "Unconfigured":
            steps.append(Step(f"DRBD {config.drbd_resource} takes the new configuration",
                              ("drbdadm", "adjust", config.drbd_resource), (res, differs[res].new.content)))
        else:
            notes.append(f"DRBD {config.drbd_resource} is not up here: it reads the new file when it is brought up")
    return steps, notes


def show(out, system, changes, steps, notes, dry_run):
    crm = next((c for c in changes if c.path == CRM_FILE), None)
    if crm is not None and any(s.argv[:2] == ("crm", "configure") for s in steps):
        print(crm_diff(_loaded_text(system, crm), crm.new.content.decode("utf-8", "replace")), file=out, end="")
    for s in steps:
        print(f"{'would run' if dry_run else 'running'}: {' '.join(s.argv)}  ({s.what})", file=out)
    for n in notes:
        print(n, file=out)


def run(system, steps):
    for s in steps:
        system.run(list(s.argv), timeout=300, env={"HOME": "/root"})
        if s.applies:
            record(system, *s.applies)
