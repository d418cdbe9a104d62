"""The fencing probe's decisions and its agent protocol, on a disk image in a temporary root with scripted tools
(the real sbd servant and the real fencer's way of calling it: tests/integration/test_fence_probe.py)."""

import io

import pytest

from sbd_image import DEVICE, make_disk
from uec_clc_ha.cluster import fence_probe, sbd_slots
from uec_clc_ha.errors import BadParameter
from uec_clc_ha.host.system import Completed, System

LOCATE = {"clc1": "resource rg_uec is running on: clc1\n", "clc2": "resource rg_uec is running on: clc2\n",
          None: "resource rg_uec is NOT running\n"}


class Node(System):
    """clc1: the disk under a temporary root; ping and crm_resource answer from the test's table."""

    def __init__(self, root, reaches=True, cloud_on="clc1", locate_rc=0):
        super().__init__(root)
        self.reaches, self.cloud_on, self.locate_rc, self.ran = reaches, cloud_on, locate_rc, []
        self.makedirs("/proc/sys/kernel")
        self.write_atomic("/proc/sys/kernel/hostname", b"clc1\n")

    def run(self, argv, rcs=(0,), **kw):
        self.ran.append(argv[0])
        if argv[0] == "ping":
            return Completed(tuple(argv), 0 if self.reaches else 1, "", "")
        if argv[0] == "crm_resource":
            return Completed(tuple(argv), self.locate_rc, LOCATE[self.cloud_on] if self.locate_rc == 0 else "",
                             "")
        raise AssertionError(argv)


def request(**kw):
    lines = ["action=reboot", "plug=clc2", f"devices={DEVICE}", "ping_hosts=192.0.2.1 192.0.2.2",
             "fencing_delay=15", "window=3"] + [f"{k}={v}" for k, v in kw.items()]
    return fence_probe.parse(lines)


def answered(yes=True):
    return sbd_slots.Answer(yes, 1.0 if yes else 3.0, "clear")


@pytest.mark.parametrize("alive, reaches, target_runs, local, target, wait", [
    (False, True, True, "clc1", "clc2", 0),        # dead: fence now, whatever else is true
    (False, False, True, "clc1", "clc2", 0),
    (True, True, False, "clc1", "clc2", 0),        # split, this node runs the cloud and reaches the network
    (True, True, True, "clc1", "clc2", 15),        # split, the target runs the cloud: it fences first
    (True, False, False, "clc1", "clc2", 30),      # split, this node is the one cut off
    (True, False, True, "clc1", "clc2", 45),
    (True, True, None, "clc1", "clc2", 0),         # nobody knows: the name sorting first fences first
    (True, True, None, "clc2", "clc1", 15),
])
def test_the_wait_follows_the_table(alive, reaches, target_runs, local, target, wait):
    assert fence_probe.wait_for(answered(alive), reaches, target_runs, local, target, 15) == wait


def test_in_every_split_the_two_waits_differ_by_at_least_one_delay():
    """Whatever each side sees, the two nodes never wait the same: one of them fences first."""
    for cloud in ("clc1", "clc2", None):
        for reach1 in (True, False):
            for reach2 in (True, False):
                w1 = fence_probe.wait_for(answered(), reach1, None if cloud is None else cloud == "clc2",
                                          "clc1", "clc2", 15)
                w2 = fence_probe.wait_for(answered(), reach2, None if cloud is None else cloud == "clc1",
                                          "clc2", "clc1", 15)
                assert abs(w1 - w2) >= 15, (cloud, reach1, reach2, w1, w2)


def test_a_dead_target_fails_at_once_so_that_fence_sbd_fences(root):
    node = Node(root.root)
    make_disk(node)
    slept, said = [], []
    rc = fence_probe.run(node, request(window="0.3"), lambda t, plain=False: said.append(t), sleep=slept.append)
    assert rc == 1 and slept == [] and "not alive" in said[-1]
    assert "ping" not in node.ran, "a dead target needs no look at the network"
    assert sbd_slots.Disk(node, DEVICE).read(1).command == sbd_slots.EMPTY


