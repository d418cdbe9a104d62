"""The arbiter on a live pair: added, lost and found again, a power loss and a partition decided by its vote,
removed; the steps run in order on one pair.

The arbiter host (cc1, lablib.arbiter) is booted and given uec-clc-ha-arbiter
with apt as an admin would (debconf: the pair's name and secret).  Then the
admin's steps on the serving pair, a client writing through the VIP: `set
Arbiter=cc1's address` and `apply` on clc1, then on clc2, then clc1 again.
The first apply must hold corosync's reload, the second reloads both nodes
(clc1's corosync takes its own file then; the third apply notes the CIB):
from then on both count three votes with the arbiter's
(corosync-quorumtool), corosync-qdevice is connected on both
(corosync-qdevice-tool), qnetd on cc1 lists both nodes, and the CIB has no
fencing delay (priority-fencing-delay 0).  The arbiter host's power is cut:
the pair keeps quorum (two votes of three) and the cloud serves; it comes
back and both nodes reconnect.  A power loss of the active node: the
survivor keeps quorum by the arbiter's vote and fences at once.  A full
partition of the active node: it loses the arbiter with its peer, has no
quorum, and its peer fences it without any delay and takes the cloud.
The arbiter host down, then the active node lost as well: the survivor has
one vote of three, runs and fences nothing (the cloud never runs twice) and
keeps its DRBD copy UpToDate (no-quorum-policy=freeze); the arbiter's return
alone does not give it quorum (wait_for_all), the lost node's does.  The
arbiter down, then the passive node lost: the active node keeps the Cloud
Controller with DRBD's I/O held (nothing acknowledged without quorum and
peer), also once the passive is back (wait_for_all);
with the arbiter back too, the same process goes on.  The arbiter down, then the active node lost for good:
`unblock` is refused until the arbiter is back, then lifts the wait, the
lost node is fenced and the cloud starts on the survivor.  Then the arbiter is removed the same way and two_node
returns with the fencing delay.  The administrative steps: the Cloud
Controller keeps its PID, no cloud resource starts or stops, nothing
acknowledged is lost; the client's longest gap is printed.
"""

import json
import time

import pytest

from lablib import arbiter, config, guest, qmp, scenario
from lablib.observe import now, wait_for
from lablib.scenario import Writer

# Run by `make lab-test` on a pair without the arbiter (it adds the arbiter live); `make test` leaves
# it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]


def fencing_delay(lab, node):
    done = lab.exec(node, "crm_attribute", "-t", "crm_config", "-n", "priority-fencing-delay", "-G", "-q",
                    timeout=60, check=False)
    return done.stdout.strip() if done.rc == 0 else None


def voting_with_arbiter(lab):
    quorums = [scenario.quorum(lab, n) for n in config.NODES]
    return all(q["expected"] == 3 and "Qdevice" in q["flags"] for q in quorums) and \
        all(scenario.qdevice_connected(lab, n) for n in config.NODES)


STATE = {}                     # what the steps below hand on: the fencing delay before the arbiter


def _writing_with_arbiter(pair, name):
    """The pair restored and voting with the arbiter, a client writing: (active, survivor, cursor, writer)."""
    scenario.restore(pair)
    wait_for("both nodes voting with the arbiter's vote", lambda: voting_with_arbiter(pair), 300, step=3)
    active = pair.active("clc1")
    survivor = config.peer(active)
    cur = scenario.cursor(pair, survivor)
    writer = Writer(pair, name)
    writer.start()
    writer.wait_acked()
    return active, survivor, cur, writer


