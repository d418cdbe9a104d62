"""Where Pacemaker places the cloud, simulated on the rendered cluster.crm with crm_simulate.

The rendered configuration is loaded into a CIB file by crmsh (the same load
the verifier and cluster-init do), then Pacemaker's own scheduler plays
states through it: both nodes up with DRBD UpToDate (the promotion scores
ocf:linbit:drbd would set), the ping attribute of each node, fail counts,
a node going down.  Nothing runs; crm_simulate computes what the cluster
would do and writes the resulting state, which crm_mon reads back as XML.
"""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import golden_files
from uec_clc_ha import pipeline, verify
from uec_clc_ha.system import System

NODES = ("clc1", "clc2")
DRBD = "res_drbd_uec-clc"


class Simulation:
    """A CIB file and the commands that change and replay it."""

    def __init__(self, directory, cib):
        self.dir, self.cib, self.step = str(directory), cib, 0

    def env(self, path=None):
        return dict(os.environ, CIB_file=path or self.cib, PATH="/usr/sbin:/usr/bin:/sbin:/bin")

    def attribute(self, node, name, value):
        subprocess.run(["crm_attribute", "-N", node, "-n", name, "-v", str(value), "-l", "reboot"],
                       env=self.env(), check=True, stdout=subprocess.DEVNULL)

    def simulate(self, *extra):
        """Run the scheduler and every action it wants (simulated as successful); the result is the new state."""
        self.step += 1
        out = os.path.join(self.dir, f"state{self.step}.xml")
        subprocess.run(["crm_simulate", "-x", self.cib, "-S", "-O", out, *extra], env=self.env(), check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.cib = out
        return self.placement()

    def placement(self):
        """{"rg_uec": node or None, "promoted": node or None, "fs": [nodes]} from crm_mon's XML."""
        xml = subprocess.run(["crm_mon", "-1", "--output-as=xml"], env=self.env(), check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        tree = ET.fromstring(xml)
        where = {}
        for rsc in tree.iter("resource"):
            nodes = [n.get("name") for n in rsc.iter("node")]
            if rsc.get("active") == "true":
                where.setdefault((rsc.get("id"), rsc.get("role")), []).extend(nodes)
        group = [where.get((r, "Started"), []) for r in ("res_fs_clc", "res_ip_clc", "res_ip_clc_src", "res_uec",
                                                        "res_uec_image_store_proxy")]
        placed = {tuple(g) for g in group}
        return {"rg_uec": group[0][0] if len(placed) == 1 and len(group[0]) == 1 else
                ("split" if any(group) else None),
                "promoted": (where.get((DRBD, "Promoted")) or [None])[0]}


@pytest.fixture
def sim(tmp_path):
    """Both nodes up, DRBD UpToDate on both, both reaching the ping hosts: the cloud runs somewhere."""
    root = System(str(tmp_path / "root"))
    root.makedirs("/etc/init.d")
    root.write_atomic("/etc/init.d/image-store-proxy", "#!/bin/sh\nexit 0\n", mode=0o755)
    text = golden_files.rendered("corosync-drbd84")["/etc/uec-clc-ha/cluster.crm"].content.decode()
    cib = str(tmp_path / "cib.xml")
    assert verify.verify_crm(System("/"), text, pipeline.agents(root), keep_cib=cib) == []
    s = Simulation(tmp_path, cib)
    s.simulate(*[a for n in NODES for a in ("--node-up", n)])
    for node in NODES:
        s.attribute(node, f"master-{DRBD}", 10000)          # what ocf:linbit:drbd sets for UpToDate
        s.attribute(node, "pingd", 1000)
    state = s.simulate()
    assert state["rg_uec"] in NODES and state["promoted"] == state["rg_uec"], state
    s.active = state["rg_uec"]
    s.other = next(n for n in NODES if n != s.active)
    return s


pytestmark = pytest.mark.skipif(not shutil.which("crm_simulate", path="/usr/sbin:/usr/bin"),
                                reason="pacemaker-cli-utils not installed")


def test_the_group_runs_where_drbd_is_promoted(sim):
    assert sim.placement() == {"rg_uec": sim.active, "promoted": sim.active}


def test_a_node_that_lost_the_public_network_hands_the_cloud_over(sim):
    sim.attribute(sim.active, "pingd", 0)
    assert sim.simulate() == {"rg_uec": sim.other, "promoted": sim.other}


def test_when_both_lose_the_ping_hosts_the_cloud_stays_where_it_is(sim):
    for node in NODES:
        sim.attribute(node, "pingd", 0)
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


def test_the_cib_carries_the_deep_monitor_priority_and_fencing_delay(sim):
    tree = ET.parse(sim.cib)
    ops = {(op.get("name"), op.get("interval")): op for op in tree.iter("op")
           if op.get("id", "").startswith("res_uec-")}
    deep = ops[("monitor", "60s")]
    assert [(nv.get("name"), nv.get("value")) for nv in deep.iter("nvpair")] == [("OCF_CHECK_LEVEL", "10")]
    assert ("monitor", "20s") in ops
    group = next(g for g in tree.iter("group") if g.get("id") == "rg_uec")
    assert ("priority", "10") in [(nv.get("name"), nv.get("value")) for nv in group.iter("nvpair")]
    props = {nv.get("name"): nv.get("value") for nv in tree.iter("nvpair")}
    assert props["priority-fencing-delay"] == "15s" and props["stonith-enabled"] == "true"
    assert props["migration-threshold"] == "3" and props["failure-timeout"] == "600s"