def test_a_live_target_with_the_cloud_is_fenced_after_one_delay(root, monkeypatch):
    node = Node(root.root, cloud_on="clc2")
    make_disk(node)
    monkeypatch.setattr(sbd_slots, "ask", lambda *a, **k: answered())
    slept, said = [], []
    rc = fence_probe.run(node, request(), lambda t, plain=False: said.append(t), sleep=slept.append)
    assert rc == 1 and slept == [15]
    assert "alive (a split)" in said[-1] and "clc2 runs the cloud" in said[-1]


def test_a_node_cut_off_waits_two_delays_more(root, monkeypatch):
    node = Node(root.root, reaches=False, cloud_on="clc1")
    make_disk(node)
    monkeypatch.setattr(sbd_slots, "ask", lambda *a, **k: answered())
    slept = []
    assert fence_probe.run(node, request(), lambda t, plain=False: None, sleep=slept.append) == 1
    assert slept == [30]


def test_a_cib_that_cannot_tell_falls_back_to_the_names(root, monkeypatch):
    node = Node(root.root, locate_rc=6)
    make_disk(node)
    monkeypatch.setattr(sbd_slots, "ask", lambda *a, **k: answered())
    slept = []
    fence_probe.run(node, request(), lambda t, plain=False: None, sleep=slept.append)
    assert slept == []        # clc1 sorts first: it fences first


def test_a_cloud_running_nowhere_falls_back_to_the_names_on_both_sides(root, monkeypatch):
    # between a stop and a start: "not running" on both sides would make both wait 0 and fence each other
    node = Node(root.root, cloud_on=None)
    make_disk(node)
    monkeypatch.setattr(sbd_slots, "ask", lambda *a, **k: answered())
    assert fence_probe.runs_resource(node, "rg_uec", "clc2") is None
    slept = []
    fence_probe.run(node, request(), lambda t, plain=False: None, sleep=slept.append)
    assert slept == []                                  # clc1 sorts first; clc2 would wait one delay


def test_a_broken_disk_means_fence_now(root):
    node = Node(root.root)
    slept, said = [], []
    assert fence_probe.run(node, request(), lambda t, plain=False: said.append(t), sleep=slept.append) == 1
    assert slept == [] and "fence_sbd fences it now" in said[-1]


def test_monitor_needs_the_header_and_this_nodes_slot(root):
    node = Node(root.root)
    make_disk(node, names=("clc2",))
    with pytest.raises(Exception, match="no SBD slot for clc1"):
        fence_probe.run(node, request(action="monitor"), lambda t, plain=False: None)
    make_disk(node)
    assert fence_probe.run(node, request(action="monitor"), lambda t, plain=False: None) == 0


def test_list_names_the_allocated_slots(root):
    node = Node(root.root)
    make_disk(node)
    out = []
    assert fence_probe.run(node, request(action="list"), lambda t, plain=False: out.append(t)) == 0
    assert out == ["clc1", "clc2"]


def test_the_fencer_parameters_and_the_command_line_are_read():
    r = fence_probe.parse(["nodename=clc2", "devices=/dev/sdc", "fencing_delay=40"], ["-o", "off"])
    assert (r.action, r.target, r.device, r.delay, r.window, r.ping_hosts) == ("off", "clc2", "/dev/sdc", 40, 3.0, ())
    with pytest.raises(BadParameter, match="action"):
        fence_probe.parse(["action=explode"])
    with pytest.raises(BadParameter, match="fencing_delay"):
        fence_probe.parse(["fencing_delay=soon"])


def test_main_prints_the_metadata_and_maps_errors_to_exit_1(root):
    node = Node(root.root)
    out, err = io.StringIO(), io.StringIO()
    assert fence_probe.main(["-o", "metadata"], stdin=io.StringIO(""), stdout=out, stderr=err, system=node) == 0
    assert '<resource-agent name="fence_uec_clc_ha_probe"' in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert fence_probe.main([], stdin=io.StringIO("action=monitor\n"), stdout=out, stderr=err, system=node) == 1
    assert "devices: the SBD device is required" in err.getvalue()
