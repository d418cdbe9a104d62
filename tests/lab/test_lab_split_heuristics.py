"""A split in which both nodes still reach the arbiter: its vote goes to the node that reaches the public network.

On the lab's default pair (SBD fencing and the arbiter cc1), a client
writing through the VIP.  clc1 loses the way to the pair's ping host (a
`prohibit` route to 198.51.100.1 in the guest: its uplink gone, the cloud's
Cluster Controller host still on its switch), and at the same moment the
two nodes lose each other: the replication link is cut and both public
ports on the lab's bridge are isolated (lablib.net.set_isolated: each node
still reaches the arbiter host, the client and the ping host's address, but
not the other node).  Two partitions of one node each, both connected to
corosync-qnetd: ffsplit's tie-breaker (lowest node id) would give the vote
to clc1; the heuristics (quorum.device.heuristics, `reach-any` of the ping
hosts) must give it to clc2.  So clc2 keeps quorum, fences clc1 through the
SBD disk without any delay and runs the cloud (it keeps it if it ran it);
clc1 has no quorum, fences nobody, is reset, boots (its prohibit route gone
with the reboot) still cut off and stays out (wait_for_all).  Whole again:
nothing acknowledged lost, no split brain, online verify clean.
"""

import re
import time

import pytest

from lablib import config, guest, qmp, scenario
from lablib.observe import now, wait_for
from lablib.scenario import Writer

# Run by `make lab-test` on the lab's default pair (with the arbiter); `make test` leaves it out
# (CI's time limit, see pytest.ini).
pytestmark = pytest.mark.lab_extended

LOSER, WINNER = "clc1", "clc2"      # the node with the lowest id loses: the tie-breaker alone would keep it


def _qnetd_heuristics(lab):
    """{node id: heuristics} as corosync-qnetd-tool -lv on the arbiter host lists them."""
    text = lab.exec(config.ARBITER, "corosync-qnetd-tool", "-lv", timeout=60, check=False).stdout
    found, node = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*Node ID (\d+):", line)
        if m:
            node = int(m.group(1))
        m = re.match(r"\s*Heuristics:\s*(\S+)", line)
        if m and node is not None:
            found[node] = m.group(1)
    return found


def test_a_split_both_sides_of_which_reach_the_arbiter_is_won_by_the_node_that_reaches_the_ping_host(pair):
    if not config.WITH_ARBITER:
        pytest.fail("this scenario needs the lab's default pair, with the arbiter (UEC_CLC_HA_LAB_ARBITER unset)")
    scenario.restore(pair)
    wait_for("both nodes voting with the arbiter", lambda: all(scenario.votes_with_arbiter(pair, n)
                                                               for n in config.NODES), 300, step=3)
    active = pair.active("clc1")
    boots = {n: scenario.boot_id(pair, n) for n in config.NODES}
    cursor = scenario.cursor(pair, WINNER)
    writer = Writer(pair, "split-heuristics")
    writer.start()
    writer.wait_acked()
    seen = {}
    try:
        with qmp.ResetWatch(LOSER) as loser_resets, qmp.ResetWatch(WINNER) as winner_resets:
            t0, cut_at = now(), time.time()
            pair.exec(LOSER, "ip", "route", "add", "prohibit", f"{config.GATEWAY}/32", timeout=60)
            pair.link(LOSER, "replication", False)
            for node in config.NODES:
                pair.isolate(node, True)

            def reset():
                if not seen.get("heuristics"):
                    h = _qnetd_heuristics(pair)
                    if h.get(config.NODES[LOSER]["index"]) == "Fail":
                        seen["heuristics"] = h
                return scenario.boot_id(pair, LOSER) not in (None, boots[LOSER])
            wait_for(f"{LOSER} fenced (rebooted)", reset, 600, step=1)
            fenced_after = now() - t0
        assert winner_resets.first_reset(cut_at) is None, f"qemu reset {WINNER}, whose heuristics pass"
        reset_at = loser_resets.first_reset(cut_at)
        assert reset_at is not None, loser_resets.events
        assert scenario.boot_id(pair, WINNER) == boots[WINNER], f"{WINNER} was fenced"
        wait_for(f"the cloud running on {WINNER}", lambda: pair.active(WINNER) == WINNER, 600, step=2)
        view = pair.view(WINNER)
        assert view.quorate and not view.nodes[LOSER]["online"]
        assert scenario.fencings_after(pair, WINNER, cursor, LOSER), f"{WINNER} confirmed no fencing of {LOSER}"
        if active == WINNER:
            writer.wait_acked(5)                          # the cloud never stopped serving
        # the loser, booted with its links still cut: no quorum, nothing run, nobody fenced
        guest.wait_up(LOSER, 600)
        wait_for(f"{LOSER}'s cluster stack answering", lambda: pair.view(LOSER) is not None, 600, step=2)
        lone = pair.view(LOSER)
        assert not lone.quorate and not [r.id for r in lone.resources if LOSER in r.nodes]
        assert scenario.fencing_requests_this_boot(pair, LOSER) == 0, f"{LOSER} alone asked for fencing"
    finally:
        for node in config.NODES:
            pair.isolate(node, False)
        pair.link(LOSER, "replication", True)
    scenario.whole_again(pair, WINNER, writer)
    print(f"\nsplit with both nodes reaching the arbiter, {LOSER} cut off from the ping host ({active} ran the "
          f"cloud): qnetd's heuristics {seen.get('heuristics', 'not seen in time')}; {LOSER} reset "
          f"{reset_at - cut_at:.1f} s after the cut, back after {fenced_after:.1f} s; {WINNER} has the cloud; "
          f"client's longest gap {writer.longest_gap(t0):.1f} s; {len(writer.acked)} records, none lost")
