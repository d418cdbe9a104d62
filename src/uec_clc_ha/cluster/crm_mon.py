"""What the running cluster says about itself, from `crm_mon --output-as=xml` (never its human output).

Called by the maintainer helpers (prerm: may the agent go?) and by the
cluster commands.  read() runs crm_mon once; parse() turns its XML into a
View, so tests feed it real crm_mon output captured from crm_simulate states.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from uec_clc_ha.errors import CommandFailure, ToolMissing


@dataclass(frozen=True)
class Resource:
    id: str
    agent: str            # "ocf:ubuntu:eucaclc", "stonith:fence_sbd", ...
    role: str             # Started, Stopped, Promoted, Unpromoted
    nodes: tuple          # where it is active


@dataclass(frozen=True)
class View:
    nodes: dict = field(default_factory=dict)         # name -> {"online": bool, "standby": bool, "pending": bool}
    resources: tuple = ()
    quorate: bool = False                             # the DC's partition has quorum
    dc: str = ""                                      # the DC's name ("" when none)
    failures: tuple = ()                              # "op on node: reason" of each failed action
    maintenance: bool = False                         # cluster-wide maintenance-mode: nothing is started or stopped
    mixed: bool = False                               # the nodes run Pacemaker versions of different feature sets

    def using(self, agent):
        """Every resource (clone instances too) of the given agent."""
        return [r for r in self.resources if r.agent == agent]

    def active_on(self, node, agent):
        return [r for r in self.using(agent) if node in r.nodes]

    def running_on(self, ids):
        """The one node every resource of ``ids`` is active on, or None (stopped, starting, or split)."""
        active = {r.id: r.nodes for r in self.resources if r.nodes}
        placed = {tuple(active.get(i, ())) for i in ids}
        if len(placed) == 1:
            nodes = placed.pop()
            if len(nodes) == 1:
                return nodes[0]
        return None


def parse(xml_text):
    root = ET.fromstring(xml_text)
    nodes = {}
    for n in root.iter("node"):
        if n.get("name") and n.get("online") is not None:        # the <nodes> list, not resource placements
            nodes[n.get("name")] = {"online": n.get("online") == "true", "standby": n.get("standby") == "true",
                                    "pending": n.get("pending") == "true"}     # a member not joined yet
    resources = []
    section = root.find("resources")
    for r in (section.iter("resource") if section is not None else ()):
        active = tuple(n.get("name") for n in r.findall("node"))
        resources.append(Resource(r.get("id", ""), r.get("resource_agent", ""), r.get("role", ""), active))
    dc = root.find("summary/current_dc")
    quorate = dc is not None and dc.get("with_quorum") == "true"
    failures = []
    for f in root.iter("failure"):
        reason = f.get("exitreason") or f.get("exitstatus") or "failed"
        failures.append(f"{f.get('op_key') or f.get('task', '')} on {f.get('node', '?')}: {reason}")
    options = root.find("summary/cluster_options")
    maintenance = options is not None and options.get("maintenance-mode") == "true"
    mixed = dc is not None and dc.get("mixed_version") == "true"
    return View(nodes, tuple(resources), quorate, (dc.get("name") or "") if dc is not None else "",
                tuple(failures), maintenance, mixed)


def read(system, timeout=15):
    """The View of the cluster this node is a member of, or None when no cluster runs here."""
    try:
        done = system.run(["crm_mon", "-1", "--output-as=xml"], rcs=None, timeout=timeout)
    except (ToolMissing, CommandFailure):
        return None
    if done.rc != 0 or "<pacemaker-result" not in done.stdout:
        return None
    return parse(done.stdout)
