"""A rolling upgrade of uec-clc-ha on a serving pair: the release before this one to this tree's, one node at a time.

A fresh pair is brought up on the previous release
(tests/fixtures/uec-clc-ha_PREVIOUS_all.deb) on Debian 12, the only release
it installs on (it depends on fence-agents, which on Debian 13 no longer
carries fence_sbd: a pair on 12 takes this upgrade before it moves to 13,
doc/upgrade.md), then upgraded the way
doc/install.md ("Upgrading a serving pair") tells an admin: `apt-get
install` of the new package on the standby node, then on the node that runs
the cloud (the postinst writes the new files and loads nothing), then
`uec-clc-ha-ctl apply` on each node (the first loads the new CIB and stamps
it, the second finds it stamped with its own file).  A client writes through
the VIP throughout.  The Cloud Controller must keep its PID (never
restarted: not even one planned move), nothing of the cloud may start or
stop, nothing acknowledged may be lost; the client's longest gap is printed.

The upgraded pair is left serving: it is this tree's pair like the one
`labctl up` makes, so the scenarios after it run on it.
"""

import re
import sys

import pytest

from lablib import config, packages, pair as lab_pair, scenario, state
from lablib.observe import Lab

# Run by `make lab-test` on a pair without the arbiter (proven on two_node pairs; not yet with the
# arbiter); `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]

@pytest.fixture(scope="module")
def previous_pair():
    lab_pair.down(sys.stdout)
    lab_pair.up(sys.stdout, release=packages.previous(), suite="bookworm")
    return Lab(state.load())


def installed(lab, node):
    return lab.exec(node, "dpkg-query", "-W", "-f", "${Version}", "uec-clc-ha", timeout=60).stdout.strip()


def test_rolling_upgrade_from_the_previous_release_restarts_nothing(previous_pair):
    lab = previous_pair
    watch = scenario.Watch(lab, "rolling-upgrade")
    assert {installed(lab, n) for n in config.NODES} == {packages.PREVIOUS}
    active = watch.active
    standby = config.peer(active)
    said = {}
    for node in (standby, active):
        done = lab_pair.install_deb(node, state.load()["ours"], 1800)
        said[node] = done.stdout + done.stderr
        assert installed(lab, node) != packages.PREVIOUS
        assert scenario.clc_pid(lab, active) == watch.pid             # the package alone restarts nothing
    assert "has not taken the new configuration yet" in said[active]
    applied = {node: lab.exec(node, "uec-clc-ha-ctl", "apply", timeout=900).stdout for node in (standby, active)}
    assert "crm configure load update" in applied[standby]
    assert "load update" not in applied[active] and "holds this" in applied[active]
    for node in config.NODES:
        dry = lab.exec(node, "uec-clc-ha-ctl", "apply", "--dry-run", timeout=300).stdout
        assert "would run" not in dry, dry
        text = lab.exec(node, "cat", "/etc/uec-clc-ha/uec-clc-ha.conf").stdout
        assert "settings format 2" in text and re.search(r"^Fencing-Delay: 40$", text, re.M)
    crm_config = lab.exec(active, "cibadmin", "--query", "--scope", "crm_config").stdout
    assert 'name="uec-clc-ha-loaded"' in crm_config and 'name="stonith-timeout"' in crm_config
    gap, touched = watch.finish()
    assert scenario.clc_pid(lab, active) == watch.pid and lab.active(active) == active
    assert not set(touched) & scenario.CLOUD, touched
    scenario.wait_normal(lab, 600)
    print(f"\nrolling upgrade {packages.PREVIOUS} -> {installed(lab, active)}: the CLC kept its PID, client's "
          f"longest gap {gap:.1f} s, {len(watch.writer.acked)} records acknowledged, none lost; "
          f"started/stopped: {touched}")
