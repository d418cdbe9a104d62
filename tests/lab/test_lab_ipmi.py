"""IPMI fencing on the lab pair: each VM behind a simulated BMC on a management network of its own.

Runs only in a lab brought up with UEC_CLC_HA_LAB_FENCING=ipmilan (marker
lab_ipmi: `make lab-test` runs it in a pass of its own, `make test` leaves it
out).  The pair is installed with debconf's Fencing=ipmilan and each node's
BMC address, user and password; each BMC is OpenIPMI's ipmi_sim in the lab
namespace whose chassis control starts and SIGKILLs the VM's qemu
(lablib.bmc: a hard off, a power state that is the VM's), and the VMs reach
each other's BMC over a third NIC that the link cuts below leave alone.

    power loss     the active VM's qemu killed, its BMC up (a dead board, a
                   PSU): the survivor power-cycles it through the BMC (the
                   VM is started again by its BMC: a new boot) and takes the
                   cloud; the client's gap, and the parts from the survivor's
                   journal; the fenced node rejoins in sync
    partition      both links of the passive node cut (the management
                   network still joins the two): each side can reach the
                   other's BMC, and priority-fencing-delay makes the active
                   node win; the passive one is power-cycled, boots alone and
                   stays out, rejoins when the links return
    dead BMC       the active node's BMC stopped, then its power cut: the
                   survivor's fencing fails, so DRBD is never promoted and the
                   cloud waits (nothing runs on both nodes, nothing lost);
                   `status` on the survivor says why; once the BMC answers
                   again the fencing goes through and the cloud moves
    doctor/status  doctor's bmc check on both nodes; a stopped BMC fails it
"""

import json
import time

import pytest

from lablib import bmc, config, guest, scenario, vm
from lablib.observe import guest_clock, milestones, now, wait_for
from lablib.scenario import Writer

pytestmark = pytest.mark.lab_ipmi

DEAD_BMC_WATCH = 150      # seconds the survivor is watched not taking the cloud while its fencing cannot work


@pytest.fixture(autouse=True)
def _ipmi_lab(pair):
    if not vm.with_bmcs():
        pytest.fail("this lab runs without BMCs: run these with UEC_CLC_HA_LAB_FENCING=ipmilan "
                    "(make lab-test does), after `make lab-down`")


def _boots(node):
    return bmc.machine_boots(vm.bmc_of(node).machine)


def _serving_with_a_writer(pair, tag):
    """The pair restored, and a client writing through the VIP: (the node with the cloud, the writer)."""
    scenario.restore(pair)
    active = pair.active("clc1")
    writer = Writer(pair, tag)
    writer.start()
    writer.wait_acked()
    return active, writer


def _back_to_normal(pair, writer, holder):
    """The pair restored (links, power, BMCs, both online, DRBD in sync): the cloud still on ``holder``,
    every acknowledged record there, no split brain."""
    scenario.restore(pair)
    assert pair.active(holder) == holder                 # nothing moves back on its own
    writer.finish()
    assert scenario.lost(pair, writer.acked) == []
    assert not any(scenario.split_brain_seen(pair, n) for n in config.NODES)


def _primary(pair, node):
    """True when node's DRBD resource is Primary (False also when DRBD is not up there)."""
    text = pair.sh(node, "cat /proc/drbd 2>/dev/null || true", timeout=30).stdout
    return " ro:Primary/" in text


def _doctor(pair, node):
    done = pair.exec(node, "uec-clc-ha-ctl", "doctor", timeout=300, check=False)
    return done.rc, {line.split()[1]: line for line in done.stdout.splitlines()
                     if line.split()[:1] in (["ok"], ["warn"], ["fail"]) and len(line.split()) > 1}


def test_doctor_asks_each_peers_bmc(pair):
    scenario.restore(pair)
    for node in config.NODES:
        _, lines = _doctor(pair, node)
        peer = config.peer(node)
        assert lines["bmc"].startswith("ok"), lines
        assert f"{peer}'s BMC at {config.NODES[peer]['bmc']} answers fence_ipmilan (power on)" in lines["bmc"]
    stopped = "clc2"
    assert vm.stop_bmc(stopped)
    try:
        rc, lines = _doctor(pair, config.peer(stopped))
        assert rc == 2 and lines["bmc"].startswith("fail") and "fencing clc2 would fail" in lines["bmc"], lines
    finally:
        vm.start_bmc(stopped)
    print(f"\ndoctor: bmc ok on both nodes; with {stopped}'s BMC stopped: {lines['bmc']}")


