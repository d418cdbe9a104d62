"""The cluster stack's units as they were before uec-clc-ha first changed them, so purge can put them back.

Called right before a change by every place that enables, disables, starts
or stops a unit of the cluster stack: cluster-init's stages
(uec_clc_ha.cluster.cluster_init: corosync, pacemaker, sbd,
corosync-qdevice, DRBD's drbd.service; adopt runs the same stages and
records its stop of the hand-built stack) and the steps of a live apply
(uec_clc_ha.cluster.live_apply.run: sbd, corosync-qdevice).  debian/postrm
reads the record on purge, in sh since the package's Python is gone by then:
it stops what did not run before and enables or disables each unit back,
the way uec_clc_ha.host.boot puts Eucalyptus' boot start-up back on remove.

/var/lib/uec-clc-ha/cluster-units holds one line per unit,
"UNIT ENABLED-WORD ACTIVE-WORD", as the unit was the first time uec-clc-ha
was about to change it.  A unit already recorded is never recorded again,
so its line keeps the state from before uec-clc-ha whatever cluster-init,
apply or the admin did since.  The words:

  enabled word  what `systemctl --root=ROOT is-enabled UNIT` says: offline
                (it reads the unit files), so it answers with or without a
                running systemd, in a chroot too; Debian's systemctl and
                update-rc.d keep an init script's links in step with it.
                Without systemctl: "enabled" or "disabled" by the init
                script's S links in rc2.d..rc5.d.  "unknown" when neither
                says (no such unit).
  active word   what `systemctl is-active UNIT` says where systemd runs;
                elsewhere "active" or "inactive" as `service NAME status`
                says, the way cluster-init asks on such a host.
"""

import re

from uec_clc_ha.errors import UecError
from uec_clc_ha.host.paths import CLUSTER_UNITS

RECORD = CLUSTER_UNITS
HEADER = ("# Written by uec-clc-ha: the cluster stack's units as they were before uec-clc-ha first changed them\n"
          "# (UNIT, then what `systemctl is-enabled` and `systemctl is-active` said); purge puts them back.\n")
WORD = re.compile(r"[a-z][a-z-]*")
UNKNOWN = "unknown"


def recorded(system):
    """{unit: (enabled word, active word)} as recorded ({} when nothing is)."""
    data = system.read_or_none(RECORD)
    found = {}
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) == 3 and not fields[0].startswith("#"):
            found.setdefault(fields[0], (fields[1], fields[2]))
    return found


def note(system, *units):
    """Record each unit as it is now unless it is recorded already; call before changing it.

    Returns the lines added, as (unit, enabled word, active word).
    """
    have = recorded(system)
    new = [(unit, *words(system, unit)) for unit in dict.fromkeys(units) if unit not in have]
    if not new:
        return []
    text = (system.read_or_none(RECORD) or HEADER.encode()).decode("utf-8", "replace")
    if not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{unit} {enabled} {active}\n" for unit, enabled, active in new)
    system.write_atomic(RECORD, text, mode=0o644)
    return new


def words(system, unit):
    """(enabled word, active word) of ``unit`` now."""
    return _enabled_word(system, unit), _active_word(system, unit)


def _word(text):
    first = text.strip().split("\n", 1)[0].strip()
    return first if WORD.fullmatch(first) else UNKNOWN


def _enabled_word(system, unit):
    try:
        if system.which("systemctl"):
            done = system.run(["systemctl", f"--root={system.root}", "is-enabled", unit], rcs=None, timeout=30)
            return _word(done.stdout)
    except UecError:
        return UNKNOWN
    name = unit.removesuffix(".service")
    if not system.exists(f"/etc/init.d/{name}"):
        return UNKNOWN
    return "enabled" if sysv_enabled(system, name) else "disabled"


def _active_word(system, unit):
    try:
        if system.exists("/run/systemd/system"):
            return _word(system.run(["systemctl", "is-active", unit], rcs=None, timeout=30).stdout)
        name = unit.removesuffix(".service")
        if not system.exists(f"/etc/init.d/{name}"):
            return "inactive"
        done = system.run(["service", name, "status"], rcs=None, timeout=30, in_root=True)
        return "active" if done.rc == 0 else "inactive"
    except UecError:
        return UNKNOWN


def sysv_enabled(system, name):
    """True when the init script ``name`` starts in one of the multi-user runlevels (an S link in rc2.d..rc5.d)."""
    for level in "2345":
        if any(re.fullmatch(rf"S\d\d{re.escape(name)}", link) for link in system.listdir(f"/etc/rc{level}.d")):
            return True
    return False