def test_1_added_on_the_live_pair(pair):
    out = _Out()
    STATE["delay_before"] = fencing_delay(pair, "clc1")
    arbiter.boot(out)
    arbiter.install(out)
    watch = scenario.Watch(pair, "arbiter-add")
    said = arbiter.add(out)
    assert "run `uec-clc-ha-ctl apply` on clc2" in said["clc1"][0], said["clc1"][0]
    # clc1's last apply only notes: its corosync took its file with clc2's reload (corosync's cmap holds it)
    assert "running: corosync-cfgtool -R" not in said["clc1"][1] and "running: crm" not in said["clc1"][1], \
        said["clc1"][1]
    wait_for("both nodes voting with the arbiter's vote", lambda: voting_with_arbiter(pair), 300, step=3)
    listed = pair.exec(config.ARBITER, "corosync-qnetd-tool", "-lv", timeout=60).stdout
    print(f"\n--- corosync-qnetd-tool -lv on {config.ARBITER}\n{listed}"
          f"--- corosync-qdevice-tool -sv on clc1\n"
          f"{pair.exec('clc1', 'corosync-qdevice-tool', '-sv', timeout=60, check=False).stdout}"
          f"--- corosync-quorumtool -s on clc1\n{scenario.quorum(pair, 'clc1')['text']}")
    # both nodes connected with TLS and voting (their client addresses: the active node's connection leaves
    # from the VIP, which IPsrcaddr makes its source address)
    assert listed.count("TLS active:\t\tYes (client certificate verified)") == 2, listed
    assert "Node ID 1:" in listed and "Node ID 2:" in listed, listed
    for node in config.NODES:
        q = scenario.quorum(pair, node)
        assert q["total"] == 3 and "2Node" not in q["flags"], q["text"]
        assert fencing_delay(pair, node) in ("0", "0s"), fencing_delay(pair, node)
        dry = pair.exec(node, "uec-clc-ha-ctl", "apply", "--dry-run", timeout=300).stdout
        assert "would run" not in dry, dry
        doc = json.loads(pair.exec(node, "uec-clc-ha-ctl", "status", "--json", timeout=300, check=False).stdout)
        assert doc["arbiter"]["connected"] and doc["arbiter"]["heuristics"] == "Pass", doc["arbiter"]
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, watch.active) == watch.pid and not set(touched) & scenario.CLOUD, touched
    print(f"arbiter added on the live pair: client's longest gap {gap:.1f} s, "
          f"{len(watch.writer.acked)} records, none lost; started/stopped: {touched}")


def test_2_the_arbiter_host_lost_the_pair_keeps_serving(pair):
    watch = scenario.Watch(pair, "arbiter-lost")
    assert arbiter.power_off()
    wait_for("corosync-qdevice noticing the arbiter is gone",
             lambda: not any(scenario.qdevice_connected(pair, n) for n in config.NODES), 120, step=3)
    for node in config.NODES:
        q = scenario.quorum(pair, node)
        assert "Quorate" in q["flags"] and q["total"] == 2, q["text"]
        doc = json.loads(pair.exec(node, "uec-clc-ha-ctl", "status", "--json", timeout=300, check=False).stdout)
        assert doc["state"] == "degraded" and any("is not connected" in p for p in doc["problems"]), doc
    assert pair.serving()
    pair.boot(config.ARBITER)
    wait_for("both nodes voting with the arbiter's vote again", lambda: voting_with_arbiter(pair), 300, step=3)
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, watch.active) == watch.pid and not set(touched) & scenario.CLOUD, touched
    print(f"\narbiter host powered off and on: the pair kept quorum, client's longest gap {gap:.1f} s")


def test_3_power_loss_of_the_active_node_with_the_arbiter(pair):
    """The survivor keeps quorum by the arbiter's vote and fences at once: no fencing delay to wait."""
    active, survivor, cur, writer = _writing_with_arbiter(pair, "arbiter-power-loss")
    t0 = now()
    assert pair.kill(active)
    wait_for("the VIP serving again from the survivor", pair.serving, 600, step=0.5)
    failover = now() - t0
    writer.wait_acked()
    writer.finish()
    assert scenario.lost(pair, writer.acked) == [], "acknowledged records lost"
    assert scenario.fencings_after(pair, survivor, cur, active), f"{survivor} confirmed no fencing of {active}"
    view = pair.view(survivor)
    assert view.quorate and pair.active(survivor) == survivor
    pair.boot(active)
    scenario.restore(pair)
    print(f"\npower loss of {active} with the arbiter: the VIP served again from {survivor} after "
          f"{failover:.1f} s (client's longest gap {writer.longest_gap(t0):.1f} s), {len(writer.acked)} records, "
          "none lost")


