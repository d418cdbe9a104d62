"""Whether this node is, or ever was, one of a running pair: what the prerm asks before the agent goes.

Called by uec_clc_ha.maint.remove (the prerm: may the agent go from a node
whose CIB uses it?) through verdict(); and, to keep the evidence, through
note() by what sees the pair formed on its way: cluster-init's membership
stage (adopt's too), `uec-clc-ha-ctl apply` and the postinst on a
configure (uec_clc_ha.maint.configure).

A node is one of a running pair now when the cluster runs something of the
cloud's on it, when crm_mon shows its peer online or its partition quorate,
or when crm_node (the controller's and corosync's view, which needs no DC)
says the partition is quorate or the peer is a member.  It was one when
there is evidence that outlives the pair:

  /var/lib/uec-clc-ha/paired   written the first time uec-clc-ha sees this
                               node and its peer members of a quorate
                               partition (note())
  the CIB's node attributes    uec-clc-ha-paired, written by note() for its
                               own node; the peer's uec-clc-ha-settings,
                               -disk-bytes and -release (doctor publishes
                               them): only a peer that shared this CIB can
                               have put its own there, so the node that
                               was installed first learns it from its
                               peer's cluster-init
  the CIB's stamp              naming the peer as the node that loaded it
                               (cluster.live_apply)

A node installed alone whose peer never came (the default answers: the
postinst starts the cluster, and with two_node's wait_for_all it never has
quorum) has none of these: nothing of the cloud's could ever start there,
so the agent can go.  When crm_node or the CIB does not answer, the verdict
is "unsure", and the prerm refuses as it always did.
"""

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from uec_clc_ha.cluster import node_facts
from uec_clc_ha.cluster.live_apply import STAMP, STAMP_SET
from uec_clc_ha.errors import UecError
from uec_clc_ha.host.paths import DISK_ATTR, PAIRED, PAIRED_ATTR, RELEASE_ATTR, SETTINGS_ATTR

ALONE, PAIR, UNSURE = "alone", "pair", "unsure"
# Node attributes only the node they describe writes (doctor's, and note()'s own).
OWN_WORDS = (PAIRED_ATTR, SETTINGS_ATTR, DISK_ATTR, RELEASE_ATTR)


@dataclass(frozen=True)
class Membership:
    """What crm_node says: every node it knows with its state ("member", "lost"), and the partition's quorum."""

    nodes: dict
    quorate: bool

    @property
    def members(self):
        return sorted(n for n, state in self.nodes.items() if state == "member")


@dataclass(frozen=True)
class Verdict:
    state: str            # ALONE, PAIR or UNSURE
    reason: str           # one clause saying why


def membership(system):
    """Membership as crm_node -l and -q give it, or None when they do not answer (no Pacemaker here)."""
    try:
        listed = system.run(["crm_node", "-l"], rcs=None, timeout=15)
        quorum = system.run(["crm_node", "-q"], rcs=None, timeout=15)
    except UecError:
        return None
    word = quorum.stdout.strip()
    if listed.rc != 0 or quorum.rc != 0 or word not in ("0", "1"):
        return None
    nodes = {fields[1]: fields[2] for fields in (line.split() for line in listed.stdout.splitlines())
             if len(fields) >= 3}
    return Membership(nodes, word == "1") if nodes else None


def note(system, local, seen=None):
    """Keep the evidence when ``local`` and its peer are members of a quorate partition; True when they are.

    ``seen``: the Membership just read (read here when None).  The marker
    file is written once; the node attribute uec-clc-ha-paired is set for
    this node when the CIB does not have it yet (a failure to set it is
    left for the next time).
    """
    seen = membership(system) if seen is None else seen
    if seen is None or not seen.quorate or local not in seen.members:
        return False
    peers = [n for n in seen.members if n != local]
    if not peers:
        return False
    if system.read_or_none(PAIRED) is None:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        system.write_atomic(PAIRED, f"# Written by uec-clc-ha: this node and its peer were members of a quorate "
                                    f"partition (the prerm reads it).\n{when}: {local} with {' '.join(peers)}\n",
                            mode=0o644)
    try:
        if node_facts.published(system, local, PAIRED_ATTR) is None:
            system.run(["crm_attribute", "--type", "nodes", "--node", local, "--name", PAIRED_ATTR, "--update",
                        " ".join(peers)], rcs=None, timeout=30)
    except UecError:
        pass
    return True


def verdict(system, local, view):
    """Is ``local`` one of a running pair now (PAIR), was it (PAIR), never (ALONE), or can't it be told (UNSURE)?

    ``view``: crm_mon's View of the cluster, which runs here.
    """
    here = sorted({r.id for r in view.resources if local in r.nodes and not r.agent.startswith("stonith:")})
    if here:
        return Verdict(PAIR, f"the cluster runs {', '.join(here)} here")
    online = sorted(n for n, s in view.nodes.items() if n != local and (s.get("online") or s.get("pending")))
    if online:
        return Verdict(PAIR, f"{online[0]} is online in this node's cluster")
    if view.quorate:
        return Verdict(PAIR, "the cluster has quorum")
    seen = membership(system)
    if seen is None:
        return Verdict(UNSURE, "crm_node does not say which nodes are members and whether there is quorum")
    if seen.quorate:
        return Verdict(PAIR, "this node's partition has quorum")
    peers = [n for n in seen.members if n != local]
    if peers:
        return Verdict(PAIR, f"{peers[0]} is a member of this node's partition")
    marker = system.read_or_none(PAIRED)
    if marker is not None:
        lines = [ln for ln in marker.decode("utf-8", "replace").splitlines() if ln and not ln.startswith("#")]
        return Verdict(PAIR, f"{PAIRED} records that it formed the pair ({lines[-1] if lines else 'no date'})")
    cib = _configuration(system)
    if cib is None:
        return Verdict(UNSURE, "the CIB does not answer (cibadmin -Q)")
    others = (set(view.nodes) | set(seen.nodes)) - {local}
    for node in cib.iterfind("nodes/node"):
        name = node.get("uname") or node.get("id")
        words = sorted({nv.get("name") for nv in node.iterfind("instance_attributes/nvpair")} & set(OWN_WORDS))
        if name != local and words:
            return Verdict(PAIR, f"{name} wrote its {words[0]} into this node's CIB, which only a node that "
                                 "shared it can")
        if name == local and PAIRED_ATTR in words:
            return Verdict(PAIR, f"the CIB records that {local} formed the pair ({PAIRED_ATTR})")
    for nv in cib.iterfind(f"crm_config/cluster_property_set[@id='{STAMP_SET}']/nvpair[@name='{STAMP}']"):
        loaded_on = dict(w.split("=", 1) for w in (nv.get("value") or "").split()[1:] if "=" in w).get("node")
        if loaded_on in others:
            return Verdict(PAIR, f"the CIB was loaded on {loaded_on} (its stamp {STAMP})")
    peer = " or ".join(sorted(others)) or "its peer"
    return Verdict(ALONE, f"{local} never formed a pair with {peer}: no quorum, {peer} not a member, nothing of "
                          f"the cloud's runs here, and neither {PAIRED} nor the CIB records a pair")


def _configuration(system):
    """The CIB's configuration section as an element, or None when the CIB does not answer."""
    try:
        done = system.run(["cibadmin", "-Q", "-o", "configuration"], rcs=None, timeout=60)
    except UecError:
        return None
    if done.rc != 0 or not done.stdout.strip():
        return None
    try:
        return ET.fromstring(done.stdout)
    except ET.ParseError:
        return None
