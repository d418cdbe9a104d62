"""Full partitions with SBD fencing (scenario 8), and a fenced node that boots alone (scenario 9).

Both links of one node are cut, so neither corosync link joins the two,
and exactly one keeps the cloud:

- with the arbiter (the lab's default pair), the node that was cut: it
  loses the arbiter's vote with its peer, has no quorum and can fence
  nobody; its peer keeps quorum by the vote and fences it without any delay;
- without it (UEC_CLC_HA_LAB_ARBITER=0, make lab-test's two_node pass) each
  side would fence the other: with the fencing probe (Fencing-Probe-Window
  above 0) the node that was cut loses, as it reaches none of the ping
  hosts and its probe waits two delays more than its peer's
  (fence_uec_clc_ha_probe(8)); with priority-fencing-delay alone, the node
  that runs the cloud (the group's priority delays the fencing of it),
  wherever the cut.

The loser is reset by its SBD poison pill, boots alone, stays out
(wait_for_all, no quorum), fences nobody and promotes nothing; when the
links return it rejoins, DRBD resyncs, online verify finds no block that
differs, and every acknowledged record is there.

Each repetition also times the loser's reset from the host (qemu's RESET
event on the VM's QMP socket); without the arbiter it prints the fencing
delay's margin: how long before the loser's own fencing request could have
left it (the cut, plus corosync's token and consensus, plus the delay it
waits) it was already dead.  The margins go to
build/lab/run/partition-margins.json.

Repetitions 1 to REPS-1 cut the active node's links (its clients lose it
while cut); the last cuts the passive node's links, and runs `uec-clc-ha-ctl
status` on both sides and `doctor` on the survivor while the links are still
cut.  REPS is at least five (UEC_CLC_HA_LAB_PARTITIONS to raise it).
`make test` runs the first (the active node cut off: the cloud moves, about
6 minutes on the lab's emulated CPUs, CI's limit); the others are marked
lab_extended, so `make lab-test` runs all of them.
"""

import json
import os
import time

import pytest

from lablib import config, guest, qmp, scenario
from lablib.observe import now, wait_for
from lablib.scenario import Writer
from lablib.timeline import Timeline

REPS = max(5, int(os.environ.get("UEC_CLC_HA_LAB_PARTITIONS", "5")))
ALONE_WATCH = 30          # seconds the lone node is watched doing nothing once its cluster stack runs
ALONE_VIEWS = 3           # ... and at least this many answers of its crm_mon


def _resources_on(view, node):
    return [r.id for r in view.resources if node in r.nodes]


def _stays_out(lab, node, survivor, survivor_boot):
    """The fenced node, booted alone: no quorum, nothing running, nobody fenced, DRBD not promoted.

    Watched for ALONE_WATCH seconds and at least ALONE_VIEWS answers of its
    crm_mon: a node that just booted on an emulated CPU may take over a
    minute to answer one, and an unanswered poll shows nothing either way.
    """
    guest.wait_up(node, 600)
    wait_for(f"{node}'s cluster stack answering", lambda: lab.view(node) is not None, 600, step=2)
    start, views = now(), 0
    while now() < start + ALONE_WATCH or views < ALONE_VIEWS:   # an invariant watched over a window, polled
        assert now() < start + ALONE_WATCH + 300, f"{node}'s crm_mon answered {views} times in {now() - start:.0f} s"
        view = lab.view(node)
        if view is not None:
            views += 1
            assert not view.quorate, f"{node} alone must not be quorate"
            assert _resources_on(view, node) == [], _resources_on(view, node)
        assert "Primary" not in lab.drbd(node)[1].split("/")[0]
        assert scenario.boot_id(lab, survivor) == survivor_boot, f"{survivor} was reset"
        time.sleep(2)
    assert scenario.fencing_requests_this_boot(lab, node) == 0, f"{node} alone asked for fencing"


def _status_while_partitioned(lab, survivor, lone):
    """`uec-clc-ha-ctl status` on both sides, links still cut: the survivor serves, degraded (its peer offline,
    fenced by it); the lone node says the cloud is not served from its side, and why; doctor on the survivor
    fails on the links."""
    done = lab.exec(survivor, "uec-clc-ha-ctl", "status", "--json", timeout=300, check=False)
    doc = json.loads(done.stdout)
    assert (done.rc, doc["state"], doc["active"]) == (1, "degraded", survivor), doc["problems"]
    assert f"{lone} is offline: no standby node" in doc["problems"], doc["problems"]
    assert doc["fencing"]["last"]["target"] == lone and doc["fencing"]["last"]["status"] == "success"
    assert doc["drbd"]["connection"] != "Connected" and doc["quorum"]["quorate"] is True
    done = lab.exec(lone, "uec-clc-ha-ctl", "status", "--json", timeout=300, check=False)
    doc = json.loads(done.stdout)
    assert (done.rc, doc["state"], doc["active"]) == (10, "not-serving", None), doc["problems"]
    assert doc["quorum"]["quorate"] is False and doc["dc"] in (None, lone)     # no DC yet, or itself
    assert any(p.startswith("this node's partition is not quorate") for p in doc["problems"]), doc["problems"]
    assert doc["drbd"] is None or (doc["drbd"]["role"] != "Primary" and doc["drbd"]["connection"] != "Connected")
    done = lab.exec(survivor, "uec-clc-ha-ctl", "doctor", timeout=600, check=False)
    failed = {line.split(None, 2)[1] for line in done.stdout.splitlines() if line.startswith("fail")}
    assert done.rc == 2 and "links" in failed, done.stdout      # doctor names the cut links