def test_4_partition_the_node_cut_off_loses_by_the_vote(pair):
    """The active node's links cut: it loses the arbiter with its peer, has no quorum and stops; its peer keeps
    quorum by the arbiter's vote, fences it through the disk without delay, and takes the cloud."""
    cut, survivor, cur, writer = _writing_with_arbiter(pair, "arbiter-partition")
    boots = {n: scenario.boot_id(pair, n) for n in config.NODES}
    with qmp.ResetWatch(cut) as cut_resets, qmp.ResetWatch(survivor) as survivor_resets:
        t0, cut_at = now(), time.time()
        for link in ("public", "replication"):
            pair.link(cut, link, False)
        wait_for(f"{cut} fenced (rebooted)", lambda: scenario.boot_id(pair, cut) not in (None, boots[cut]), 600,
                 step=1)
    assert survivor_resets.first_reset(cut_at) is None, f"qemu reset {survivor}, which keeps the arbiter's vote"
    reset_at = cut_resets.first_reset(cut_at)
    assert reset_at is not None, cut_resets.events
    wait_for(f"the cloud running on {survivor}", lambda: pair.active(survivor) == survivor, 600, step=2)
    assert scenario.fencings_after(pair, survivor, cur, cut) and not scenario.fencings_after(pair, survivor, cur,
                                                                                           survivor)
    guest.wait_up(cut, 600)
    wait_for(f"{cut}'s cluster stack answering", lambda: pair.view(cut) is not None, 600, step=2)
    view = pair.view(cut)
    assert not view.quorate and not [r.id for r in view.resources if cut in r.nodes]
    for link in ("public", "replication"):
        pair.link(cut, link, True)
    scenario.whole_again(pair, survivor, writer)
    print(f"\npartition with the arbiter ({cut}'s links cut): {cut} reset {reset_at - cut_at:.1f} s after the "
          f"cut; {survivor} has the cloud; client's longest gap {writer.longest_gap(t0):.1f} s; "
          f"{len(writer.acked)} records, none lost")


def _alone_without_quorum(pair, node, cur, lost):
    """node has no quorum and stays so for a minute (the lab's slowest fencing and start together): it starts,
    promotes and fences nothing, is not reset, and keeps DRBD attached (no-quorum-policy=freeze)."""
    wait_for(f"{node} without quorum", lambda: "Quorate" not in scenario.quorum(pair, node)["flags"], 300, step=2)
    deadline = now() + 60
    while now() < deadline:
        assert pair.drbd(node)[2].split("/")[0] == "UpToDate", pair.drbd(node)
        time.sleep(5)
    assert not scenario.fencings_after(pair, node, cur, lost), "fenced without quorum"
    doc = json.loads(pair.exec(node, "uec-clc-ha-ctl", "status", "--json", timeout=300, check=False).stdout)
    print(f"\n{node} alone, the arbiter down: status {doc['state']}: {doc['problems']}; DRBD {pair.drbd(node)}")
    return doc


def _whole_again(pair, writer, off):
    """The client stopped, nothing it was told is written lost; the host still ``off`` (if any) booted, the pair
    whole again and voting with the arbiter, no split brain seen."""
    writer.finish()
    assert scenario.lost(pair, writer.acked) == [], "acknowledged records lost"
    if off is not None:
        pair.boot(off)
    scenario.restore(pair)
    wait_for("both nodes voting with the arbiter's vote again", lambda: voting_with_arbiter(pair), 600, step=3)
    assert not any(scenario.split_brain_seen(pair, n) for n in config.NODES)


