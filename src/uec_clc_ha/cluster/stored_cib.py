"""The CIB stored on this node's disk, read while Pacemaker does not run: its maintenance mode, whose it is.

Called by cluster.cluster_init: its drbd stage asks whether the stored CIB
is in maintenance mode (in_maintenance), its stack stage, right before it
starts corosync and Pacemaker, whether another cluster left it (whose) and
sets such a CIB aside (set_aside).

Debian's pacemaker package starts Pacemaker when it is installed, on
corosync's own one-node cluster "debian" (node1 on localhost); its CIB,
kept in /var/lib/pacemaker/cib, names that cluster and node1.  Pacemaker
would start this pair's cluster from it: node1 would stay in the node list
as a member that never comes.  crmsh's `crm cluster init` removes every
file of the CIB directory before it starts a new cluster; here the files
are kept, and put back on purge.  A CIB that
holds resources is never set aside (this pair's own, whatever its cluster
name, or a cluster built by hand, which cluster_init's foreign stage and
`adopt` deal with); one without any is moved whole, with its backups, to
/var/lib/uec-clc-ha/replaced/pacemaker-cib (host.paths.SAVED_CIB), where
debian/postrm finds it on purge and puts it back.
"""

import os
import xml.etree.ElementTree as ET

from uec_clc_ha.host.paths import PACEMAKER_CIB, SAVED_CIB

CIB_DIR = os.path.dirname(PACEMAKER_CIB)
TRUE = ("true", "yes", "on", "y", "1")


def read(system):
    """The stored CIB's root element; None without one, or with one that does not parse (torn: Pacemaker
    itself falls back to its backups of it)."""
    text = system.read_or_none(PACEMAKER_CIB)
    if text is None:
        return None
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        return None


def in_maintenance(system):
    """True when the CIB Pacemaker will start from here has maintenance-mode on."""
    root = read(system)
    return root is not None and any(
        (nv.get("value") or "").lower() in TRUE
        for nv in root.iterfind("configuration/crm_config/cluster_property_set/nvpair[@name='maintenance-mode']"))


def whose(system, cluster_name, nodes):
    """Why the CIB stored here belongs to another cluster, or None: no CIB, one with resources, or this pair's.

    ``nodes``: this pair's node names."""
    root = read(system)
    if root is None:
        return None
    if root.find("configuration/resources/*") is not None:
        return None
    named = [nv.get("value") for nv in root.iterfind(
        "configuration/crm_config/cluster_property_set/nvpair[@name='cluster-name']")]
    if named and named[0] and named[0] != cluster_name:
        return f"it is the CIB of the cluster {named[0]!r}"
    others = sorted({n.get("uname") for n in root.iterfind("configuration/nodes/node")} - set(nodes) - {None})
    if others:
        return f"it lists node{'s' if len(others) > 1 else ''} of another cluster ({', '.join(others)})"
    return None


def set_aside(system):
    """Every file of the CIB directory moved to SAVED_CIB (SAVED_CIB.1, .2... when that holds an earlier one:
    the first is what the node had before uec-clc-ha, which purge puts back); the directory it went to."""
    dest, n = SAVED_CIB, 0
    while system.exists(dest):
        n += 1
        dest = f"{SAVED_CIB}.{n}"
    system.makedirs(dest, mode=0o750)
    for name in system.listdir(CIB_DIR):
        system.rename(f"{CIB_DIR}/{name}", f"{dest}/{name}")
    return dest
