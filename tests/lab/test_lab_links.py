"""One link of the active node cut: the public one (scenario 4) and the replication one (scenario 10).

Records are written through the VIP from the client namespace throughout;
every acknowledged record must be there afterwards.  A cut link is the
VM's tap set down in the lab's namespace (lablib.net): nothing the guest
does can reach the other side.
"""

import pytest

from lablib import config, scenario
from lablib.observe import now, wait_for
from lablib.scenario import Writer


def _pingd(lab, node, of):
    done = lab.exec(node, "attrd_updater", "--query", "--name", "pingd", "--node", of, timeout=60, check=False)
    value = done.stdout.rsplit("value=", 1)[-1].strip().strip('"') if "value=" in done.stdout else ""
    return int(value) if value.isdigit() else None


@pytest.mark.lab_extended        # 208-279 s of make test (2026-12-07): make lab-test runs it
def test_public_link_cut_moves_the_cloud_without_fencing_and_nothing_moves_back(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    peer = config.peer(active)
    fenced_before = scenario.fence_events(pair, peer)
    boots = {n: scenario.boot_id(pair, n) for n in config.NODES}
    writer = Writer(pair, "public-cut")
    writer.start()
    writer.wait_acked()
    t0 = now()
    pair.link(active, "public", False)
    wait_for(f"the group running on {peer}", lambda: pair.active(peer) == peer, 300, step=2)
    wait_for("the VIP serving from the peer", pair.serving, 300, step=2)
    moved = now() - t0
    writer.wait_acked()
    # the replication link carries corosync: one quorate cluster, both nodes online, DRBD connected
    for node in config.NODES:
        view = pair.view(node)
        assert view.quorate and all(v["online"] for v in view.nodes.values()), (node, view.nodes)
        assert pair.drbd(node)[0] == "Connected" and pair.drbd(node)[2] == "UpToDate/UpToDate"
    assert pair.drbd(peer)[1] == "Primary/Secondary"
    pair.link(active, "public", True)
    wait_for(f"{active} reaching the ping host again", lambda: (_pingd(pair, peer, active) or 0) > 0, 120, step=2)
    scenario.settled(pair, peer)
    assert pair.active(peer) == peer and pair.active(active) == peer       # stickiness: nothing moves back
    writer.wait_acked()
    writer.finish()
    assert scenario.fence_events(pair, peer) == fenced_before, "a link cut must not fence anyone"
    assert {n: scenario.boot_id(pair, n) for n in config.NODES} == boots
    assert scenario.lost(pair, writer.acked) == []
    assert not any(scenario.split_brain_seen(pair, n) for n in config.NODES)
    print(f"\npublic link of {active} cut: the cloud served from {peer} after {moved:.1f} s "
          f"(client outage {writer.longest_gap(t0):.1f} s); {len(writer.acked)} records acknowledged, none lost")


@pytest.mark.lab_extended        # 150-200 s of make test (2026-12-07): make lab-test runs it
def test_replication_link_cut_outdates_the_peer_and_the_cloud_keeps_serving(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    peer = config.peer(active)
    fenced_before = scenario.fence_events(pair, active)
    writer = Writer(pair, "replication-cut")
    writer.start()
    writer.wait_acked()
    since = scenario.cursor(pair, active)
    t0 = now()
    pair.link(active, "replication", False)
    # DRBD disconnects; the fence-peer handler forbids promoting the peer and the peer's disk counts as Outdated
    wait_for("DRBD disconnected on the active node", lambda: pair.drbd(active)[0] != "Connected", 120, step=2)
    wait_for("the fence-peer constraint in the CIB", lambda: scenario.fence_constraints(pair, peer), 120, step=2)
    wait_for("the peer's disk marked Outdated", lambda: pair.drbd(active)[2] == "UpToDate/Outdated", 120, step=2)
    writer.wait_acked(5)                                     # the cloud keeps serving, writes land on the primary
    assert pair.active(peer) == active and pair.active(active) == active
    assert pair.view(peer).quorate                           # corosync keeps the pair over the public link
    held = now() - t0
    assert scenario.out_of_sync_kib(pair, active) > 0        # the writes the peer has not seen
    pair.link(active, "replication", True)
    wait_for("DRBD connected and UpToDate on both again", lambda: all(
        pair.drbd(n)[0] == "Connected" and pair.drbd(n)[2] == "UpToDate/UpToDate" for n in config.NODES), 600, step=2)
    wait_for("the fence-peer constraint removed after the resync", lambda: not scenario.fence_constraints(pair, peer),
             120, step=2)
    writer.wait_acked()
    writer.finish()
    assert pair.active(active) == active
    assert scenario.fence_events(pair, active) == fenced_before, "a replication cut must not fence anyone"
    assert scenario.lost(pair, writer.acked) == []
    assert scenario.verify(pair, active) == 0                # both copies identical, block by block
    assert not any(scenario.split_brain_seen(pair, n) for n in config.NODES)
    # the handler saw the peer reachable over the public link: "outdated" (4), not "unreachable, assumed dead"
    # (5), which drbd-utils 9.22 concluded under Pacemaker 3 after waiting its whole timeout with I/O frozen
    verdicts = [line for _, line in scenario.after(pair, active, since, r"fence-peer helper returned")]
    assert verdicts and all("returned 4 " in v for v in verdicts), verdicts
    print(f"\nreplication link of {active} cut for {held:.1f} s: served throughout (longest client gap "
          f"{writer.longest_gap(t0):.1f} s), peer outdated and resynced; {len(writer.acked)} records, none lost")

