"""Pacemaker's scheduler on the rendered cluster.crm: load it into a CIB file, then play states with crm_simulate.

Used by tests/integration/test_crm_simulate.py (placement) and by the
package tests that need real crm_mon XML of a given cluster state (the
prerm's refusal on a running pair, and its leave on a node installed
alone).  Nothing runs: crm_simulate computes what the cluster
would do and writes the resulting state, which crm_mon reads back as XML.
"""

import os
import subprocess
import xml.etree.ElementTree as ET

import golden
from uec_clc_ha.config import pipeline, verify
from uec_clc_ha.host.system import System

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

    def transition(self, *extra):
        """What the scheduler would do next, without doing it: (summary lines, {action: its inputs, transitively})."""
        graph = os.path.join(self.dir, f"graph{self.step}.xml")
        done = subprocess.run(["crm_simulate", "-x", self.cib, "-S", "-G", graph, *extra], env=self.env(),
                              check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        summary = done.stdout.split("Transition Summary:", 1)[-1].split("Executing Cluster Transition:", 1)[0]
        direct = {}
        for synapse in ET.parse(graph).getroot().iter("synapse"):
            action = next(iter(synapse.find("action_set")))
            inputs = {t.get("operation_key") for t in synapse.find("inputs").iter() if t.get("operation_key")}
            direct.setdefault(action.get("operation_key"), set()).update(inputs)

        def closure(key, seen):
            for i in direct.get(key, ()):
                if i not in seen:
                    seen.add(i)
                    closure(i, seen)
            return seen
        return ([line.strip() for line in summary.splitlines() if line.strip().startswith("*")],
                {key: closure(key, set()) for key in direct})

    def where(self):
        """{(resource id, role): [nodes it is active on]} from crm_mon's XML."""
        xml = subprocess.run(["crm_mon", "-1", "--output-as=xml"], env=self.env(), check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        where = {}
        for rsc in ET.fromstring(xml).iter("resource"):
            if rsc.get("active") == "true":
                where.setdefault((rsc.get("id"), rsc.get("role")), []).extend(n.get("name") for n in rsc.iter("node"))
        return where

    def placement(self):
        """{"rg_uec": node or None, "promoted": node or None, "fs": [nodes]} from crm_mon's XML."""
        where = self.where()
        group = [where.get((r, "Started"), []) for r in ("res_fs_clc", "res_ip_clc", "res_ip_clc_src", "res_uec",
                                                        "res_uec_image_store_proxy")]
        placed = {tuple(g) for g in group}
        return {"rg_uec": group[0][0] if len(placed) == 1 and len(group[0]) == 1 else
                ("split" if any(group) else None),
                "promoted": (where.get((DRBD, "Promoted")) or [None])[0]}


def loaded(tmp_path, scenario="corosync-drbd84"):
    """A Simulation of the scenario's rendered cluster.crm loaded by crmsh, before any node is up."""
    root = System(str(tmp_path / "root"))
    root.makedirs("/etc/init.d")
    root.write_atomic("/etc/init.d/image-store-proxy", "#!/bin/sh\nexit 0\n", mode=0o755)
    text = golden.rendered(scenario)["/etc/uec-clc-ha/cluster.crm"].content.decode()
    cib = str(tmp_path / "cib.xml")
    assert verify.verify_crm(System("/"), text, pipeline.agents(root), keep_cib=cib) == []
    return Simulation(tmp_path, cib)


def running_pair(tmp_path, scenario="corosync-drbd84"):
    """Both nodes up, DRBD UpToDate on both, both reaching the ping hosts: the cloud runs somewhere."""
    s = loaded(tmp_path, scenario)
    s.simulate(*[a for n in NODES for a in ("--node-up", n)])
    for node in NODES:
        s.attribute(node, f"master-{DRBD}", 10000)          # what ocf:linbit:drbd sets for UpToDate
        s.attribute(node, "pingd", 1000)
    state = s.simulate()
    assert state["rg_uec"] in NODES and state["promoted"] == state["rg_uec"], state
    s.active = state["rg_uec"]
    s.other = next(n for n in NODES if n != s.active)
    return s


def alone(tmp_path, node="clc1", scenario="corosync-drbd84"):
    """A node installed alone: its peer never came (down from the start) and it never had quorum (two_node's
    wait_for_all), so nothing starts.  crm_simulate makes no DC: crm_mon shows none, as on a node that has not
    elected itself yet (a real one does within dc-deadtime, and then says "partition WITHOUT quorum")."""
    s = loaded(tmp_path, scenario)
    peer = next(n for n in NODES if n != node)
    s.simulate("--node-up", node, "--node-down", peer, "--quorum", "false")
    state = s.simulate("--quorum", "false")
    assert state == {"rg_uec": None, "promoted": None}, state
    s.active, s.other = node, peer
    return s


def crm_mon_xml(sim):
    """crm_mon's XML of the simulation's current state (what the prerm and status read)."""
    return subprocess.run(["crm_mon", "-1", "--output-as=xml"], env=sim.env(), check=True,
                          stdout=subprocess.PIPE, text=True).stdout
