"""unblock against states recorded on the lab pair: what it refuses, what it runs, what it waits for.

The node that waits is clc1 here: the recorded partition's clc2 (booted
alone, no quorum, wait_for_all, DRBD not started) with the two names
swapped; after the wait is lifted the cluster answers as the recorded
one-node-down clc1 (quorate, serving, clc2 offline).  Every refusal must
leave corosync untouched (no `corosync-cmapctl -s`).
"""

import io
import json
import os
import re

import pytest

from checkout import TOP
from scenarios import QDEVICE_SV, node_config, scripted_mover
from uec_clc_ha.cluster import pair_status, unblock
from uec_clc_ha.cli import unblock as unblock_cmd
from uec_clc_ha.errors import Refused, Waiting
from uec_clc_ha.host.system import Completed, System

TRIXIE = os.path.join(TOP, "tests", "fixtures", "status", "trixie")


def _sources(state, node):
    with open(os.path.join(TRIXIE, state, f"{node}.json")) as fh:
        return json.load(fh)["sources"]


def _swap(text):
    return re.sub(r"clc([12])", lambda m: f"clc{3 - int(m.group(1))}", text)


ALONE = {name: dict(src, stdout=_swap(src["stdout"])) for name, src in _sources("partitioned", "clc2").items()}
SERVING = _sources("one-node-down", "clc1")
SECONDARY = ("version: 8.4.11 (api:1/proto:86-101)\n"
             " 0: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----\n")
CONSISTENT = SECONDARY.replace("ds:UpToDate/DUnknown", "ds:Consistent/DUnknown")
HELD = ("version: 8.4.11 (api:1/proto:86-101)\n"
        " 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C s-----\n")


class Alone(System):
    """clc1 alone: answers as ALONE until `corosync-cmapctl -s quorum.cancel_wait_for_all`, then as SERVING."""

    def __init__(self, root, quorate_after=True):
        super().__init__(root)
        self.lifted, self.calls, self.quorate_after = False, [], quorate_after
        self.qdevice = None

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        if argv[:2] == ["corosync-cmapctl", "-s"]:
            self.calls.append(argv)
            self.lifted = True
            return Completed(tuple(argv), 0, "", "")
        if argv[0] == "corosync-qdevice-tool":
            return Completed(tuple(argv), 0 if self.qdevice else 1, self.qdevice or "", "")
        now = SERVING if self.lifted and self.quorate_after else ALONE
        src = next((s for s in now.values() if s["argv"] == argv), None)
        if src is None:
            self.calls.append(argv)
            return Completed(tuple(argv), 0, "", "")
        return Completed(tuple(argv), 0, src["stdout"], "")


@pytest.fixture
def alone(root):
    def make(drbd=SECONDARY, quorate_after=True, **settings):
        node = Alone(root.root, quorate_after)
        mover, out = scripted_mover(node, drbd, **settings)
        return node, mover, out
    return make


def test_the_recorded_node_alone_waits_for_every_vote_and_its_peer():
    doc = pair_status.collect(node_config("clc1"), ALONE, drift=None)
    assert doc["quorum"] == {"quorate": False, "two_node": True, "wait_for_all": True}
    assert not doc["nodes"]["clc2"]["online"]
    assert not any("unblock" in p for p in doc["problems"]), doc["problems"]     # two_node: it would be refused
    doc = pair_status.collect(node_config("clc1", Arbiter="203.0.113.13"), ALONE, drift=None)
    assert any(p.endswith("a peer that is off for good: uec-clc-ha-ctl unblock") for p in doc["problems"]), \
        doc["problems"]


def test_a_node_alone_with_an_uptodate_copy_lifts_the_wait_is_fenced_for_and_serves(alone):
    node, mover, out = alone()
    what = unblock.plan(mover.c, mover.read())
    assert "lift wait_for_all on clc1" in what and "its own vote (two_node)" in what
    assert "fences clc2 (sbd)" in what and "the cloud starts on clc1" in what and "must be off" in what
    unblock.unblock(mover, 600)
    assert node.calls == [list(unblock.CANCEL)]
    text = out.getvalue()
    assert "clc1 is quorate" in text and "the cloud serves on clc1" in text


def test_the_active_node_whose_writes_are_held_keeps_the_cloud(alone):
    node, mover, _ = alone(drbd=HELD)
    doc = mover.read()
    assert doc["drbd"]["io_suspended"] is True
    assert "the held writes go on" in unblock.plan(mover.c, dict(doc, active="clc1"))


@pytest.mark.parametrize("drbd, words", [
    ("version: 8.4.11 (api:1/proto:86-101)\n", "does not run on clc1 .*not known; bring clc2 back"),
    (CONSISTENT, "Consistent, not UpToDate.*bring clc2 back"),
])
def test_a_copy_that_may_miss_writes_is_refused(alone, drbd, words):
    node, mover, _ = alone(drbd=drbd)
    with pytest.raises(Refused, match=words):
        unblock.plan(mover.c, mover.read())
    assert node.calls == []


@pytest.mark.parametrize("change, words", [
    (lambda d: d["quorum"].update(quorate=True), "clc1's partition is quorate"),
    (lambda d: d["quorum"].update(wait_for_all=False), "does not wait for every node"),
    (lambda d: d["nodes"]["clc2"].update(online=True), "clc2 is online"),
    (lambda d: d.update(cluster="down"), "the cluster does not run on clc1"),
])
def test_nothing_to_lift_is_refused(alone, change, words):
    node, mover, _ = alone()
    doc = mover.read()
    change(doc)
    with pytest.raises(Refused, match=words):
        unblock.plan(mover.c, doc)


def test_without_fencing_it_is_refused(alone):
    node, mover, _ = alone(Fencing="none")
    with pytest.raises(Refused, match="Fencing is none"):
        unblock.plan(mover.c, mover.read())


def test_with_an_arbiter_its_vote_must_be_there(alone):
    node, mover, _ = alone(Arbiter="203.0.113.13")
    with pytest.raises(Refused, match="arbiter 203.0.113.13 is not connected here \\(not running\\)"):
        unblock.plan(mover.c, mover.read())
    node.qdevice = QDEVICE_SV
    doc = mover.read()
    assert doc["arbiter"]["connected"]
    assert "its own vote and the arbiter's" in unblock.plan(mover.c, doc)


def test_nothing_is_lifted_without_yes(alone, monkeypatch):
    node, mover, out = alone()

    class Args:
        settings, yes, wait = None, False, 600
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))          # not a terminal: --yes is needed
    with pytest.raises(Refused, match="--yes"):
        unblock_cmd.run(Args, node, out)
    assert node.calls == []
    Args.yes = True
    monkeypatch.setattr(unblock_cmd.moves, "Mover", lambda *a: mover)    # its clock, no request to the VIP
    assert unblock_cmd.run(Args, node, out) == 0
    assert node.calls == [list(unblock.CANCEL)]


def test_a_node_that_does_not_become_quorate_says_so(alone):
    node, mover, _ = alone(quorate_after=False)
    with pytest.raises(Waiting, match="not yet clc1 quorate"):
        unblock.unblock(mover, 600)
    assert node.calls == [list(unblock.CANCEL)]
