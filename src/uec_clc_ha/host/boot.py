"""Take Eucalyptus out of boot start-up (the recipe's step 5.3), and put it back exactly.

Called by the maintainer helpers: on configure when the admin agreed
(uec-clc-ha/disable-boot-startup, default yes), and on remove (and on
configure when the answer became no) to restore.  Every init system present
on the root is handled, and only for the services that are installed:

- sysv: `update-rc.d NAME disable` (the rc links become K links);
- systemd: `systemctl --root=ROOT disable` (not mask, so a `systemd:`
  cluster resource can still start the unit);
- upstart >= 1.3: an /etc/init/NAME.override holding `manual`; older
  upstart has no overrides and its job files are conffiles of the
  eucalyptus packages, so the admin is told what to do instead.

Exactly what was changed is recorded in /var/lib/uec-clc-ha/boot-startup.json
(one record per change, with an override's previous content), so restore
undoes that and nothing else.
"""

import io
import json
import re

from debian.deb822 import Deb822

from uec_clc_ha.host import unit_record
from uec_clc_ha.host.paths import BOOT_STATE

SERVICES = ("eucalyptus-cloud", "eucalyptus", "eucalyptus-network", "image-store-proxy")
STATE = BOOT_STATE
UNIT_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
OVERRIDE = "manual\n"
OVERRIDE_HEADER = "# Written by uec-clc-ha: the cluster starts this job (removed with the package).\n"


def load_state(system):
    data = system.read_or_none(STATE)
    return json.loads(data) if data else []


def save_state(system, records):
    if not records:
        system.remove(STATE)
        return
    system.write_atomic(STATE, json.dumps(records, indent=1) + "\n", mode=0o644)


def _upstart_version(system):
    """The installed upstart's version as a tuple, or None (from the root's dpkg status)."""
    data = system.read_or_none("/var/lib/dpkg/status")
    if not data:
        return None
    for para in Deb822.iter_paragraphs(io.StringIO(data.decode("utf-8", "replace"))):
        if para.get("Package") == "upstart" and "installed" in para.get("Status", ""):
            nums = re.findall(r"\d+", para.get("Version", "").split(":")[-1])[:2]
            return tuple(int(n) for n in nums) if nums else None
    return None


def disable(system, log):
    """Disable every installed service's boot start-up; returns the records of what changed."""
    records = load_state(system)
    done = {(r["System"], r["Service"]) for r in records}
    upstart = _upstart_version(system)
    for name in SERVICES:
        if system.exists(f"/etc/init.d/{name}") and ("sysv", name) not in done \
                and unit_record.sysv_enabled(system, name):
            system.run(["update-rc.d", name, "disable"], in_root=True)
            records.append({"System": "sysv", "Service": name, "Action": "update-rc.d disable"})
            log(f"boot start-up of {name} disabled (sysv)")
        unit = f"{name}.service"
        if any(system.exists(f"{d}/{unit}") for d in UNIT_DIRS) and ("systemd", name) not in done \
                and system.which("systemctl"):
            state = system.run(["systemctl", f"--root={system.root}", "is-enabled", unit], rcs=None).stdout.strip()
            if state == "enabled":
                system.run(["systemctl", f"--root={system.root}", "disable", unit])
                records.append({"System": "systemd", "Service": name, "Action": "systemctl disable"})
                log(f"boot start-up of {name} disabled (systemd)")
        job = f"/etc/init/{name}.conf"
        if system.exists(job) and ("upstart", name) not in done:
            override = f"/etc/init/{name}.override"
            if upstart is not None and upstart < (1, 3):
                log(f"upstart {'.'.join(map(str, upstart))} has no .override files: to keep {name} from "
                    f"starting at boot, change its 'start on' stanza in {job} to 'stop on' by hand "
                    "(that file belongs to the eucalyptus packages, so uec-clc-ha does not edit it)")
                continue
            old = system.read_or_none(override)
            if old is not None and b"manual" in old.split():
                continue
            system.write_atomic(override, OVERRIDE_HEADER + OVERRIDE, mode=0o644)
            record = {"System": "upstart", "Service": name, "Action": "override manual"}
            if old is not None:
                record["Previous"] = old.decode("utf-8", "replace")
            records.append(record)
            log(f"boot start-up of {name} disabled (upstart override)")
    save_state(system, records)
    return records


def restore(system, log):
    """Undo exactly what disable() recorded; returns what was restored."""
    records = load_state(system)
    for r in reversed(records):
        name = r["Service"]
        if r["System"] == "sysv":
            if system.exists(f"/etc/init.d/{name}"):
                system.run(["update-rc.d", name, "enable"], in_root=True)
        elif r["System"] == "systemd":
            if any(system.exists(f"{d}/{name}.service") for d in UNIT_DIRS):
                system.run(["systemctl", f"--root={system.root}", "enable", f"{name}.service"])
        elif r["System"] == "upstart":
            override = f"/etc/init/{name}.override"
            previous = r.get("Previous")
            if previous is None:
                system.remove(override)
            else:
                system.write_atomic(override, previous, mode=0o644)
        log(f"boot start-up of {name} restored ({r['System']})")
    save_state(system, [])
    return records
