"""A systemd unit's state on this (live) host: enabled at boot, running.

Called by the cluster code whenever it decides whether to enable, start or
stop a unit of the cluster stack: cluster_init's stages (corosync,
pacemaker, sbd, corosync-qdevice), uec_clc_ha.cluster.sbd (whether the CIB
may fence through the disk yet) and uec_clc_ha.cluster.quorum_device (the
arbiter's corosync-qdevice).  Boot start-up of Eucalyptus, which must work on
a root other than /, is uec_clc_ha.host.boot's.
"""

# `systemctl is-enabled` words for a unit that needs no `systemctl enable`: it is enabled, or it cannot be
# (static units start through another unit; an alias follows its target).
NEEDS_NO_ENABLE = ("enabled", "enabled-runtime", "static", "alias")
# `systemctl is-active` words for a unit that runs or is being (re)started: systemd restarts it on its own.
UP = ("active", "activating", "reloading")


def enabled_word(system, unit):
    """What `systemctl is-enabled` says of ``unit`` ("enabled", "disabled", "static", ... or "" without one)."""
    return system.run(["systemctl", "is-enabled", unit], rcs=None, timeout=30).stdout.strip()


def enabled(system, unit):
    """True when ``unit`` is enabled at boot (by `systemctl enable`, which `disable` undoes)."""
    return enabled_word(system, unit) == "enabled"


def active(system, unit, starting=False):
    """True when ``unit`` runs; with ``starting``, also while systemd starts or restarts it."""
    word = system.run(["systemctl", "is-active", unit], rcs=None, timeout=30).stdout.strip()
    return word in UP if starting else word == "active"
