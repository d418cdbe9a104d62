"""failover / standby / unstandby against a scripted pair (crm_mon XML recorded on the lab; no real tools).

What each must refuse (the peer's copy not UpToDate, the peer away), what it
runs, what it waits for, and that nothing is changed without --yes or a
"yes" on a terminal.  The same commands run for real on the lab pair (tests/lab/test_lab_planned_move.py, make lab-test).
"""

import io
import json
import os
import re

import pytest

from checkout import TOP
from scenarios import scripted_mover
from uec_clc_ha.cli import failover as failover_cmd
from uec_clc_ha.cli._confirm import confirm
from uec_clc_ha.errors import Refused, Waiting
from uec_clc_ha.host.system import Completed, System

with open(os.path.join(TOP, "tests", "fixtures", "status", "bookworm", "normal", "clc1.json")) as _fh:
    NORMAL = json.load(_fh)["sources"]
UPTODATE = NORMAL["drbd"]["stdout"]
OUTDATED = UPTODATE.replace("ds:UpToDate/UpToDate", "ds:UpToDate/Outdated")


def swapped(xml):
    """The same cluster with every resource on the other node (the <resources> section only)."""
    head, rest = xml.split("<resources>", 1)
    body, tail = rest.split("</resources>", 1)
    body = re.sub(r'name="clc([12])" id="([12])"', lambda m: f'name="clc{3 - int(m.group(1))}" '
                  f'id="{3 - int(m.group(2))}"', body)
    return head + "<resources>" + body + "</resources>" + tail


def emptied(xml, node):
    """The cluster with nothing running on node (its placements gone from <resources>)."""
    head, rest = xml.split("<resources>", 1)
    body, tail = rest.split("</resources>", 1)
    body = re.sub(rf'\s*<node name="{node}" id="\d" cached="true"/>', "", body)
    return head + "<resources>" + body + "</resources>" + tail


def standby_of(xml, node):
    return xml.replace(f'<node name="{node}" id="{node[-1]}" online="true" standby="false"',
                       f'<node name="{node}" id="{node[-1]}" online="true" standby="true"')


class Pair(System):
    """This node's view: crm_mon answers from `states` (the next one after each cluster command)."""

    def __init__(self, root, states, drbd=UPTODATE, moves_after=1):
        super().__init__(root)
        self.states, self.index, self.calls = list(states), 0, []
        self.moves_after, self.polls_since = moves_after, None
        self.drbd = drbd

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        if argv[0] == "crm_mon":
            if self.polls_since is not None:
                self.polls_since += 1
                if self.polls_since > self.moves_after:           # the cluster takes the next step
                    self.index = min(self.index + 1, len(self.states) - 1)
                    self.polls_since = 0
            return Completed(tuple(argv), 0, self.states[self.index], "")
        if argv[0] == "corosync-cmapctl":
            src = next(s for s in NORMAL.values() if s["argv"] == argv)
            return Completed(tuple(argv), 0, src["stdout"], "")
        self.calls.append(argv)
        if argv[0] in ("crm_resource", "crm_attribute") and "--clear" not in argv:
            self.polls_since = 0
        return Completed(tuple(argv), 0, "", "")


@pytest.fixture
def pair(root):
    def make(states, drbd=UPTODATE, moves_after=1):
        node = Pair(root.root, states, drbd, moves_after)
        mover, out = scripted_mover(node, drbd)
        return node, mover, out
    return make


def test_failover_moves_waits_and_clears(pair):
    node, mover, out = pair([NORMAL["crm_mon"]["stdout"], swapped(NORMAL["crm_mon"]["stdout"])])
    source, target, what = mover.plan_failover(mover.read())
    assert (source, target) == ("clc1", "clc2") and "clients lose it" in what
    mover.failover(source, target, 600)
    assert node.calls == [["crm_resource", "--move", "--resource", "rg_uec", "--node", "clc2"],
                          ["crm_resource", "--clear", "--resource", "rg_uec"]]
    text = out.getvalue()
    assert "res_uec Started clc2" in text and "the cloud serves on clc2" in text


def test_failover_that_does_not_settle_keeps_the_constraint_and_says_so(pair):
    node, mover, out = pair([NORMAL["crm_mon"]["stdout"]])
    source, target, _ = mover.plan_failover(mover.read())
    with pytest.raises(Waiting, match="crm_resource --clear --resource rg_uec"):
        mover.failover(source, target, 30)
    assert ["crm_resource", "--clear", "--resource", "rg_uec"] not in node.calls


@pytest.mark.parametrize("states, drbd, words", [
    ([NORMAL["crm_mon"]["stdout"]], OUTDATED, "Outdated, not UpToDate"),
    ([standby_of(NORMAL["crm_mon"]["stdout"], "clc2")], UPTODATE, "clc2 is in standby"),
    ([NORMAL["crm_mon"]["stdout"].replace('with_quorum="true"', 'with_quorum="false"')], UPTODATE, "not quorate"),
])
def test_failover_refuses_what_could_lose_writes(pair, states, drbd, words):
    node, mover, _ = pair(states, drbd)
    with pytest.raises(Refused, match=words):
        mover.plan_failover(mover.read())
    assert node.calls == []


def test_nothing_changes_without_yes(pair, monkeypatch):
    node, mover, out = pair([NORMAL["crm_mon"]["stdout"], swapped(NORMAL["crm_mon"]["stdout"])])

    class Args:
        settings, yes, wait = None, False, 600
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))          # not a terminal: --yes is needed
    with pytest.raises(Refused, match="--yes"):
        failover_cmd.run(Args, node, out)
    assert node.calls == []


def test_confirmation_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    out = io.StringIO()
    confirm("move the cloud", False, out, Terminal("yes\n"))
    assert "Go ahead? [y/N]" in out.getvalue()
    with pytest.raises(Refused, match="not confirmed"):
        confirm("move the cloud", False, io.StringIO(), Terminal("\n"))


def test_standby_of_the_active_node_moves_the_cloud(pair):
    normal = NORMAL["crm_mon"]["stdout"]
    node, mover, out = pair([normal, standby_of(swapped(normal), "clc1"),
                             standby_of(emptied(swapped(normal), "clc1"), "clc1")])
    doc = mover.read()
    assert "the cloud moves to clc2" in mover.plan_standby(doc, "clc1")
    mover.standby("clc1", 600, cloud_moves=True)
    assert "clc1 runs nothing; the cloud serves on clc2" in out.getvalue()
    assert node.calls == [["crm_attribute", "--type", "nodes", "--node", "clc1", "--name", "standby",
                           "--update", "on"]]


def test_standby_and_unstandby_of_the_passive_node(pair):
    normal = NORMAL["crm_mon"]["stdout"]
    node, mover, out = pair([normal])
    assert "no node to fail over to" in mover.plan_standby(mover.read(), "clc2")
    assert mover.plan_unstandby(mover.read(), "clc2") is None
    with pytest.raises(Refused, match="not a node of this pair"):
        mover.plan_standby(mover.read(), "clc3")
    node, mover, out = pair([standby_of(normal, "clc2"), normal])
    assert "DRBD resyncs it" in mover.plan_unstandby(mover.read(), "clc2")
    mover.unstandby("clc2", 600)
    assert node.calls[-1][-2:] == ["--update", "off"]
    assert "standby node again" in out.getvalue()
