"""What each node of a live pair tells the other about itself: transient node attributes.

Called by uec_clc_ha.cluster.sbd (whether sbd runs on a node), by
uec_clc_ha.cluster.quorum_device (which quorum a node's corosync.conf has)
and by uec_clc_ha.cluster.live_apply (whether a node has the fencing probe),
from `apply`, cluster-init and the postinst.  A transient attribute lives in
Pacemaker's attribute manager: every node reads it, and it goes when its node
leaves the cluster, so a node that restarted has said nothing yet.
"""

import re


def said(system, node, name):
    """The value ``node`` last gave the attribute ``name``, or None (nothing since it joined, or no Pacemaker)."""
    done = system.run(["attrd_updater", "-Q", "-n", name, "-N", node], rcs=None, timeout=30)
    found = re.search(r'value="([^"]*)"', done.stdout) if done.rc == 0 else None
    return found.group(1) if found else None


def tell_argv(name, value):
    """The command by which this node gives its attribute ``name`` the value ``value``."""
    return ("attrd_updater", "-n", name, "-U", value)


def flag(system, node, name):
    """A yes/no word ("1" or "0"): True, False, or None when ``node`` has not said."""
    value = said(system, node, name)
    return None if value is None else value == "1"