def test_5_arbiter_down_then_the_active_node_lost(pair):
    """Two of three votes gone: the survivor has no quorum, so it neither fences nor starts anything (the cloud
    never runs on both), and it is not reset; freeze keeps its DRBD attached and UpToDate.  The arbiter back
    alone does not make it quorate: wait_for_all, re-armed when quorum was lost, wants every vote (both nodes
    and the arbiter's) seen again, so it still runs and fences nothing.  The lost node back too: quorate, the
    cloud serves again, nothing lost."""
    active, survivor, cur, writer = _writing_with_arbiter(pair, "arbiter-and-node-lost")
    assert arbiter.power_off()
    wait_for("corosync-qdevice noticing the arbiter is gone",
             lambda: not any(scenario.qdevice_connected(pair, n) for n in config.NODES), 120, step=3)
    survivor_boot = scenario.boot_id(pair, survivor)
    with qmp.ResetWatch(survivor) as survivor_resets:
        t0, lost_at = now(), time.time()
        assert pair.kill(active)
        doc = _alone_without_quorum(pair, survivor, cur, active)
        assert doc["state"] != "serving" and not pair.serving(), doc
        pair.boot(config.ARBITER)
        wait_for(f"{survivor}'s corosync-qdevice connected again",
                 lambda: scenario.qdevice_connected(pair, survivor), 600, step=3)
        _alone_without_quorum(pair, survivor, cur, active)
        q = scenario.quorum(pair, survivor)
        assert "WaitForAll" in q["flags"] and q["total"] == 2 and q["expected"] == 3, q["text"]
        back_at = now()
        pair.boot(active)
        wait_for("the VIP serving again", pair.serving, 900, step=1)
        back = now() - back_at
    assert survivor_resets.first_reset(lost_at) is None and scenario.boot_id(pair, survivor) == survivor_boot, \
        f"{survivor} was reset"
    writer.wait_acked()
    _whole_again(pair, writer, None)                   # the lost node is booted already
    print(f"arbiter down, then {active} lost: {survivor} had no quorum and ran and fenced nothing, nor with the "
          f"arbiter back (two votes of three, wait_for_all); {active} booted, the VIP served {back:.1f} s later "
          f"(from the loss {now() - t0:.1f} s; client's longest gap {writer.longest_gap(t0):.1f} s), "
          f"{len(writer.acked)} records, none lost")


def _arbiter_down_and_a_client_writing(pair, name):
    """The arbiter host powered off under a pair writing: (active, passive, cursor on active, writer, CLC PID)."""
    active, passive, _, writer = _writing_with_arbiter(pair, name)
    cur = scenario.cursor(pair, active)
    pid = scenario.clc_pid(pair, active)
    assert arbiter.power_off()
    wait_for("corosync-qdevice noticing the arbiter is gone",
             lambda: not any(scenario.qdevice_connected(pair, n) for n in config.NODES), 120, step=3)
    return active, passive, cur, writer, pid


def _the_passive_lost(pair, active, passive, cur, writer):
    """The passive's power cut with the arbiter down: the active node alone, nothing acknowledged for 20 s
    more (the writes held by DRBD). (t0, wall time of the loss)"""
    t0, lost_at = now(), time.time()
    assert pair.kill(passive)
    _alone_without_quorum(pair, active, cur, passive)
    frozen = len(writer.acked)
    time.sleep(20)
    assert len(writer.acked) <= frozen + 1, "writes acknowledged without quorum and without the peer"
    return t0, lost_at


def test_6_arbiter_down_then_the_passive_node_lost(pair):
    """The active node alone without quorum: freeze stops nothing, so the Cloud Controller keeps running (its
    PID), while DRBD holds its writes (the handler resumes I/O only with quorum or the peer connected): nothing
    is acknowledged that the passive lacks.  The passive back: two votes of three, still no quorum
    (wait_for_all), so its DRBD does not start and the writes stay held.  The arbiter back: quorate, the
    handler's fence-peer script finds the peer reachable, DRBD resumes I/O and resyncs the passive; the same
    process goes on; nothing lost."""
    active, passive, cur, writer, pid = _arbiter_down_and_a_client_writing(pair, "arbiter-and-passive-lost")
    with qmp.ResetWatch(active) as resets:
        t0, lost_at = _the_passive_lost(pair, active, passive, cur, writer)
        assert scenario.clc_pid(pair, active) == pid
        pair.boot(passive)
        wait_for(f"{passive}'s cluster stack answering", lambda: pair.view(passive) is not None, 900, step=3)
        held = len(writer.acked)
        time.sleep(30)
        q = scenario.quorum(pair, active)
        assert "Quorate" not in q["flags"] and q["total"] == 2, q["text"]
        assert len(writer.acked) <= held + 1 and pair.drbd(active)[0] == "WFConnection", pair.drbd(active)
        back_at = now()
        pair.boot(config.ARBITER)
        writer.wait_acked(timeout=900)
        back = now() - back_at
        wait_for("DRBD connected again", lambda: pair.drbd(active)[0] in ("Connected", "SyncSource"), 900, step=2)
    assert resets.first_reset(lost_at) is None, f"{active} was reset"
    assert scenario.clc_pid(pair, active) == pid, "the Cloud Controller was restarted"
    assert not scenario.fencings_after(pair, active, cur, passive), f"{passive} fenced, though it had rejoined"
    said = pair.journal(active, "-20min")
    assert "no quorum: I/O stays frozen until quorum returns or the peer reconnects" in said
    _whole_again(pair, writer, None)
    print(f"arbiter down, then {passive} lost: {active} kept the Cloud Controller (PID {pid}) with DRBD's I/O "
          f"held, also once {passive} was back (no quorum: wait_for_all); the arbiter back, writes went on "
          f"{back:.1f} s later (client's longest gap {writer.longest_gap(t0):.1f} s), {len(writer.acked)} "
          "records, none lost")


