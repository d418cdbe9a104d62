"""Where Pacemaker places the cloud, simulated on the rendered cluster.crm with crm_simulate.

The rendered configuration is loaded into a CIB file by crmsh (the same load
the verifier and cluster-init do), then Pacemaker's own scheduler plays
states through it (tests/support/crm_sim.py): both nodes up with DRBD UpToDate (the
promotion scores ocf:linbit:drbd would set), the ping attribute of each
node, fail counts, a node going down; and a node installed alone, whose
peer never came (the prerm lets the package go there).
"""

import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from crm_sim import DRBD, NODES, alone, crm_mon_xml, running_pair
from uec_clc_ha.cluster import crm_mon
from uec_clc_ha.maint import remove
from uec_clc_ha.errors import Refused
from uec_clc_ha.host.system import Completed, System


@pytest.fixture
def sim(tmp_path):
    return running_pair(tmp_path)


def test_the_group_runs_where_drbd_is_promoted(sim):
    assert sim.placement() == {"rg_uec": sim.active, "promoted": sim.active}


def test_a_node_that_lost_the_public_network_hands_the_cloud_over(sim):
    sim.attribute(sim.active, "pingd", 0)
    assert sim.simulate() == {"rg_uec": sim.other, "promoted": sim.other}


def test_when_both_lose_the_ping_hosts_the_cloud_stays_where_it_is(sim):
    for node in NODES:
        sim.attribute(node, "pingd", 0)
    assert sim.simulate() == {"rg_uec": sim.active, "promoted": sim.active}


