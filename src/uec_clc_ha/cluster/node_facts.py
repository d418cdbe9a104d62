"""What doctor compares between the two nodes: this node's facts, and their publication for the peer.

Called by uec_clc_ha.cluster.doctor (computes them on every run, publishes
them, and reads the peer's), by cluster-init once the CIB answers
(uec_clc_ha.cluster.cluster_init), by `uec-clc-ha-ctl apply` on a live
cluster once it has run (uec_clc_ha.cli.apply: also when it had nothing to
change), and by the postinst where a cluster runs (uec_clc_ha.maint.configure).
So the peer's doctor finds them on a pair that was only installed and
applied, without a doctor run here first.

Three permanent node attributes of this node (the CIB's nodes section: every
node reads them, and they outlive a restart of the node or of the stack, so
the survivor's doctor still compares with a node that is down):

  uec-clc-ha-settings   sha256 of the settings both nodes must share (node
                        names and addresses as an unordered pair) and of
                        the keys derived from the cluster secret: never the
                        secret, never a key.  Computed from the settings
                        file, the one doctor reads: after `set` and `apply`
                        on one node it differs from the other node's until
                        that node has the same change (a difference doctor
                        reports, as it is one).
  uec-clc-ha-disk-bytes the size of this node's DRBD backing disk
                        (`blockdev --getsize64 DRBD-Disk`); absent while
                        it cannot be read (a value from an earlier disk is
                        deleted, so the peer compares with nothing stale)
  uec-clc-ha-release    this node's Debian release and Pacemaker version
                        ("debian=12 pacemaker=2.1.5", "?" for a part it
                        cannot tell): two differ only in the middle of a
                        rolling release upgrade

Only a value that differs from what the CIB holds is written: a steady
pair's apply or doctor writes nothing (each write is a new CIB epoch, and a
peer's crmsh load that patches the CIB it read fails on one).  Publishing
never fails its caller: whatever goes wrong is one line through ``say``.
"""

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass

from uec_clc_ha.config import keyring, pipeline, settings
from uec_clc_ha.errors import CommandFailure, ToolMissing, UecError
from uec_clc_ha.host import paths

DIGEST_ATTR = paths.SETTINGS_ATTR
DISK_ATTR = paths.DISK_ATTR
RELEASE_ATTR = paths.RELEASE_ATTR
ATTRIBUTES = (DIGEST_ATTR, DISK_ATTR, RELEASE_ATTR)
# node-specific settings: compared as the unordered pair of both nodes' values, or not at all
PAIRED = (("Local-Node", "Peer-Node"), ("Local-Address", "Peer-Address"),
          ("Replication-Local-Address", "Replication-Peer-Address"), ("IPMI-Local-Address", "IPMI-Peer-Address"))
PER_NODE = ("DRBD-Disk", "VIP-Interface", "Replication-Interface", "Heartbeat-Mcast-Interface",
            "Replication-Link-Config", "Cluster-Secret")
# why a disk has no size: doctor names each with its fix
DISK_MISSING, DISK_NOT_BLOCK, DISK_UNREADABLE = "missing", "not a block device", "unreadable"


@dataclass(frozen=True)
class Facts:
    """This node's facts.  ``disk_bytes``: the size as blockdev prints it, or None with ``disk_problem`` saying
    why; ``debian``/``pacemaker``: None for what cannot be told."""

    digest: str
    disk_bytes: str
    disk_problem: str
    debian: str
    pacemaker: str

    @property
    def release_word(self):
        return f"debian={self.debian or '?'} pacemaker={self.pacemaker or '?'}"

    def attributes(self):
        """{attribute: value}, None for one that has no value (nothing to publish, a stale one deleted)."""
        return {DIGEST_ATTR: self.digest, DISK_ATTR: self.disk_bytes, RELEASE_ATTR: self.release_word}


def settings_digest(raw, keys):
    """sha256 over what both nodes must share: equal on both nodes of a consistent pair, whichever runs it."""
    shared = {k: v for k, v in raw.items() if k not in PER_NODE and k not in {x for p in PAIRED for x in p}}
    pairs = {f"{a}/{b}": sorted([raw.get(a, ""), raw.get(b, "")]) for a, b in PAIRED}
    nodes = sorted([[raw.get("Local-Node", ""), raw.get("Local-Address", ""), raw.get("Replication-Local-Address", "")],
                    [raw.get("Peer-Node", ""), raw.get("Peer-Address", ""), raw.get("Replication-Peer-Address", "")]])
    key_hashes = [hashlib.sha256(k.encode()).hexdigest() for k in keys.all_text()]
    document = json.dumps({"shared": shared, "pairs": pairs, "nodes": nodes, "keys": key_hashes}, sort_keys=True)
    return hashlib.sha256(document.encode()).hexdigest()


