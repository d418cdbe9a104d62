"""Reconfiguring a live pair (scenario 6): a new VIP, then a new monitor interval; nothing else restarts.

The new VIP comes after the cluster stack was restarted under the running
cloud (maintenance mode), which leaves Pacemaker without the parameters of
the address's last start: the old VIP must still leave the node.  The
admin's way: the new answer preseeded and `dpkg-reconfigure uec-clc-ha`
on both nodes (the postinst writes the files; it loads nothing into the
running cluster), then `uec-clc-ha-ctl apply` on each node (the first loads
the new CIB, the second finds it loaded from its own file).  The cloud must
serve on the new VIP with every record, and the controllers' journals must
show no start or stop of anything but the address.  A new monitor interval
goes through `uec-clc-ha-ctl set` + `apply` and restarts nothing at all.
Each change is undone the same way at the end.
"""

import pytest

from lablib import config, scenario
from lablib.observe import wait_for
from lablib.scenario import Writer

# Run by `make lab-test` on a pair without the arbiter (proven on two_node pairs; not yet with the
# arbiter); `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]

NEW_VIP = "198.51.100.101"
ADDRESS = {"res_ip_clc", "res_ip_clc_src"}


def _reconfigure_vip(lab, vip):
    said = {}
    for node in config.NODES:
        lab.exec(node, "debconf-set-selections", stdin=f"uec-clc-ha uec-clc-ha/vip string {vip}\n", timeout=60)
        done = lab.exec(node, "dpkg-reconfigure", "-fnoninteractive", "uec-clc-ha", timeout=600)
        said[node] = done.stdout + done.stderr
    return said


def _apply(lab):
    return {node: lab.exec(node, "uec-clc-ha-ctl", "apply", timeout=600).stdout for node in config.NODES}


def _restart_stacks_under_the_cloud(lab):
    """The cluster stack restarted on both nodes with the cloud running on (maintenance mode), as the steps for
    new SBD timeouts or a new cluster key do: afterwards Pacemaker knows no parameters of the resources' last
    start, and Debian 13's Pacemaker stopped a changed IPaddr2 with the new ones (the old VIP stayed)."""
    lab.exec("clc1", "crm", "configure", "property", "maintenance-mode=true", timeout=120)
    for node in config.NODES:
        lab.exec(node, "systemctl", "stop", "pacemaker", "corosync", timeout=600)
    for node in config.NODES:
        lab.exec(node, "systemctl", "start", "corosync", "pacemaker", timeout=600)
    scenario.wait_online(lab, 600)
    lab.exec("clc1", "crm", "configure", "property", "maintenance-mode=false", timeout=120)
    scenario.wait_normal(lab, 600)
    scenario.settled(lab, "clc1", timeout=300)      # the fencing device started too: before the journals' cursors


def test_a_new_vip_on_the_live_pair_restarts_only_the_address(pair):
    scenario.restore(pair)
    _restart_stacks_under_the_cloud(pair)
    active = pair.active("clc1")
    pid = scenario.clc_pid(pair, active)
    for i in range(5):
        assert pair.write(f"reconfigure-before-{i}")
    since = {n: scenario.cursor(pair, n) for n in config.NODES}
    try:
        # the postinst writes the files on both nodes; `apply` moves the VIP (the first node's loads the CIB,
        # the second node's only notes it)
        _reconfigure_vip(pair, NEW_VIP)
        for node in config.NODES:
            assert f"VIP: {NEW_VIP}" in pair.exec(node, "cat", "/etc/uec-clc-ha/uec-clc-ha.conf").stdout
        _apply(pair)
        wait_for("the cloud serving on the new VIP", lambda: pair.serving(NEW_VIP), 300, step=0.5)
        assert not pair.serving()                                   # the old VIP is gone from every node
        for node in config.NODES:
            assert f"inet {config.VIP}/" not in pair.exec(node, "ip", "-4", "-o", "addr", "show").stdout
        writer = Writer(pair, "reconfigure-new-vip", addr=NEW_VIP)
        writer.start()
        writer.wait_acked()
        writer.finish()
        expected = [f"reconfigure-before-{i}" for i in range(5)] + writer.acked
        assert scenario.lost(pair, expected, addr=NEW_VIP) == []
        assert scenario.clc_pid(pair, active) == pid                # the CLC was not restarted
        restarted = scenario.restarted(pair, since)
        assert set(restarted) == ADDRESS, restarted
        assert pair.active(active) == active
        # nothing left to apply on either node
        for node in config.NODES:
            assert "would run" not in pair.exec(node, "uec-clc-ha-ctl", "apply", "--dry-run").stdout
    finally:
        _reconfigure_vip(pair, config.VIP)
        _apply(pair)
    wait_for("the cloud serving on the lab's VIP again", pair.serving, 300, step=0.5)
    scenario.restore(pair)


def test_a_new_monitor_interval_on_the_live_pair_restarts_nothing(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    pid = scenario.clc_pid(pair, active)
    old = scenario.shown(pair, "Monitor-Interval")
    new = "15" if old != "15" else "25"
    since = {n: scenario.cursor(pair, n) for n in config.NODES}
    try:
        scenario.set_on_both(pair, f"Monitor-Interval={new}")
        _apply(pair)
        cib = pair.exec(active, "cibadmin", "--query", "--scope", "resources").stdout
        assert f'name="monitor" interval="{new}s"' in cib
        # the new monitor runs: its result is recorded for the running CLC
        wait_for("the new monitor recorded", lambda: f"res_uec_monitor_{int(new) * 1000}" in pair.exec(
            active, "cibadmin", "--query", "--scope", "status").stdout, 120, step=2)
        assert scenario.restarted(pair, since) == []
        assert scenario.clc_pid(pair, active) == pid and pair.serving()
    finally:
        scenario.set_on_both(pair, f"Monitor-Interval={old}")
        _apply(pair)
    scenario.restore(pair)
