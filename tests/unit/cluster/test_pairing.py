"""Is this node one of a running pair, was it, or never: crm_mon's views recorded on the lab, crm_node and the CIB
scripted.

The views are the lab's (tests/fixtures/status/bookworm): `normal` (both
nodes up, the cloud on clc1) and `partitioned` as clc2 saw it (cut off from
clc1, booted alone: no DC yet, nothing running, every node offline), which
is also what a node installed alone looks like before it elects itself.  A
node installed alone that has elected itself DC shows the same with a DC
and with_quorum="false" (VIEW_ALONE_WITH_DC; the change is written where it
is made).  Real crm_mon output from crm_simulate's states is played in
tests/integration/test_crm_simulate.py.
"""

import json
import os
from types import SimpleNamespace

import pytest

from checkout import TOP
from cib_model import Cib
from uec_clc_ha.cluster import crm_mon, live_apply, pairing
from uec_clc_ha.host import paths
from uec_clc_ha.host.system import Completed, System


def captured(state, node):
    with open(os.path.join(TOP, "tests", "fixtures", "status", "bookworm", state, f"{node}.json")) as fh:
        return json.load(fh)["sources"]["crm_mon"]["stdout"]


NORMAL_CLC2 = captured("normal", "clc2")
ISOLATED_CLC2 = captured("partitioned", "clc2")
# clc2 alone once it elected itself: crm_mon then names it the DC of a partition without quorum, and it is online
ALONE_WITH_DC_CLC2 = ISOLATED_CLC2.replace(
    '<current_dc present="false"/>',
    '<current_dc present="true" version="2.1.5-a3f44794f94" name="clc2" id="2" with_quorum="false" '
    'mixed_version="false"/>').replace(
    '<node name="clc2" id="2" online="false" standby="false" standby_onfail="false" maintenance="false" '
    'pending="false" unclean="true"',
    '<node name="clc2" id="2" online="true" standby="false" standby_onfail="false" maintenance="false" '
    'pending="false" unclean="false"')
assert ALONE_WITH_DC_CLC2.count('with_quorum="false"') == 1 and ALONE_WITH_DC_CLC2.count('online="true"') == 1


class Node(System):
    """clc2: crm_node answers with ``nodes`` ({name: state}) and ``quorate``, or fails (None); the CIB is a Cib
    model (its node attributes, its stamp), or does not answer (None)."""

    def __init__(self, root, nodes=None, quorate=False, cib=True):
        super().__init__(root)
        self.nodes = {"clc1": "lost", "clc2": "member"} if nodes is None else nodes
        self.quorate = quorate
        self.cib = Cib() if cib else None
        self.calls = []

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        rc, out = 0, ""
        answer = self.cib.answer(self, argv) if self.cib is not None else None
        if answer is not None:
            rc, out = answer
        elif argv[0] == "cibadmin" or argv[0] == "crm_attribute":
            rc = 102                                          # no CIB manager to talk to
        elif argv[:2] == ["crm_node", "-l"]:
            rc, out = (0, "".join(f"{i} {n} {s}\n" for i, (n, s) in enumerate(sorted(self.nodes.items()), 1))) \
                if self.nodes else (102, "")
        elif argv[:2] == ["crm_node", "-q"]:
            rc, out = (0, "1\n" if self.quorate else "0\n") if self.nodes else (102, "")
        else:
            raise AssertionError(f"unexpected {argv}")
        return Completed(tuple(argv), rc, out, "")


def verdict(node, xml=ISOLATED_CLC2):
    return pairing.verdict(node, "clc2", crm_mon.parse(xml))


@pytest.mark.parametrize("xml", [ISOLATED_CLC2, ALONE_WITH_DC_CLC2], ids=["no DC yet", "its own DC"])
def test_a_node_installed_alone_never_formed_a_pair(root, xml):
    node = Node(root.root)
    node.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: live_apply.stamp_value(
        SimpleNamespace(local_node="clc2", image_store_proxy="no", source_address_route="no"), b"crm")}}
    found = verdict(node, xml)
    assert found.state == pairing.ALONE
    assert found.reason.startswith("clc2 never formed a pair with clc1: no quorum, clc1 not a member")


def test_a_pair_that_runs_needs_no_more_question(root):
    node = Node(root.root)
    found = verdict(node, NORMAL_CLC2)                        # the passive node: DRBD and ping run here
    assert found == pairing.Verdict(pairing.PAIR, "the cluster runs res_drbd_uec-clc, res_ping here")
    assert node.calls == []
    quiet = NORMAL_CLC2.replace('<node name="clc2" id="2" cached="true"/>', "")     # nothing of it here
    assert crm_mon.parse(quiet).active_on("clc2", "ocf:linbit:drbd") == []
    assert verdict(node, quiet) == pairing.Verdict(pairing.PAIR, "clc1 is online in this node's cluster")
    assert node.calls == []