def is_block_device(system, path):
    try:
        return stat.S_ISBLK(os.stat(system.path(path)).st_mode)
    except OSError:
        return False


def _quiet(system, argv, timeout=30):
    """Completed, or None when the tool is missing or timed out."""
    try:
        return system.run(argv, rcs=None, timeout=timeout)
    except (ToolMissing, CommandFailure):
        return None


def disk_size(system, disk):
    """(bytes as text, None) of the DRBD backing disk, or (None, DISK_MISSING | DISK_NOT_BLOCK | DISK_UNREADABLE)."""
    if not system.exists(disk):
        return None, DISK_MISSING
    if not is_block_device(system, disk):
        return None, DISK_NOT_BLOCK
    done = _quiet(system, ["blockdev", "--getsize64", disk])
    size = done.stdout.strip() if done is not None and done.rc == 0 else ""
    return (size, None) if size.isdigit() else (None, DISK_UNREADABLE)


def release(system):
    """This node's (Debian VERSION_ID, Pacemaker version): None for what it cannot tell."""
    text = (system.read_or_none("/etc/os-release") or b"").decode(errors="replace")
    m = re.search(r'^VERSION_ID="?([0-9.]+)"?\s*$', text, re.M)
    done = _quiet(system, ["pacemakerd", "--version"])
    v = re.search(r"^Pacemaker (\S+)", done.stdout, re.M) if done is not None else None
    return (m.group(1) if m else None), (v.group(1) if v else None)


def compute(system, raw, config, keys=None):
    """This node's Facts: ``raw`` the settings as the file holds them, ``config`` validated from them."""
    keys = keys or keyring.derive(config.cluster_secret, config.cluster_name)
    size, problem = disk_size(system, config.drbd_disk)
    debian, pacemaker = release(system)
    return Facts(settings_digest(raw, keys), size, problem, debian, pacemaker)


def published(system, node, name):
    """The value of ``node``'s attribute ``name`` in the CIB, or None (none, or the CIB does not answer)."""
    done = _quiet(system, ["crm_attribute", "--type", "nodes", "--node", node, "--name", name, "--query", "--quiet"])
    return done.stdout.strip() if done is not None and done.rc == 0 and done.stdout.strip() else None


def publish(system, node, facts):
    """Bring ``node``'s (this node's) attributes in line with ``facts``; never raises.

    Returns (written, failed): the attribute names written or deleted, and one
    "NAME: why" for each the CIB did not take.
    """
    written, failed = [], []
    for name, value in facts.attributes().items():
        if published(system, node, name) == value:
            continue
        action = ["--update", value] if value is not None else ["--delete"]
        try:
            system.run(["crm_attribute", "--type", "nodes", "--node", node, "--name", name, *action], timeout=30)
            written.append(name if value is not None else f"{name} removed")
        except UecError as e:
            failed.append(f"{name}: {e}")
    return written, failed


def cib_answers(system):
    """True when this node's CIB answers (the cluster runs here)."""
    done = _quiet(system, ["cibadmin", "-Q", "-o", "nodes"])
    return done is not None and done.rc == 0


def publish_here(system, say, raw=None):
    """Compute this node's facts from its settings (``raw``, else the settings file) and publish them where the
    CIB answers; one line through ``say`` for what was written and for a failure.  Never raises: a pair whose
    facts are not published only has doctor say so on the peer."""
    try:
        if not cib_answers(system):
            return
        raw = raw if raw is not None else pipeline.load_raw(system)
        config = settings.require_valid(raw)
        facts = compute(system, raw, config)
        written, failed = publish(system, config.local_node, facts)
    except UecError as e:
        say(f"this node's facts for doctor not published: {e}")
        return
    except Exception as e:              # a bug must not fail cluster-init, apply or the postinst either
        say(f"this node's facts for doctor not published: unexpected {type(e).__name__}: {e}")
        return
    if written:
        say(f"published for doctor on {config.peer_node}: {', '.join(written)} (node attributes of "
            f"{config.local_node})")
    if failed:
        say(f"not published for doctor on {config.peer_node}: {'; '.join(failed)}")
