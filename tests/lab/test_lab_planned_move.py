"""A planned move and back (scenario 5): `crm resource move` there, standby/online back; no record lost; and the
same with the admin's commands (uec-clc-ha-ctl failover, standby, unstandby).

Records are written through the VIP throughout; the client's outage of each
move is the longest gap between two acknowledged writes.  Nobody is fenced,
no action fails, DRBD stays connected and both copies stay identical.
"""

import pytest

from lablib import config, scenario
from lablib.observe import now, wait_for
from lablib.scenario import GROUP, Writer

# Run by `make lab-test` on a pair without the arbiter (proven on two_node pairs; not yet with the
# arbiter); `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]


def test_planned_move_and_back_loses_nothing(pair):
    scenario.restore(pair)
    home = pair.active("clc1")
    other = config.peer(home)
    fenced_before = scenario.fence_events(pair, home)
    writer = Writer(pair, "planned-move")
    writer.start()
    writer.wait_acked()
    # there: the admin's move (a cli-prefer constraint), cleared once the cloud serves there
    t_there = now()
    pair.exec(other, "crm", "resource", "move", GROUP, other, timeout=120)    # crmsh 5: name the local node
    wait_for(f"the group running on {other}", lambda: pair.active(other) == other, 600, step=2)
    wait_for("the VIP serving from the new node", pair.serving, 300, step=2)
    writer.wait_acked()
    there = writer.longest_gap(t_there)
    pair.exec(home, "crm_resource", "--clear", "--resource", GROUP, timeout=60)
    scenario.settled(pair, home)
    assert pair.active(home) == other                        # clearing the move moves nothing (stickiness)
    # back: the node running it goes to standby, then online again
    t_back = now()
    pair.exec(other, "crm", "node", "standby", timeout=120)
    wait_for(f"the group back on {home}", lambda: pair.active(home) == home, 600, step=2)
    wait_for("the VIP serving again", pair.serving, 300, step=2)
    writer.wait_acked()
    back = writer.longest_gap(t_back)
    pair.exec(other, "crm", "node", "online", timeout=120)
    scenario.settled(pair, home)
    assert pair.active(home) == home and pair.active(other) == home
    writer.wait_acked()
    writer.finish()
    scenario.wait_normal(pair, 600)
    assert scenario.fence_events(pair, home) == fenced_before
    assert scenario.lost(pair, writer.acked) == []
    print(f"\nplanned move {home} -> {other}: client outage {there:.1f} s; back by standby: {back:.1f} s; "
          f"{len(writer.acked)} records acknowledged, none lost")


def test_the_admin_commands_move_the_cloud_and_lose_nothing(pair):
    """uec-clc-ha-ctl failover, standby and unstandby (with --yes): each exits 0 once settled, no record lost."""
    scenario.restore(pair)
    home = pair.active("clc1")
    other = config.peer(home)
    fenced_before = scenario.fence_events(pair, home)
    writer = Writer(pair, "admin-moves")
    writer.start()
    writer.wait_acked()
    t0 = now()
    done = pair.exec(home, "uec-clc-ha-ctl", "failover", "--yes", timeout=900, check=False)
    assert done.rc == 0 and f"the cloud serves on {other}" in done.stdout, done.stdout + done.stderr
    failover = writer.longest_gap(t0)
    assert pair.active(home) == other
    assert scenario.move_constraints(pair, home) == [], "the move constraint stayed"
    t1 = now()
    done = pair.exec(home, "uec-clc-ha-ctl", "standby", other, "--yes", timeout=900, check=False)
    assert done.rc == 0 and f"{other} runs nothing; the cloud serves on {home}" in done.stdout, done.stdout
    back = writer.longest_gap(t1)
    refused = pair.exec(home, "uec-clc-ha-ctl", "failover", "--yes", timeout=300, check=False)
    assert refused.rc == 6 and f"{other} is in standby" in refused.stderr, refused.stderr   # nothing to move to
    done = pair.exec(home, "uec-clc-ha-ctl", "unstandby", other, "--yes", timeout=900, check=False)
    assert done.rc == 0 and "standby node again" in done.stdout, done.stdout
    writer.wait_acked()
    writer.finish()
    scenario.wait_normal(pair, 600)
    assert pair.active(home) == home
    assert scenario.fence_events(pair, home) == fenced_before
    assert scenario.lost(pair, writer.acked) == []
    print(f"\nuec-clc-ha-ctl failover {home} -> {other}: client outage {failover:.1f} s; standby {other}: "
          f"{back:.1f} s; {len(writer.acked)} records, none lost")
