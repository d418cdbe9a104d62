"""What SBD, the shared-disk fencing, is doing on this node and what its peer said about itself.

Called by cluster-init (the header it writes or checks) and by live_apply
(whether the CIB may fence through the SBD disk yet).  A poison pill that no
sbd reads "succeeds" after msgwait: st_sbd must not enter the CIB before sbd
runs on both nodes.  sbd starts only with corosync (sbd.service refuses a
manual start), so each node tells the other through a transient node
attribute (ATTRIBUTE, "1" while its sbd runs) that `apply` and cluster-init
set; it goes when the node leaves the cluster.
"""

import re

from uec_clc_ha.cluster import node_word
from uec_clc_ha.host import units

ATTRIBUTE = "uec-clc-ha-sbd"


def header(system, device):
    """(watchdog, msgwait) timeouts of the device's SBD header, or None when it has none."""
    done = system.run(["sbd", "-d", device, "dump"], rcs=None, timeout=30)
    return parse_header(done.stdout) if done.rc == 0 else None


def parse_header(dump):
    """(watchdog, msgwait) from the text of `sbd dump`, or None when it shows no header (also the lab's reader)."""
    found = dict(re.findall(r"^Timeout \((\w+)\)\s*:\s*(\d+)", dump, re.M))
    if "watchdog" not in found or "msgwait" not in found:
        return None
    return int(found["watchdog"]), int(found["msgwait"])


def active(system):
    return units.active(system, "sbd.service")


def enabled(system):
    return units.enabled(system, "sbd.service")


def publish_argv(system, node, running):
    """The command that tells the peer whether sbd runs on ``node`` (this node), or None when it said so already."""
    if said(system, node) == running:
        return None
    return node_word.tell_argv(ATTRIBUTE, "1" if running else "0")


def said(system, node):
    """What ``node`` last said about its sbd: True (it runs), False, or None (nothing since it joined)."""
    return node_word.flag(system, node, ATTRIBUTE)


def reads_slot(system, device, node, msgwait):
    """True when an sbd reads ``node``'s slot on the device now.

    `sbd ping` writes a test message into the slot and waits up to msgwait
    for it to go: a running sbd clears it within a second, a stopped one never
    does (the message stays until the slot is written again).  sbd's exit
    status says nothing (ping always exits 0): the slot, read back with `sbd
    list`, does.  A node without a slot has no sbd reading one; anything but
    the test message left there counts as read.
    """
    system.run(["sbd", "-d", device, "ping", node], rcs=None, timeout=msgwait + 60)
    message = slot_message(system, device, node)
    return message is not None and message != "test"


def slot_message(system, device, node):
    """The message in ``node``'s slot ("clear", "test", "reset", ...), or None when it has no slot."""
    done = system.run(["sbd", "-d", device, "list"], rcs=None, timeout=30)
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == node:
            return fields[2]
    return None
