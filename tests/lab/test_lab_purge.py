"""Purging the package from the passive node of a live pair, then joining it again from a token.

The lab's nodes met Debian's own cluster at install (lablib.pair.debian_stack:
corosync's one-node cluster "debian", node1 in Pacemaker's CIB) and the
install replaced it.  With a client writing through the VIP: the passive
node in standby, `apt-get purge uec-clc-ha` there goes ahead; it stops the
pair's corosync and Pacemaker on that node, removes the pair's CIB, puts
Debian's CIB and corosync.conf back and starts the stack again on them, as
the node was before uec-clc-ha.  The active node serves throughout and
fences nobody (a clean leave).  Then the node joins again the way a new
second node does: the serving node's `uec-clc-ha-ctl join-token`, the
secret and its own yes to its steps through debconf, `apt-get install`: its
install replaces Debian's cluster again, its drbd-init keeps the DRBD
metadata its disk still carries (a former replica, whose filesystem is no
foreign data), DRBD resyncs what changed while it was away, and the pair is
back to normal with every acknowledged record.
"""

import re

import pytest

from lablib import config, pair as lab_pair, scenario, state
from lablib.observe import now, wait_for
from lablib.scenario import Writer

# make lab-test's first pass (the default pair); make test leaves it out (CI's time limit)
pytestmark = pytest.mark.lab_extended



def _cib_nodes(lab, node):
    done = lab.exec(node, "cibadmin", "-Q", "-o", "nodes", "--local", check=False, timeout=60)
    return sorted(re.findall(r'uname="([^"]+)"', done.stdout)) if done.rc == 0 else None


def test_purge_of_the_passive_node_gives_it_back_to_debian_and_it_joins_again_from_a_token(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    node = config.peer(active)
    pair_name = lab_pair.cluster_name(active)
    fenced_before = scenario.fence_events(pair, active)
    writer = Writer(pair, "purge")
    writer.start()
    writer.wait_acked()
    t0 = now()
    pair.exec(node, "crm", "node", "standby", timeout=120)     # crmsh 5 skips a node other than the local one
    wait_for(f"nothing running on {node}", lambda: not [
        r for r in pair.view(active).resources if node in r.nodes], 300, step=2)
    done = pair.exec(node, "apt-get", "purge", "-y", "uec-clc-ha", timeout=900)
    said = done.stdout + done.stderr
    print(f"\n--- apt-get purge uec-clc-ha on {node}\n" +
          "\n".join(line for line in said.splitlines() if line.startswith("uec-clc-ha: ")))
    assert not scenario.installed(pair, node)
    for line in ("removed this pair's CIB from /var/lib/pacemaker/cib",
                 "the CIB of the cluster that ran here before uec-clc-ha is back in /var/lib/pacemaker/cib",
                 "started corosync again, as it ran before uec-clc-ha",
                 "started pacemaker again, as it ran before uec-clc-ha"):
        assert f"uec-clc-ha: {line}" in said, said[-3000:]
    # the node runs Debian's cluster again, on its own files; nothing of the pair's is left in its CIB
    assert lab_pair.cluster_name(node) == lab_pair.DEBIAN_CLUSTER
    wait_for(f"Debian's node1 alone in {node}'s CIB", lambda: _cib_nodes(pair, node) == ["node1"], 300, step=3)
    cib = pair.exec(node, "cibadmin", "-Q", "--local", timeout=60).stdout
    assert "eucaclc" not in cib and pair_name not in cib
    for unit in ("corosync.service", "pacemaker.service"):
        assert pair.exec(node, "systemctl", "is-enabled", unit, check=False).stdout.strip() == "enabled", unit
    assert pair.exec(node, "systemctl", "is-enabled", "corosync-qdevice.service",
                     check=False).stdout.strip() != "enabled"
    assert not pair.exec(node, "ls", "/var/lib/pacemaker/", timeout=60).stdout.count("before-uec-clc-ha")
    # the other node served throughout, saw its peer leave and fenced nobody
    writer.wait_acked(5)
    assert pair.active(active) == active
    assert not pair.view(active).nodes[node]["online"]
    # joined again from the serving node's token, as a new second node
    token = pair.exec(active, "uec-clc-ha-ctl", "join-token", timeout=120).stdout.strip()
    given = lab_pair.join_preseed(node, token, state.load()["secret"])
    pair.exec(node, "debconf-set-selections", stdin=given, timeout=60)
    done = lab_pair.install_deb(node, state.load()["ours"], 1800)
    installed = done.stdout + done.stderr
    assert f"corosync runs the cluster {lab_pair.DEBIAN_CLUSTER!r}" in installed, installed[-3000:]
    assert "it is the CIB of the cluster 'debian'" in installed, installed[-3000:]
    assert "already carries DRBD metadata (a former replica): kept" in installed, installed[-3000:]
    assert scenario.installed(pair, node)
    scenario.restore(pair)
    assert pair.active(active) == active
    assert _cib_nodes(pair, node) == sorted(config.NODES)
    writer.wait_acked()
    writer.finish()
    assert scenario.fence_events(pair, active) == fenced_before
    assert scenario.lost(pair, writer.acked) == []
    print(f"purge on {node} (standby), Debian's cluster back there, joined again from a token: {active} served "
          f"throughout (longest client gap {writer.longest_gap(t0):.1f} s); {len(writer.acked)} records, none lost")
