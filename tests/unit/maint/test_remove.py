"""The prerm on remove: refused on a node that is or was one of a running pair, let through on one that never formed
a pair; crm_mon's views recorded on the lab, crm_node and the CIB scripted.

`partitioned` as clc2 saw it (tests/fixtures/status/bookworm: cut off,
booted alone, no DC yet, nothing running) is what a node installed alone
shows too; whether it ever formed a pair is then told by crm_node and the
CIB (uec_clc_ha.cluster.pairing).  The package tests run the prerm for real
(tests/integration/test_maintainer_scripts.py), and
tests/integration/test_crm_simulate.py plays it on crm_simulate's states.
"""

import json
import os

import pytest

from checkout import TOP
from cib_model import Cib
from uec_clc_ha.errors import Refused
from uec_clc_ha.host import boot, paths
from uec_clc_ha.host.system import Completed, System
from uec_clc_ha.maint import remove


def captured(state, node):
    with open(os.path.join(TOP, "tests", "fixtures", "status", "bookworm", state, f"{node}.json")) as fh:
        return json.load(fh)["sources"]["crm_mon"]["stdout"]


ISOLATED_CLC2 = captured("partitioned", "clc2")
NORMAL_CLC2 = captured("normal", "clc2")
# clc2 put in standby (`crm node standby clc2`): nothing of the cloud's runs there any more
STANDBY_CLC2 = NORMAL_CLC2.replace('<node name="clc2" id="2" cached="true"/>', "").replace(
    '<node name="clc2" id="2" online="true" standby="false"', '<node name="clc2" id="2" online="true" standby="true"')
assert STANDBY_CLC2.count('standby="true"') == 1


class Node(System):
    """clc2 with an upstart override that boot start-up put there (restored only when removal goes ahead)."""

    def __init__(self, root, xml, name="clc2", nodes=None, quorate=False):
        super().__init__(root)
        self.xml, self.name, self.quorate = xml, name, quorate
        self.nodes = {"clc1": "lost", "clc2": "member"} if nodes is None else nodes
        self.cib = Cib()
        self.calls = []
        self.write_atomic("/etc/init/eucalyptus.override", boot.OVERRIDE_HEADER + boot.OVERRIDE)
        self.write_atomic(boot.STATE, json.dumps([{"System": "upstart", "Service": "eucalyptus",
                                                   "Action": "override manual"}]))

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        answer = self.cib.answer(self, argv)
        if answer is not None:
            return Completed(tuple(argv), answer[0], answer[1], "")
        if argv[0] == "crm_mon":
            return Completed(tuple(argv), 0, self.xml, "")
        if argv[:2] == ["crm_node", "-n"]:
            return Completed(tuple(argv), 0, self.name + "\n", "")
        if argv[:2] == ["crm_node", "-l"] and self.nodes:
            return Completed(tuple(argv), 0, "".join(f"{i} {n} {s}\n" for i, (n, s) in
                                                     enumerate(sorted(self.nodes.items()), 1)), "")
        if argv[:2] == ["crm_node", "-q"] and self.nodes:
            return Completed(tuple(argv), 0, "1\n" if self.quorate else "0\n", "")
        if argv[0] == "crm_node":
            return Completed(tuple(argv), 102, "", "crm_node: Could not connect to controller\n")
        raise AssertionError(f"unexpected {argv}")

    def restored(self):
        return not self.exists("/etc/init/eucalyptus.override") and not self.exists(boot.STATE)


def test_a_node_that_never_formed_a_pair_removes_and_says_why(root, capsys):
    node = Node(root.root, ISOLATED_CLC2)
    assert remove.prerm_remove(node) == 0
    assert node.restored()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == ("uec-clc-ha: removal goes ahead although the CIB uses ocf:ubuntu:eucaclc: clc2 never formed "
                        f"a pair with clc1: no quorum, clc1 not a member, nothing of the cloud's runs here, and neither "
                        f"{paths.PAIRED} nor the CIB records a pair; the cluster can start nothing here, so it needs "
                        "no agent here")
    assert lines[1:] == ["uec-clc-ha: boot start-up of eucalyptus restored (upstart)"]


@pytest.mark.parametrize("evidence, reason", [
    ("quorate", "this node's partition has quorum"),
    ("member", "clc1 is a member of this node's partition"),
    ("marker", f"{paths.PAIRED} records that it formed the pair"),
    ("attribute", f"clc1 wrote its {paths.PAIRED_ATTR} into this node's CIB"),
])
def test_a_node_that_is_or_was_one_of_a_pair_is_refused_unless_in_standby(root, capsys, evidence, reason):
    node = Node(root.root, ISOLATED_CLC2, nodes={"clc1": "member" if evidence == "member" else "lost",
                                                  "clc2": "member"}, quorate=evidence == "quorate")
    if evidence == "marker":
        node.write_atomic(paths.PAIRED, "2026-12-04 00:01:02 UTC: clc2 with clc1\n")
    if evidence == "attribute":
        node.cib.node_attrs = {"clc1": {paths.PAIRED_ATTR: "clc2"}, "clc2": {paths.PAIRED_ATTR: "clc1"}}
    with pytest.raises(Refused) as e:
        remove.prerm_remove(node)
    text = str(e.value)
    assert text.startswith("NOT REMOVED: the running cluster uses ocf:ubuntu:eucaclc (res_uec) and this node (clc2) "
                           "is not in standby; it is or was one of a running pair: ")
    assert reason in text and "`crm node standby clc2`" in text and "`systemctl stop pacemaker`" in text
    assert not node.restored() and capsys.readouterr().err == ""


def test_when_it_cannot_be_told_the_refusal_stands(root):
    node = Node(root.root, ISOLATED_CLC2, nodes={})
    with pytest.raises(Refused) as e:
        remove.prerm_remove(node)
    assert "whether it ever formed a pair cannot be told: crm_node does not say" in str(e.value)
    assert not node.restored()


def test_the_passive_node_of_a_running_pair_is_refused_without_asking_more(root):
    node = Node(root.root, NORMAL_CLC2)
    with pytest.raises(Refused) as e:
        remove.prerm_remove(node)
    assert "is not in standby; it is or was one of a running pair: the cluster runs res_drbd_uec-clc" in str(e.value)
    assert [c for c in node.calls if c[0] != "crm_mon"] == [["crm_node", "-n"]]


def test_the_node_that_runs_the_cloud_is_refused_as_before(root):
    node = Node(root.root, captured("normal", "clc1"), name="clc1")
    with pytest.raises(Refused) as e:
        remove.prerm_remove(node)
    assert "and this node (clc1) still runs it. Without the agent" in str(e.value)
    assert [c for c in node.calls if c[0] != "crm_mon"] == [["crm_node", "-n"]]


def test_a_node_in_standby_removes_as_before(root, capsys):
    node = Node(root.root, STANDBY_CLC2, nodes={"clc1": "member", "clc2": "member"}, quorate=True)
    assert remove.prerm_remove(node) == 0
    assert node.restored() and "removal goes ahead" not in capsys.readouterr().err
    assert [c for c in node.calls if c[0] != "crm_mon"] == [["crm_node", "-n"]]


def test_without_a_running_cluster_it_removes_as_before(root):
    node = Node(root.root, "")
    node.run = lambda argv, rcs=(0,), **kw: Completed(tuple(argv), 102, "", "crm_mon: Not connected\n")
    assert remove.prerm_remove(node) == 0 and node.restored()
