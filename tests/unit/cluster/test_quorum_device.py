"""The quorum's change on a live pair (the arbiter added or removed): reloaded once, by the second node's apply,
with corosync-qdevice and the CIB in the order each direction needs (scripted tools, no cluster)."""

import pytest

from scenarios import full_raw
from uec_clc_ha.cluster import quorum_device as qd
from uec_clc_ha.cluster.live_apply import Step
from uec_clc_ha.config import settings
from uec_clc_ha.errors import Refused
from uec_clc_ha.host.system import Completed, System

CIB = [Step("load cluster.crm", ("crm", "configure", "load", "update", "/etc/uec-clc-ha/cluster.crm"))]
RELOAD = Step("corosync re-reads corosync.conf on every node", ("corosync-cfgtool", "-R"))


class Node(System):
    """clc1: corosync's cmap (the arbiter it runs with, or none), the nodes' word, corosync-qdevice's unit."""

    def __init__(self, root, arbiter=None, words=None, enabled=False, active=False):
        super().__init__(root)
        self.arbiter, self.words, self.enabled, self.active = arbiter, dict(words or {}), enabled, active

    def run(self, argv, rcs=(0,), **kw):
        rc, out = 0, ""
        if argv[:2] == ["corosync-cmapctl", "-g"]:
            key = argv[2].rsplit(".", 1)[1]
            if self.arbiter is None:
                rc = 1
            else:
                out = f"{argv[2]} (str) = {self.arbiter.split(':')[0 if key == 'host' else 1]}\n"
        elif argv[:3] == ["attrd_updater", "-Q", "-n"]:
            value = self.words.get(argv[-1])
            rc, out = (0, f'name="{qd.WORD}" host="{argv[-1]}" value="{value}"') if value else (6, "")
        elif argv[:2] == ["systemctl", "is-enabled"]:
            out = "enabled" if self.enabled else "disabled"
        elif argv[:2] == ["systemctl", "is-active"]:
            out = "activating" if self.active else "inactive"
        else:
            raise AssertionError(argv)
        return Completed(tuple(argv), rc, out, "")


def config(arbiter=""):
    raw = full_raw("corosync-drbd84")
    raw["Arbiter"] = arbiter
    return settings.require_valid(raw)


def arrange(node, cfg, changed=True):
    steps, notes = qd.arrange(node, cfg, list(CIB), RELOAD, changed, Step)
    return [s.argv for s in steps], notes


WORD = "arbiter 203.0.113.50:5403"
TELL = ("attrd_updater", "-n", qd.WORD, "-U", WORD)
START = [("systemctl", "enable", qd.UNIT), ("systemctl", "start", "--no-block", qd.UNIT)]
STOP = [("systemctl", "disable", "--now", qd.UNIT)]


def test_adding_the_arbiter_the_first_node_tells_its_peer_starts_qdevice_and_holds_the_reload_and_the_cib(tmp_path):
    argvs, notes = arrange(Node(str(tmp_path)), config("203.0.113.50"))
    assert argvs == [TELL, *START]
    assert "run `uec-clc-ha-ctl apply` on clc2" in notes[0] and "keeps its quorum (two_node)" in notes[0]


def test_adding_the_arbiter_the_second_node_reloads_both_then_starts_qdevice_then_loads_the_cib(tmp_path):
    node = Node(str(tmp_path), words={"clc2": WORD})
    argvs, notes = arrange(node, config("203.0.113.50"))
    assert argvs == [TELL, RELOAD.argv, *START, CIB[0].argv] and notes == []


def test_a_second_node_whose_file_was_written_by_an_earlier_apply_still_reloads_both(tmp_path):
    node = Node(str(tmp_path), words={"clc1": WORD, "clc2": WORD})      # that apply stopped before its reload
    argvs, notes = arrange(node, config("203.0.113.50"), changed=False)
    assert argvs == [RELOAD.argv, *START, CIB[0].argv] and notes == []


def test_once_reloaded_the_first_nodes_next_apply_only_catches_up(tmp_path):
    node = Node(str(tmp_path), arbiter="203.0.113.50:5403", words={"clc1": WORD, "clc2": WORD}, enabled=True,
                active=True)
    assert arrange(node, config("203.0.113.50")) == ([CIB[0].argv, RELOAD.argv], [])
    assert arrange(node, config("203.0.113.50"), changed=False) == ([CIB[0].argv], [])
    node.active = False                   # a node rebooted without it, or stopped by hand
    assert arrange(node, config("203.0.113.50"), changed=False)[0] == [CIB[0].argv, *START]


def test_removing_the_arbiter_the_cib_gets_its_fencing_delay_back_before_two_node_returns(tmp_path):
    first = Node(str(tmp_path), arbiter="203.0.113.50:5403", words={"clc1": WORD, "clc2": WORD}, enabled=True,
                 active=True)
    tell = ("attrd_updater", "-n", qd.WORD, "-U", "two_node")
    argvs, notes = arrange(first, config())
    assert argvs == [tell, *STOP] and "two_node (no arbiter)" in notes[0]
    second = Node(str(tmp_path), arbiter="203.0.113.50:5403", words={"clc1": WORD, "clc2": "two_node"},
                  enabled=True, active=True)
    assert arrange(second, config()) == ([tell, CIB[0].argv, *STOP, RELOAD.argv], [])
    # without the arbiter and without qdevice, nothing more
    done = Node(str(tmp_path), words={"clc1": "two_node", "clc2": "two_node"})
    assert arrange(done, config(), changed=False) == ([CIB[0].argv], [])


def test_another_arbiter_on_a_running_pair_is_refused(tmp_path):
    node = Node(str(tmp_path), arbiter="203.0.113.50:5403", enabled=True, active=True)
    with pytest.raises(Refused, match="changes from 203.0.113.50:5403 to 203.0.113.60:5403"):
        arrange(node, config("203.0.113.60"))
