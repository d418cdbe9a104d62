"""This node's facts for doctor and their publication, against a scripted node and CIB (tests/support/live_node).

The values must be what doctor computes (the same functions, from the
settings file doctor reads); only what differs from the CIB is written; a
value that cannot be computed is not published, and a stale one goes;
whatever fails is one line, never an exception for the caller.
"""

import json

import pytest

from live_node import LiveNode
from scenarios import write_settings
from uec_clc_ha.cluster import node_facts
from uec_clc_ha.config import keyring, pipeline, settings_file
from uec_clc_ha.host import paths

SIZE = "134217728"
CLC2 = {"Local-Node": "clc2", "Peer-Node": "clc1", "Local-Address": "198.51.100.12", "Peer-Address": "198.51.100.11",
        "Replication-Local-Address": "203.0.113.2", "Replication-Peer-Address": "203.0.113.1"}


@pytest.fixture
def node(tmp_path, monkeypatch):
    # a regular file stands for the disk here: what counts as a block device is the only thing not played
    monkeypatch.setattr(node_facts, "is_block_device", lambda system, path: system.exists(path))

    def make(local="clc1", **kwargs):
        n = LiveNode(str(tmp_path / local), **kwargs)
        write_settings(n, "corosync-drbd84", **(CLC2 if local == "clc2" else {}))
        n.write_atomic("/dev/vdb1", b"")
        return n
    return make


def expected_digest(system):
    raw = pipeline.load_raw(system)
    return node_facts.settings_digest(raw, keyring.derive(raw["Cluster-Secret"], raw["Cluster-Name"]))


def publish(system):
    said = []
    node_facts.publish_here(system, said.append)
    return said


def test_the_facts_are_the_settings_digest_the_disk_size_and_the_release(node):
    system = node()
    raw = pipeline.load_raw(system)
    facts = node_facts.compute(system, raw, pipeline.build(system, raw).config)
    assert facts.attributes() == {node_facts.DIGEST_ATTR: expected_digest(system), node_facts.DISK_ATTR: SIZE,
                                  node_facts.RELEASE_ATTR: "debian=12 pacemaker=2.1.5"}
    # the peer, with its own names and addresses, holds the same digest: doctor compares them
    assert expected_digest(node("clc2")) == facts.digest


def test_a_disk_without_a_size_says_why(node, monkeypatch):
    system = node()
    assert node_facts.disk_size(system, "/dev/vdb1") == (SIZE, None)
    system.disk_bytes = None                                         # blockdev fails
    assert node_facts.disk_size(system, "/dev/vdb1") == (None, node_facts.DISK_UNREADABLE)
    system.remove("/dev/vdb1")
    assert node_facts.disk_size(system, "/dev/vdb1") == (None, node_facts.DISK_MISSING)
    system.write_atomic("/dev/vdb1", b"")
    monkeypatch.setattr(node_facts, "is_block_device", lambda system, path: False)
    assert node_facts.disk_size(system, "/dev/vdb1") == (None, node_facts.DISK_NOT_BLOCK)


def test_a_release_it_cannot_tell_is_a_question_mark(node):
    system = node(pacemaker=None)
    system.remove("/etc/os-release")
    assert node_facts.release(system) == (None, None)
    raw = pipeline.load_raw(system)
    assert node_facts.compute(system, raw, pipeline.build(system, raw).config).release_word == "debian=? pacemaker=?"


def test_published_once_then_only_what_changed(node):
    system = node()
    said = publish(system)
    assert system.cib.node_attrs["clc1"] == {node_facts.DIGEST_ATTR: expected_digest(system),
                                             node_facts.DISK_ATTR: SIZE,
                                             node_facts.RELEASE_ATTR: "debian=12 pacemaker=2.1.5"}
    assert said == ["published for doctor on clc2: uec-clc-ha-settings, uec-clc-ha-disk-bytes, uec-clc-ha-release "
                    "(node attributes of clc1)"]
    writes = list(system.cib.node_writes)
    assert publish(system) == [] and system.cib.node_writes == writes       # a steady node writes nothing
    old = expected_digest(system)
    settings_file.save(system, settings_file.updated_text(system.read(paths.SETTINGS_PATH), {"Fencing-Delay": "7"}))
    assert publish(system) == ["published for doctor on clc2: uec-clc-ha-settings (node attributes of clc1)"]
    assert system.cib.node_writes[len(writes):] == [("clc1", node_facts.DIGEST_ATTR, expected_digest(system))]
    assert expected_digest(system) != old


def test_a_size_it_can_no_longer_read_is_removed_not_left_stale(node):
    system = node()
    publish(system)
    system.remove("/dev/vdb1")                          # DRBD-Disk names a disk that is gone
    assert publish(system) == ["published for doctor on clc2: uec-clc-ha-disk-bytes removed (node attributes of "
                               "clc1)"]
    assert node_facts.DISK_ATTR not in system.cib.node_attrs["clc1"]
    assert system.cib.node_writes[-1] == ("clc1", node_facts.DISK_ATTR, None)


def test_where_no_cluster_runs_nothing_is_published_or_said(node):
    system = node(cluster=False)
    assert publish(system) == []
    assert system.calls == [["cibadmin", "-Q", "-o", "nodes"]]


def test_a_cib_that_refuses_the_writes_is_one_line(node):
    system = node(refuse_writes=True)
    said = publish(system)
    assert len(said) == 1 and said[0].startswith("not published for doctor on clc2: uec-clc-ha-settings: command "
                                                 "crm_attribute")
    assert "Permission denied" in said[0] and system.cib.node_attrs.get("clc1", {}) == {}


def test_settings_it_cannot_read_are_one_line(node):
    system = node()
    system.write_atomic(paths.SETTINGS_PATH, "VIP 1\n")
    said = publish(system)
    assert len(said) == 1 and said[0].startswith("this node's facts for doctor not published: ") and \
        "not a deb822 file" in said[0]
    assert system.cib.node_writes == []


def test_a_bug_is_one_line_too(node, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("Cluster-Name")
    monkeypatch.setattr(node_facts, "compute", broken)
    assert publish(node()) == ["this node's facts for doctor not published: unexpected KeyError: 'Cluster-Name'"]


def test_never_the_secret(node):
    system = node()
    said = publish(system)
    secret = pipeline.load_raw(system)["Cluster-Secret"]
    assert secret not in json.dumps(system.cib.node_attrs) and secret not in "".join(said)
    assert secret not in json.dumps(system.calls)