def test_a_node_whose_ping_has_not_reported_yet_does_not_lose_the_cloud(sim):
    # cluster start: the peer's ping resource reported first; the active node's attribute is not there yet
    subprocess.run(["crm_attribute", "-N", sim.active, "-n", "pingd", "-l", "reboot", "-D"], env=sim.env(),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert sim.simulate() == {"rg_uec": sim.active, "promoted": sim.active}


def test_a_restored_link_moves_nothing_back(sim):
    first = sim.active
    sim.attribute(first, "pingd", 0)
    assert sim.simulate()["rg_uec"] == sim.other
    sim.attribute(first, "pingd", 1000)
    assert sim.simulate() == {"rg_uec": sim.other, "promoted": sim.other}


def test_a_clc_that_keeps_failing_moves_after_migration_threshold(sim):
    sim.attribute(sim.active, "fail-count-res_uec#monitor_20000", 2)
    assert sim.simulate()["rg_uec"] == sim.active                      # below the threshold: restarted in place
    sim.attribute(sim.active, "fail-count-res_uec#monitor_20000", 3)
    assert sim.simulate() == {"rg_uec": sim.other, "promoted": sim.other}


def test_the_survivor_takes_over_when_the_active_node_goes(sim):
    assert sim.simulate("--node-down", sim.active) == {"rg_uec": sim.other, "promoted": sim.other}


def test_at_a_failover_the_vip_comes_up_while_drbd_is_promoted_and_the_clc_after_both(sim):
    _, after = sim.transition("--node-down", sim.active)
    promote = f"{DRBD}_promote_0"
    assert promote in after["res_fs_clc_start_0"]                  # the data only where DRBD is Primary
    assert promote not in after["res_ip_clc_start_0"]              # the address does not wait for it
    assert {"res_fs_clc_start_0", "res_ip_clc_start_0", "res_ip_clc_src_start_0"} <= after["res_uec_start_0"]


def _running_on(sim, rsc):
    return sim.where().get((rsc, "Started"), [])


def test_the_sbd_devices_wait_on_the_passive_node_so_a_failover_starts_none(sim):
    # fence_sbd's start and first monitor are seconds of Python with the fencer's weight (nice -10): not beside the
    # survivor's promotion (the probe's device too; an arbiter pair has st_sbd alone, the same colocation)
    devices = ["st_sbd", "st_sbd_probe"]
    assert {d: _running_on(sim, d) for d in devices} == {d: [sim.other] for d in devices}
    summary, after = sim.transition("--node-down", sim.active)
    assert not [a for a in after if a.startswith("st_sbd") and "_start_" in a], sorted(after)
    assert sim.simulate("--node-down", sim.active) == {"rg_uec": sim.other, "promoted": sim.other}


def test_the_devices_alone_with_the_cloud_stay_and_never_move_it(sim):
    # the passive node lost: the device starts beside the cloud, and its return moves nothing of the cloud
    sim.simulate("--node-down", sim.other)
    assert _running_on(sim, "st_sbd") == [sim.active]
    state = sim.simulate("--node-up", sim.other)
    assert state == {"rg_uec": sim.active, "promoted": sim.active}


def test_the_devices_moved_off_a_serving_node_restart_nothing_of_the_cloud(sim):
    # 0.7.6's colocation loaded into a pair whose devices run beside the cloud: only the devices move
    subprocess.run(["crm_resource", "-r", "st_sbd", "--move", "--node", sim.active], env=sim.env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sim.simulate()
    assert _running_on(sim, "st_sbd") == [sim.active]
    subprocess.run(["crm_resource", "-r", "st_sbd", "--clear"], env=sim.env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary, _ = sim.transition()
    assert summary and all("st_sbd" in line for line in summary), summary
    assert sim.simulate() == {"rg_uec": sim.active, "promoted": sim.active}
    assert _running_on(sim, "st_sbd") == [sim.other]


def test_a_new_vip_restarts_the_address_and_nothing_else(sim):
    for rsc, param in (("res_ip_clc", "ip"), ("res_ip_clc_src", "ipaddress")):
        subprocess.run(["crm_resource", "-r", rsc, "-p", param, "-v", "203.0.113.100"], env=sim.env(), check=True,
                       stdout=subprocess.DEVNULL)
    summary, _ = sim.transition()
    restarted = sorted(line.split()[2] for line in summary if line.startswith("* Restart"))
    assert restarted == ["res_ip_clc", "res_ip_clc_src"], summary
    assert not [line for line in summary if not line.startswith("* Restart")], summary


def test_a_new_monitor_interval_restarts_nothing(sim):
    tree = ET.parse(sim.cib)
    op = next(op for op in tree.iter("op") if op.get("id", "").startswith("res_uec-")
              and op.get("name") == "monitor" and op.get("interval") == "10s")
    op.set("interval", "15s")
    tree.write(sim.cib)
    summary, after = sim.transition()
    assert summary == [], summary
    assert "res_uec_monitor_15000" in after                        # the new monitor is simply scheduled


def test_the_cib_carries_one_deep_monitor_priority_and_fencing_delay(sim):
    tree = ET.parse(sim.cib)
    ops = {(op.get("name"), op.get("interval")): op for op in tree.iter("op")
           if op.get("id", "").startswith("res_uec-")}
    # one recurring monitor (a crash counts once), depth 10, its health checks every health_interval seconds
    assert [key for key in ops if key[0] == "monitor" and key[1] != "0"] == [("monitor", "10s")]
    deep = ops[("monitor", "10s")]
    assert [(nv.get("name"), nv.get("value")) for nv in deep.iter("nvpair")] == [("OCF_CHECK_LEVEL", "10")]
    uec = next(p for p in tree.iter("primitive") if p.get("id") == "res_uec")
    params = {nv.get("name"): nv.get("value") for nv in uec.find("instance_attributes").iter("nvpair")}
    assert params["health_interval"] == "30"
    group = next(g for g in tree.iter("group") if g.get("id") == "rg_uec")
    assert ("priority", "10") in [(nv.get("name"), nv.get("value")) for nv in group.iter("nvpair")]
    props = {nv.get("name"): nv.get("value") for nv in tree.iter("nvpair")}
    # the fencing probe decides a split (no priority delay); each node's level 1 is the probe, level 2 st_sbd
    assert props["priority-fencing-delay"] == "0s" and props["stonith-enabled"] == "true"
    levels = sorted((lv.get("target"), lv.get("index"), lv.get("devices")) for lv in tree.iter("fencing-level"))
    assert levels == [("clc1", "1", "st_sbd_probe"), ("clc1", "2", "st_sbd"),
                      ("clc2", "1", "st_sbd_probe"), ("clc2", "2", "st_sbd")]
    assert props["load-threshold"] == "1000%" and props["node-action-limit"] == "8"
    assert props["migration-threshold"] == "3" and props["failure-timeout"] == "600s"


GROUP_MEMBERS = ("res_fs_clc", "res_uec", "res_uec_image_store_proxy", "res_ip_clc", "res_ip_clc_src")


def test_a_failed_probe_on_the_passive_node_would_restart_the_cloud_where_it_runs(sim):
    # why the probes get time of their own: Pacemaker counts the resource as active on both nodes and
    # recovers it where it runs, with the group's later members (the CLC) restarted
    summary, _ = sim.transition("--op-inject", f"res_fs_clc_monitor_0@{sim.other}=1")
    assert any(line.startswith("* Restart") and "res_uec " in line and sim.active in line for line in summary), \
        summary
    assert sim.transition("--op-inject", f"res_fs_clc_monitor_0@{sim.other}=7")[0] == []    # not running: fine


def test_the_probes_have_two_minutes(sim):
    # a node that boots (the probes of every resource at once) gets 120 s, not the recurring monitor's 40 s
    tree = ET.parse(sim.cib)                               # the node's resource history gone: it probes again
    history = next(s for s in tree.iter("node_state") if s.get("uname") == sim.other).find("lrm/lrm_resources")
    for entry in list(history):
        history.remove(entry)
    tree.write(sim.cib)
    graph = os.path.join(sim.dir, "probes.xml")
    subprocess.run(["crm_simulate", "-x", sim.cib, "-G", graph], env=sim.env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probes = {op.get("operation_key"): op.find("attributes").get("CRM_meta_timeout")
              for op in ET.parse(graph).getroot().iter("rsc_op")
              if op.get("operation_key", "").endswith("_monitor_0") and op.get("on_node") == sim.other
              and op.find("attributes") is not None}
    assert {f"{r}_monitor_0": "120000" for r in GROUP_MEMBERS} == {k: v for k, v in probes.items()
                                                                     if k[:-len("_monitor_0")] in GROUP_MEMBERS}


# the cloud's resources and their recurring monitors' timeouts before 0.7.6 (120 s since)
OLD_MONITOR_TIMEOUTS = {"res_fs_clc": "40s", "res_ip_clc": "40s", "res_ip_clc_src": "40s", "res_uec": "60s",
                        DRBD: "60s", "res_uec_image_store_proxy": "30s"}


def _recurring_monitors(primitive):
    return [op for op in primitive.find("operations") if op.get("name") == "monitor" and op.get("interval") != "0"]


def test_probe_and_monitor_timeouts_taken_by_a_running_pair_restart_nothing(sim):
    # an upgrade's `apply` loads them into a serving pair's CIB (0.7.5's: no probes of their own, the
    # recurring monitors at OLD_MONITOR_TIMEOUTS): the cloud must not notice
    # (and 0.7.6's: DRBD's notifications without an op of their own, Pacemaker's 20 s)
    tree = ET.parse(sim.cib)
    for ops in tree.iter("operations"):
        for op in [op for op in ops if op.get("name") in ("monitor", "notify") and op.get("interval") == "0"]:
            ops.remove(op)
    for primitive in tree.iter("primitive"):
        for op in _recurring_monitors(primitive) if primitive.get("id") in OLD_MONITOR_TIMEOUTS else ():
            op.set("timeout", OLD_MONITOR_TIMEOUTS[primitive.get("id")])
    tree.write(sim.cib)
    assert sim.transition()[0] == []
    sim.simulate()
    again = ET.parse(sim.cib)
    for primitive in again.iter("primitive"):
        if primitive.get("id") in GROUP_MEMBERS:
            ET.SubElement(primitive.find("operations"), "op", id=f"{primitive.get('id')}-monitor-0", name="monitor",
                          interval="0", timeout="120s")
        for op in _recurring_monitors(primitive) if primitive.get("id") in OLD_MONITOR_TIMEOUTS else ():
            op.set("timeout", "120s")
        if primitive.get("id") == DRBD:
            ET.SubElement(primitive.find("operations"), "op", id=f"{DRBD}-notify-0", name="notify", interval="0",
                          timeout="90s")
    again.write(sim.cib)
    summary, _ = sim.transition()
    assert summary == [], summary


def test_every_monitor_of_the_cloud_has_two_minutes(sim):
    # one that runs long is a starved node, not a failed resource (the CLC's agent bounds its own checks)
    found = {}
    for primitive in ET.parse(sim.cib).iter("primitive"):
        for op in _recurring_monitors(primitive) if primitive.get("id") in OLD_MONITOR_TIMEOUTS else ():
            found.setdefault(primitive.get("id"), set()).add(op.get("timeout"))
    assert found == {rsc: {"120s"} for rsc in OLD_MONITOR_TIMEOUTS}, found


class ClusterHost(System):
    """A node whose crm_mon prints a simulated state's real XML and whose crm_node names it."""

    def __init__(self, root, node, xml):
        super().__init__(root)
        self.node, self.xml = node, xml

    def run(self, argv, rcs=(0,), **kwargs):
        if argv[0] == "crm_mon":
            return Completed(tuple(argv), 0, self.xml, "")
        if argv[:2] == ["crm_node", "-n"]:
            return Completed(tuple(argv), 0, self.node + "\n", "")
        raise AssertionError(f"unexpected command {argv}")


def test_crm_mon_xml_is_read_as_the_cluster_says(sim):
    view = crm_mon.parse(crm_mon_xml(sim))
    assert set(view.nodes) == set(NODES) and all(n["online"] and not n["standby"] for n in view.nodes.values())
    assert [r.nodes for r in view.using("ocf:ubuntu:eucaclc")] == [(sim.active,)]
    assert view.active_on(sim.other, "ocf:ubuntu:eucaclc") == []


def test_removal_is_refused_on_a_node_the_cluster_may_run_the_agent_on(sim, tmp_path):
    xml = crm_mon_xml(sim)
    for node in NODES:                       # the active node, and the passive one (not in standby)
        with pytest.raises(Refused) as e:
            remove.prerm_remove(ClusterHost(str(tmp_path), node, xml))
        assert f"crm node standby {node}" in str(e.value) and "fenced" in str(e.value)


def test_removal_goes_ahead_on_a_node_in_standby(sim, tmp_path):
    leaving = sim.active
    subprocess.run(["crm_attribute", "-N", leaving, "-n", "standby", "-v", "on"], env=sim.env(), check=True)
    assert sim.simulate()["rg_uec"] == sim.other
    view = crm_mon.parse(crm_mon_xml(sim))
    assert view.nodes[leaving]["standby"] is True
    assert remove.prerm_remove(ClusterHost(str(tmp_path), leaving, crm_mon_xml(sim))) == 0
    with pytest.raises(Refused):
        remove.prerm_remove(ClusterHost(str(tmp_path), sim.other, crm_mon_xml(sim)))


class LoneHost(ClusterHost):
    """A node installed alone: crm_mon prints the simulated state, cibadmin reads the simulation's CIB (the real
    tools, on the CIB file), and crm_node says what corosync says there: the peer lost, no quorum (crm_node needs a
    running controller, which a simulation has not)."""

    def __init__(self, root, sim):
        super().__init__(root, sim.active, crm_mon_xml(sim))
        self.sim = sim

    def run(self, argv, rcs=(0,), **kwargs):
        if argv[0] == "cibadmin":
            done = subprocess.run(argv, env=self.sim.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            return Completed(tuple(argv), done.returncode, done.stdout, done.stderr)
        if argv[:2] == ["crm_node", "-l"]:
            return Completed(tuple(argv), 0, f"1 {self.sim.active} member\n2 {self.sim.other} lost\n", "")
        if argv[:2] == ["crm_node", "-q"]:
            return Completed(tuple(argv), 0, "0\n", "")
        return super().run(argv, rcs, **kwargs)


def test_removal_goes_ahead_on_a_node_that_never_formed_a_pair_and_not_once_the_peer_wrote_into_its_cib(tmp_path,
                                                                                                       capsys):
    lone = alone(tmp_path / "sim")
    view = crm_mon.parse(crm_mon_xml(lone))
    assert not view.quorate and not view.nodes[lone.other]["online"] and view.using("ocf:ubuntu:eucaclc")
    # cluster-init loaded cluster.crm and stamped the CIB on this node, as it does on a node alone
    subprocess.run(["crm_attribute", "--type", "crm_config", "--set-name", "uec-clc-ha", "--name",
                    "uec-clc-ha-loaded", "--update", f"0123abcd node={lone.active} image-store-proxy=no "
                    "source-address-route=no"], env=lone.env(), check=True, stdout=subprocess.DEVNULL)
    assert remove.prerm_remove(LoneHost(str(tmp_path / "root"), lone)) == 0
    assert f"{lone.active} never formed a pair with {lone.other}" in capsys.readouterr().err
    # the peer's cluster-init, once it joined, left its word in the CIB both nodes share
    subprocess.run(["crm_attribute", "--type", "nodes", "--node", lone.other, "--name", "uec-clc-ha-paired",
                    "--update", lone.active], env=lone.env(), check=True, stdout=subprocess.DEVNULL)
    with pytest.raises(Refused) as e:
        remove.prerm_remove(LoneHost(str(tmp_path / "root"), lone))
    assert f"{lone.other} wrote its uec-clc-ha-paired into this node's CIB" in str(e.value)