def test_power_loss_the_survivor_power_cycles_the_dead_node_through_its_bmc(pair):
    active, writer = _serving_with_a_writer(pair, "ipmi-power-loss")
    survivor = config.peer(active)
    boots = _boots(active)
    t_guest = guest_clock(pair, survivor)
    t0 = now()
    assert pair.kill(active)
    wait_for("the VIP serving again from the survivor", pair.serving, 600, step=0.5)
    failover = now() - t0

    def takeover():
        found = milestones(pair.journal(survivor, f"@{int(t_guest) - 1}"), t_guest, active, survivor)
        return found if "CLC started" in found else None
    parts = wait_for("the survivor's journal recording the CLC's start", takeover, 120, step=2)
    assert pair.active(survivor) == survivor
    # the fencing was the BMC's power cycle: the dead VM was started again by its BMC
    wait_for(f"{active} powered on again by its BMC", lambda: _boots(active) > boots, 120, step=1)
    events = scenario.fence_events(pair, survivor)
    assert any(t == active and s == "success" for t, _, s, _ in events), events
    writer.wait_acked()
    _back_to_normal(pair, writer, survivor)             # the fenced node rejoins; DRBD resyncs
    print(f"\nIPMI power loss of {active}: kill -> HTTP 200 on the VIP in {failover:.1f} s; client's longest gap "
          f"{writer.longest_gap():.1f} s; {len(writer.acked)} records, none lost; from the survivor's journal: "
          f"{parts}")


def test_partition_the_active_node_fences_the_cut_one_through_its_bmc(pair):
    active, writer = _serving_with_a_writer(pair, "ipmi-partition")
    cut = config.peer(active)
    boots = {n: _boots(n) for n in config.NODES}
    pids = {n: vm.pid_of(n) for n in config.NODES}
    cursor = scenario.cursor(pair, active)
    t0 = now()
    for link in ("public", "replication"):
        pair.link(cut, link, False)
    wait_for(f"{cut} power-cycled by its BMC", lambda: _boots(cut) > boots[cut], 600, step=1)
    fenced_after = now() - t0
    assert _boots(active) == boots[active] and vm.pid_of(active) == pids[active], f"{active} was fenced"
    # the fencer logs the fencing done once the agent has powered the VM on again and seen it on
    wait_for(f"{active} confirming the fencing of {cut}", lambda: scenario.fencings_after(pair, active, cursor, cut),
             120, step=2)
    writer.wait_acked(5)                                 # the cloud never left the active node
    assert pair.active(active) == active
    # the cut node, booted alone: no quorum (wait_for_all), nothing promoted
    guest.wait_up(cut, 600)
    time.sleep(30)
    assert not _primary(pair, cut), f"{cut}, alone, promoted DRBD"
    assert _boots(active) == boots[active]
    for link in ("public", "replication"):
        pair.link(cut, link, True)
    _back_to_normal(pair, writer, active)
    print(f"\nIPMI partition ({cut}'s links cut): {cut} power-cycled by its BMC {fenced_after:.1f} s after the cut; "
          f"{active} kept the cloud; client's longest gap {writer.longest_gap(t0):.1f} s; "
          f"{len(writer.acked)} records, none lost")


def test_a_dead_bmc_means_the_cloud_waits_and_nothing_is_promoted(pair):
    active, writer = _serving_with_a_writer(pair, "ipmi-dead-bmc")
    survivor = config.peer(active)
    cursor = scenario.cursor(pair, survivor)
    assert vm.stop_bmc(active)
    t0 = now()
    assert pair.kill(active)                             # the whole chassis lost: the VM and its BMC
    deadline = now() + DEAD_BMC_WATCH
    while now() < deadline:
        assert not _primary(pair, survivor), f"{survivor} promoted DRBD without fencing {active}"
        assert pair.active(survivor) != survivor, f"the cloud started on {survivor} without fencing {active}"
        time.sleep(5)
    # it did try: fence_ipmilan failed against the silent BMC (the fencer retries until its timeout)
    tries = scenario.after(pair, survivor, cursor, r"fence_ipmilan\[\d+\] stderr: .*Failed")
    assert tries, f"{survivor} never ran fence_ipmilan against {active}'s BMC"
    done = pair.exec(survivor, "uec-clc-ha-ctl", "status", "--json", timeout=180, check=False)
    doc = json.loads(done.stdout)
    assert doc["state"] == "not-serving", doc["problems"]
    waits = [p for p in doc["problems"] if p.startswith(f"fencing {active} ")]
    assert waits and "the cloud waits" in waits[0], doc["problems"]
    acked_before = len(writer.acked)
    # the BMC answers again: the next fencing goes through (the VM is powered on by it) and the cloud moves
    vm.start_bmc(active)
    back = now()
    wait_for("the VIP serving from the survivor once the BMC answers", pair.serving, 900, step=1)
    moved_after = now() - back
    writer.wait_acked()
    _back_to_normal(pair, writer, survivor)
    print(f"\ndead BMC: {active} and its BMC lost; {survivor} did not promote DRBD or start the cloud in "
          f"{DEAD_BMC_WATCH} s ({len(tries)} failed fence_ipmilan runs; status: {waits[0]}); {acked_before} records "
          f"acknowledged before; the BMC back, the cloud served from {survivor} {moved_after:.1f} s later "
          f"({now() - t0:.0f} s after the loss); none lost")