def test_what_the_cluster_runs_here_counts_whatever_else(root):
    found = pairing.verdict(Node(root.root), "clc1", crm_mon.parse(captured("one-node-down", "clc1")))
    assert found.state == pairing.PAIR and "the cluster runs" in found.reason and "res_uec" in found.reason


@pytest.mark.parametrize("nodes, quorate, reason", [
    ({"clc1": "lost", "clc2": "member"}, True, "this node's partition has quorum"),
    ({"clc1": "member", "clc2": "member"}, False, "clc1 is a member of this node's partition"),
])
def test_quorum_or_the_peer_a_member_now_is_a_pair(root, nodes, quorate, reason):
    found = verdict(Node(root.root, nodes, quorate))
    assert found == pairing.Verdict(pairing.PAIR, reason)


def test_the_marker_keeps_a_pair_that_formed_once(root):
    node = Node(root.root)
    node.write_atomic(paths.PAIRED, "# header\n2026-12-04 00:01:02 UTC: clc2 with clc1\n")
    found = verdict(node)
    assert found.state == pairing.PAIR and "2026-12-04 00:01:02 UTC: clc2 with clc1" in found.reason


@pytest.mark.parametrize("attribute", [paths.PAIRED_ATTR, paths.SETTINGS_ATTR, paths.DISK_ATTR, paths.RELEASE_ATTR])
def test_the_peers_own_words_in_this_cib_mean_it_shared_it(root, attribute):
    node = Node(root.root)
    node.cib.node_attrs = {"clc1": {"standby": "off", attribute: "x"}, "clc2": {}}
    found = verdict(node)
    assert found.state == pairing.PAIR and f"clc1 wrote its {attribute}" in found.reason


def test_this_nodes_own_paired_word_counts_and_doctors_own_words_do_not(root):
    node = Node(root.root)
    node.cib.node_attrs = {"clc2": {paths.SETTINGS_ATTR: "x", paths.RELEASE_ATTR: "debian=12"}, "clc1": {"standby": "on"}}
    assert verdict(node).state == pairing.ALONE           # doctor run on this node alone: no peer in that
    node.cib.node_attrs["clc2"][paths.PAIRED_ATTR] = "clc1"
    assert verdict(node).state == pairing.PAIR


def test_a_cib_loaded_on_the_peer_was_shared(root):
    node = Node(root.root)
    node.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: live_apply.stamp_value(
        SimpleNamespace(local_node="clc1", image_store_proxy="no", source_address_route="no"), b"crm")}}
    found = verdict(node)
    assert found.state == pairing.PAIR and "the CIB was loaded on clc1" in found.reason


def test_a_stamp_naming_no_node_of_this_cluster_is_no_peer(root):
    node = Node(root.root)                                    # Local-Node renamed since the load: not a pair
    node.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: live_apply.stamp_value(
        SimpleNamespace(local_node="oldname", image_store_proxy="no", source_address_route="no"), b"crm")}}
    assert verdict(node).state == pairing.ALONE


def test_without_crm_node_or_the_cib_it_cannot_be_told(root):
    found = verdict(Node(root.root, nodes={}))
    assert found.state == pairing.UNSURE and "crm_node" in found.reason
    found = verdict(Node(root.root, cib=False))
    assert found.state == pairing.UNSURE and "the CIB does not answer" in found.reason


def test_the_membership_is_crm_nodes(root):
    seen = pairing.membership(Node(root.root, {"clc1": "member", "clc2": "member"}, True))
    assert seen.members == ["clc1", "clc2"] and seen.quorate
    assert pairing.membership(Node(root.root, nodes={})) is None


def test_the_evidence_is_kept_once_both_are_members_of_a_quorate_partition(root):
    node = Node(root.root, {"clc1": "member", "clc2": "member"}, quorate=False)
    assert pairing.note(node, "clc2") is False
    assert not node.exists(paths.PAIRED) and node.cib.node_attrs == {}
    node.quorate = True
    assert pairing.note(node, "clc2") is True
    marker = node.read(paths.PAIRED)
    assert marker.startswith("# Written by uec-clc-ha") and marker.rstrip().endswith(": clc2 with clc1")
    assert node.cib.node_attrs == {"clc2": {paths.PAIRED_ATTR: "clc1"}}
    updates = len([c for c in node.calls if "--update" in c])
    assert pairing.note(node, "clc2") is True                 # once: the marker stays, the CIB has the word
    assert node.read(paths.PAIRED) == marker
    assert len([c for c in node.calls if "--update" in c]) == updates


def test_alone_in_a_quorate_partition_is_no_pair(root):
    node = Node(root.root, {"clc1": "lost", "clc2": "member"}, quorate=True)     # the arbiter's vote, say
    assert pairing.note(node, "clc2") is False and not node.exists(paths.PAIRED)


def test_a_cib_that_refuses_the_word_leaves_the_marker(root):
    node = Node(root.root, {"clc1": "member", "clc2": "member"}, quorate=True, cib=False)
    assert pairing.note(node, "clc2") is True
    assert node.exists(paths.PAIRED)
