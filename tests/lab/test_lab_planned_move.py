"""A planned move and back (scenario 5): `crm resource move` there, standby/online back; no record lost.

Records are written through the VIP throughout; the client's outage of each
move is the longest gap between two acknowledged writes.  Nobody is fenced,
no action fails, DRBD stays connected and both copies stay identical.
"""

import pytest

from lablib import config, scenario
from lablib.observe import now, wait_for
from lablib.scenario import GROUP, Writer

# Run by `make lab-test`; `make test` leaves it out (CI's time limit, see tests/conftest.py).
pytestmark = pytest.mark.lab_extended


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
    pair.exec(home, "crm", "resource", "move", GROUP, other, timeout=120)
    wait_for(f"the group running on {other}", lambda: pair.active(other) == other, 600, step=2)
    wait_for("the VIP serving from the new node", pair.serving, 300, step=2)
    writer.wait_acked()
    there = writer.longest_gap(t_there)
    pair.exec(home, "crm_resource", "--clear", "--resource", GROUP, timeout=60)
    scenario.settled(pair, home)
    assert pair.active(home) == other                        # clearing the move moves nothing (stickiness)
    # back: the node running it goes to standby, then online again
    t_back = now()
    pair.exec(home, "crm", "node", "standby", other, timeout=120)
    wait_for(f"the group back on {home}", lambda: pair.active(home) == home, 600, step=2)
    wait_for("the VIP serving again", pair.serving, 300, step=2)
    writer.wait_acked()
    back = writer.longest_gap(t_back)
    pair.exec(home, "crm", "node", "online", other, timeout=120)
    scenario.settled(pair, home)
    assert pair.active(home) == home and pair.active(other) == home
    writer.wait_acked()
    writer.finish()
    scenario.wait_normal(pair, 600)
    assert scenario.fence_events(pair, home) == fenced_before
    assert scenario.lost(pair, writer.acked) == []
    print(f"\nplanned move {home} -> {other}: client outage {there:.1f} s; back by standby: {back:.1f} s; "
          f"{len(writer.acked)} records acknowledged, none lost")