def test_7_the_active_node_dead_for_good_unblock(pair):
    """The arbiter down, then the active node lost, and it does not come back: `unblock` on the survivor is
    refused while the arbiter is down (its vote is needed too), nothing changed; with the arbiter back it lifts
    wait_for_all, the survivor is quorate with the arbiter's vote, Pacemaker fences the lost node through SBD
    and the cloud starts on the survivor, whose copy was UpToDate: nothing acknowledged is lost."""
    active, survivor, cur, writer = _writing_with_arbiter(pair, "arbiter-and-node-lost-unblocked")
    assert arbiter.power_off()
    wait_for("corosync-qdevice noticing the arbiter is gone",
             lambda: not any(scenario.qdevice_connected(pair, n) for n in config.NODES), 120, step=3)
    t0 = now()
    assert pair.kill(active)
    _alone_without_quorum(pair, survivor, cur, active)
    refused = pair.exec(survivor, "uec-clc-ha-ctl", "unblock", "--yes", timeout=300, check=False)
    assert refused.rc == 6 and "arbiter" in refused.stderr and "not connected" in refused.stderr, refused.stderr
    assert "WaitForAll" in scenario.quorum(pair, survivor)["flags"]
    pair.boot(config.ARBITER)
    wait_for(f"{survivor}'s corosync-qdevice connected again", lambda: scenario.qdevice_connected(pair, survivor), 600,
             step=3)
    assert "Quorate" not in scenario.quorum(pair, survivor)["flags"]
    asked_at = now()
    done = pair.exec(survivor, "uec-clc-ha-ctl", "unblock", "--yes", timeout=1200, check=False)
    served = now() - asked_at
    assert done.rc == 0, done.stdout + done.stderr
    assert "the cloud serves on " + survivor in done.stdout, done.stdout
    assert scenario.fencings_after(pair, survivor, cur, active), f"{active} was not fenced before the cloud started"
    assert pair.serving()
    writer.wait_acked()
    _whole_again(pair, writer, active)
    print(f"arbiter down, then {active} lost for good: unblock refused without the arbiter; with it back, "
          f"unblock served the cloud on {survivor} {served:.1f} s after it was run (from the loss "
          f"{now() - t0:.1f} s; client's longest gap {writer.longest_gap(t0):.1f} s), {len(writer.acked)} "
          "records, none lost")


def test_8_removed_two_node_and_the_fencing_delay_return(pair):
    out = _Out()
    watch = scenario.Watch(pair, "arbiter-remove")
    arbiter.remove(out)
    wait_for("both nodes back on two_node",
             lambda: all("2Node" in q["flags"] and q["expected"] == 2
                         for q in (scenario.quorum(pair, n) for n in config.NODES)), 300, step=3)
    for node in config.NODES:
        assert pair.exec(node, "systemctl", "is-active", "corosync-qdevice.service", check=False).stdout.strip() \
            != "active"
        q = scenario.quorum(pair, node)                  # qdevice stopped before the reload leaves no Qdevice flag behind
        assert "Qdevice" not in q["flags"] and "Quorate" in q["flags"], q["text"]
        assert fencing_delay(pair, node) == STATE.get("delay_before")
        dry = pair.exec(node, "uec-clc-ha-ctl", "apply", "--dry-run", timeout=300).stdout
        assert "would run" not in dry, dry
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, watch.active) == watch.pid and not set(touched) & scenario.CLOUD, touched
    print(f"\narbiter removed: client's longest gap {gap:.1f} s, none lost; started/stopped: {touched}")
    arbiter.power_off()


class _Out:
    """What lablib.arbiter says, printed as it comes (pytest -s shows it with the scenario's lines)."""

    def write(self, text):
        print(text, end="")
