"""A pair built by hand after the 2010 recipe, taken over with `uec-clc-ha-ctl adopt` while its cloud serves.

Two fresh VMs become the recipe's pair step by step, without uec-clc-ha
(lablib.recipe.build_by_hand: DRBD created by hand, the data moved with `mv`
and symlinked, corosync defaults, the recipe's CIB with stonith-enabled=false
and no-quorum-policy=ignore).  Then, with a client writing records through
the VIP: uec-clc-ha installed on both with the pair's own names and
addresses and every destructive answer no (doc/adopt.md, "Adopting a pair built by
hand"), the lab's settings set, and `adopt --yes` run on both nodes at once.
Afterwards: the CLC process is the one that ran before (never restarted),
the data directory is the same inode (never copied or moved), DRBD resynced
only what changed while the nodes turned (no full sync, no split brain), the
CIB is uec-clc-ha's (fencing on, the CLC under ocf:ubuntu:eucaclc, no
maintenance mode), the recipe's hand-written files are kept (its DRBD file under
/var/lib/uec-clc-ha/replaced/, its corosync.conf diverted), doctor finds
no failure, every acknowledged record is there, and a planned failover to
the other node and back works on the adopted pair.

The adopted pair is left running: it is a serving uec-clc-ha pair like the
one `labctl up` makes (the session's `pair` fixture takes it down at the end
of a session that brought a lab up; run `make lab-down` otherwise).
"""

import os
import re
import sys

import pytest

from lablib import config, pair as lab_pair, recipe, scenario, state
from lablib.observe import Lab, now
from lablib.scenario import Writer

# Run by `make lab-test` on a pair without the arbiter (proven on two_node pairs; not yet with the
# arbiter); `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]

DATA = "/mnt/uecdata/eucalyptus"
FULL_KIB = config.DRBD_DISK_MIB * 1024


@pytest.fixture(scope="module")
def recipe_pair():
    if os.geteuid() != 0:
        pytest.fail("the VM lab needs root (namespaces, taps, qemu)")
    before = recipe.build_by_hand(sys.stdout)
    return Lab(state.load()), before


def _resync_kib(lab, node):
    """KiB of every resync node's kernel began (DRBD 8.4: "Began resync as SyncSource (will sync N KB ...")."""
    text = lab.sh(node, "journalctl -k --no-pager -b", timeout=60).stdout
    return [int(n) for n in re.findall(r"Began resync as Sync\w+ \(will sync (\d+) KB", text)]


def test_a_recipe_pair_is_adopted_without_moving_data_or_restarting_the_cloud(recipe_pair):
    lab, before = recipe_pair
    active = lab.active("clc1")
    assert active, "the recipe's pair does not run the cloud"
    passive = config.peer(active)
    recipe_cib = lab.exec(active, "crm", "configure", "show", timeout=120).stdout
    assert "stonith-enabled=false" in recipe_cib and "no-quorum-policy=ignore" in recipe_cib
    clc_pid = scenario.clc_pid(lab, active)
    inode = lab.sh(active, f"stat -c %i {DATA}/").stdout.strip()
    resyncs_before = {n: len(_resync_kib(lab, n)) for n in config.NODES}
    writer = Writer(lab, "adopt")
    writer.start()
    writer.wait_acked()
    t0 = now()

    secret = state.load()["secret"]
    for node in config.NODES:
        lab.exec(node, "debconf-set-selections", stdin=lab_pair.preseed(node, secret, adopting=True), timeout=60)
        lab_pair.install_deb(node, state.load()["ours"], 1800)
    assert scenario.clc_pid(lab, active) == clc_pid, "installing the package restarted the CLC"
    lab_pair.lab_settings()

    results = {}

    def adopt(node):
        results[node] = lab.exec(node, "uec-clc-ha-ctl", "adopt", "--yes", timeout=3600, check=False)
        with open(os.path.join(config.node_dir(node), "adopt.log"), "w") as fh:
            fh.write(results[node].stdout + results[node].stderr)
    lab_pair.both(adopt)
    print(f"\nadopt on {passive} (exit {results[passive].rc}):\n{results[passive].stdout}{results[passive].stderr}"
          f"\nadopt on {active} (exit {results[active].rc}):\n{results[active].stdout}{results[active].stderr}")
    assert results[active].rc == 0, results[active].stderr
    assert results[passive].rc in (0, 9), results[passive].stderr
    took = now() - t0

    scenario.wait_normal(lab, 900, clean=False)
    assert lab.active(active) == active, "the cloud moved during the adoption"
    assert scenario.clc_pid(lab, active) == clc_pid, "the CLC was restarted"
    assert lab.sh(active, f"stat -c %i {DATA}/").stdout.strip() == inode, "the data directory was replaced"
    cib = lab.exec(active, "crm", "configure", "show", timeout=120).stdout
    assert "stonith-enabled=true" in cib and "no-quorum-policy=ignore" not in cib
    assert "maintenance-mode" not in cib
    assert re.search(r"primitive res_uec ocf:ubuntu:eucaclc", cib)
    for node in config.NODES:
        kept = lab.sh(node, "ls -R /var/lib/uec-clc-ha/replaced/", timeout=60).stdout
        assert "uec-clc.res" in kept, kept                    # the recipe's DRBD file, replaced by adopt
        diverted = lab.sh(node, "cat /etc/corosync/corosync.conf.distrib", timeout=60).stdout
        assert "uec-clc-recipe" in diverted                   # the recipe's corosync.conf, diverted at install
        new = _resync_kib(lab, node)[resyncs_before[node]:]
        assert all(kib < FULL_KIB // 4 for kib in new), f"{node} began a full resync: {new} KiB"
        assert not scenario.split_brain_seen(lab, node)
        pending = lab.exec(node, "uec-clc-ha-ctl", "apply", "--dry-run", timeout=300).stdout
        assert "would " not in pending, f"adopt left {node} with changes to apply:\n{pending}"
        doctor = lab.exec(node, "uec-clc-ha-ctl", "doctor", timeout=600, check=False)
        assert doctor.rc in (0, 1), f"doctor on {node}:\n{doctor.stdout}"

    writer.wait_acked()
    gap = writer.longest_gap(t0)
    assert scenario.lost(lab, before) == [], "records written before HA are gone"

    moved = lab.exec(active, "uec-clc-ha-ctl", "failover", "--yes", timeout=1200, check=False)
    assert moved.rc == 0, moved.stdout + moved.stderr
    assert lab.active(passive) == passive
    back = lab.exec(passive, "uec-clc-ha-ctl", "failover", "--yes", timeout=1200, check=False)
    assert back.rc == 0, back.stdout + back.stderr
    scenario.restore(lab)
    writer.wait_acked()
    writer.finish()
    assert scenario.lost(lab, writer.acked) == []
    print(f"\nadopted in {took:.0f} s; the CLC (PID {clc_pid}) kept running on {active}; client's longest gap "
          f"during the adoption {gap:.1f} s; {len(writer.acked)} records written during it and two planned "
          "failovers, none lost")