@pytest.mark.parametrize("rep", [rep if rep == 1 else pytest.param(rep, marks=pytest.mark.lab_extended)
                                 for rep in range(1, REPS + 1)])
def test_full_partition_one_node_keeps_the_cloud(pair, rep):
    phases = Timeline()                                    # where a repetition's minutes go (printed with -s)
    phases.start("restore")
    scenario.restore(pair)
    phases.start("writer")
    active = pair.active("clc1")
    passive = config.peer(active)
    cut = passive if rep == REPS else active            # scenario 9 on the last repetition: its own links cut
    # With the arbiter the node cut off loses its vote and quorum; without it, under the fencing probe the
    # node cut off from the ping hosts loses (it waits two delays more), and under priority-fencing-delay
    # alone the node that runs the cloud wins.
    arbiter = all(scenario.votes_with_arbiter(pair, n) for n in config.NODES)
    assert arbiter == config.WITH_ARBITER, f"the pair votes {'with' if arbiter else 'without'} an arbiter"
    probe_delay = scenario.fencing_probe_delay(pair, active)
    assert not (arbiter and probe_delay is not None), "a fencing probe beside the arbiter"
    loser = cut if arbiter or probe_delay is not None else passive
    survivor = config.peer(loser)
    boots = {n: scenario.boot_id(pair, n) for n in config.NODES}
    writer = Writer(pair, f"partition-{rep}")
    writer.start()
    writer.wait_acked()
    bound = None if arbiter else scenario.fencing_race_bound(pair, active, cut_off=loser == cut)
    cursors = {n: scenario.cursor(pair, n) for n in config.NODES}
    phases.start("cut, fencing, fenced node's new boot")
    with qmp.ResetWatch(loser) as loser_resets, qmp.ResetWatch(survivor) as survivor_resets:
        t0, cut_at = now(), time.time()
        for link in ("public", "replication"):
            pair.link(cut, link, False)
        # the loser is fenced (reset by its SBD poison pill): a new boot
        wait_for(f"{loser} fenced (rebooted)",
                 lambda: scenario.boot_id(pair, loser) not in (None, boots[loser]), 600, step=1)
        fenced_after = now() - t0
    assert survivor_resets.first_reset(cut_at) is None, f"qemu reset {survivor}, which should have won"
    reset_at = loser_resets.first_reset(cut_at)
    assert reset_at is not None, f"qemu saw no reset of {loser}: {loser_resets.events}"
    margin = {"rep": rep, "cut": cut, "loser": loser, "reset_after": round(reset_at - cut_at, 1), "bound": bound,
              "margin": None if bound is None else round(cut_at + bound - reset_at, 1),
              "probe": probe_delay is not None, "arbiter": arbiter}
    assert scenario.boot_id(pair, survivor) == boots[survivor], f"{survivor} was fenced"
    wait_for(f"the cloud running on {survivor}", lambda: pair.active(survivor) == survivor, 600, step=2)
    view = pair.view(survivor)
    assert view.quorate and not view.nodes[loser]["online"]
    # this repetition's fencing, from the survivor's journal after the cut (the fencer's history holds every
    # repetition's: under the probe a repetition's survivor may have lost an earlier one)
    assert scenario.fencings_after(pair, survivor, cursors[survivor], loser), f"{survivor} confirmed no fencing"
    assert not scenario.fencings_after(pair, survivor, cursors[survivor], survivor), f"{survivor} was fenced"
    events = scenario.fence_events(pair, survivor)
    assert any(t == loser and s == "success" for t, _, s, _ in events), events
    if cut == passive:
        writer.wait_acked(5)                               # the cloud never stopped serving
    phases.start("lone node up and watched")
    _stays_out(pair, loser, survivor, boots[survivor])
    if rep == REPS:
        phases.start("status on both sides of the partition")
        _status_while_partitioned(pair, survivor, loser)
    phases.start("links back, rejoin, resync")
    for link in ("public", "replication"):
        pair.link(cut, link, True)
    scenario.restore(pair)
    assert pair.active(survivor) == survivor               # the survivor keeps the cloud: nothing moves back
    phases.start("records read back")
    writer.wait_acked()
    writer.finish()
    assert scenario.lost(pair, writer.acked) == []
    assert not any(scenario.split_brain_seen(pair, n) for n in config.NODES)
    phases.start("online verify")
    assert scenario.verify(pair, survivor) == 0              # no divergent block between the two copies
    phases.finish()
    _record(margin)
    if arbiter:
        how, race = f"the arbiter's vote: {cut}, cut off, lost quorum", "without quorum it could fence nobody"
    else:
        how = (f"the fencing probe: {cut}, cut off, waited two delays more" if probe_delay is not None
               else f"priority-fencing-delay: {active} ran the cloud")
        race = f"{margin['margin']} s before its own fencing could have left it ({bound:g} s)"
    print(f"\npartition {rep}/{REPS} ({cut}'s links cut; {how}): {loser} reset {margin['reset_after']} s after "
          f"the cut, {race}; back after {fenced_after:.1f} s; {survivor} has the cloud; client's longest gap "
          f"{writer.longest_gap(t0):.1f} s; {len(writer.acked)} records, none lost")
    print(phases.table(f"partition {rep}"))


def _record(margin):
    path = os.path.join(config.RUN, "partition-margins.json")
    try:
        with open(path) as fh:
            margins = json.load(fh)
    except (FileNotFoundError, ValueError):
        margins = []
    margins.append(dict(margin, at=time.strftime("%Y-%m-%d %H:%M:%S")))
    with open(path, "w") as fh:
        json.dump(margins, fh, indent=1)
