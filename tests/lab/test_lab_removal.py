"""Removing the package from one node of a live pair (scenario 7), then reinstalling it and rejoining.

`apt-get remove uec-clc-ha` is refused while the node may run the agent;
with the node in standby it goes ahead, the agent is gone from that node,
its settings and the cluster configuration stay, and the other node keeps
serving without a pause.  Reinstalled and brought online again, the node
rejoins: DRBD resyncs and the pair is back to normal.  Records are written
through the VIP throughout.
"""

import pytest

from lablib import config, pair as lab_pair, scenario, state
from lablib.observe import now, wait_for
from lablib.scenario import Writer

# Run by `make lab-test` on a pair without the arbiter (proven on two_node pairs; not yet with the
# arbiter); `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]

AGENT = "/usr/lib/ocf/resource.d/ubuntu/eucaclc"



def test_removal_on_a_standby_node_while_the_other_serves_then_reinstall(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    node = config.peer(active)
    fenced_before = scenario.fence_events(pair, active)
    writer = Writer(pair, "removal")
    writer.start()
    writer.wait_acked()
    t0 = now()
    # refused while the node may run the agent
    refused = pair.exec(node, "apt-get", "remove", "-y", "uec-clc-ha", check=False, timeout=600)
    assert refused.rc != 0 and "NOT REMOVED" in refused.stdout + refused.stderr
    assert scenario.installed(pair, node) and pair.exec(node, "test", "-x", AGENT, check=False).rc == 0
    # in standby it goes ahead: the agent goes, the settings and the cluster stay
    pair.exec(node, "crm", "node", "standby", timeout=120)     # crmsh 5 skips a node other than the local one
    wait_for(f"nothing running on {node}", lambda: not [
        r for r in pair.view(active).resources if node in r.nodes], 300, step=2)
    done = pair.exec(node, "apt-get", "remove", "-y", "uec-clc-ha", timeout=600)
    assert not scenario.installed(pair, node), done.stdout
    assert pair.exec(node, "test", "-e", AGENT, check=False).rc != 0
    assert pair.exec(node, "test", "-s", "/etc/uec-clc-ha/uec-clc-ha.conf", check=False).rc == 0
    assert pair.view(node) is not None                      # the cluster stack keeps running there
    writer.wait_acked(5)
    assert pair.active(active) == active
    # reinstalled and online again: the node rejoins
    lab_pair.install_deb(node, state.load()["ours"], 1800)
    assert scenario.installed(pair, node) and pair.exec(node, "test", "-x", AGENT, check=False).rc == 0
    pair.exec(node, "crm", "node", "online", timeout=120)
    scenario.restore(pair)
    assert pair.active(active) == active
    writer.wait_acked()
    writer.finish()
    assert scenario.fence_events(pair, active) == fenced_before
    assert scenario.lost(pair, writer.acked) == []
    print(f"\nremoval on {node} (standby) and reinstall: {active} served throughout (longest client gap "
          f"{writer.longest_gap(t0):.1f} s); {len(writer.acked)} records, none lost")
