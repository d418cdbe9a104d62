"""Whether corosync runs with a corosync.conf already: the rendered file's keys against cmap as the lab's corosync
3.1 shows them (a reload by the peer is recorded, any difference reloads)."""

import pytest

from scenarios import LAB_CMAP, LAB_COROSYNC, full_raw
from uec_clc_ha.cluster import corosync_cmap as cc
from uec_clc_ha.config import keyring, render, settings
from uec_clc_ha.host.system import Completed, System

def rendered(**overrides):
    raw = full_raw("corosync-drbd84")
    raw.update(LAB_COROSYNC)
    raw.update(overrides)
    c = settings.require_valid(raw)
    return render.render_all(c, keyring.derive(c.cluster_secret, c.cluster_name))["/etc/corosync/corosync.conf"].content


class Corosync(System):
    """corosync-cmapctl PREFIX answered from a cmap text (rc 1 when corosync does not answer)."""

    def __init__(self, root, text, rc=0):
        super().__init__(root)
        self.text, self.rc, self.asked = text, rc, []

    def run(self, argv, rcs=(0,), **kw):
        assert argv[0] == "corosync-cmapctl" and len(argv) == 2, argv
        self.asked.append(argv[1])
        out = "".join(line + "\n" for line in self.text.splitlines() if line.startswith(argv[1]))
        return Completed(tuple(argv), self.rc, out if self.rc == 0 else "", "")


def test_the_rendered_file_is_what_the_labs_corosync_runs_with(tmp_path):
    node = Corosync(tmp_path, LAB_CMAP)
    assert cc.drift(node, rendered()) == []
    assert node.asked == ["logging.", "nodelist.", "quorum.", "totem."]


@pytest.mark.parametrize("overrides, key", [
    ({"Corosync-Token": "3000"}, "totem.token: file 3000, corosync 1000"),
    ({"Peer-Address": "198.51.100.14"}, "nodelist.node.1.ring0_addr: file 198.51.100.14, corosync 198.51.100.12"),
    ({"Arbiter": "198.51.100.13"}, "quorum.two_node: file (none), corosync 1"),
])
def test_a_change_corosync_has_not_taken_is_named(tmp_path, overrides, key):
    assert cc.drift(Corosync(tmp_path, LAB_CMAP), rendered(**overrides)) != []
    diff = cc.differences(cc.flat(rendered(**overrides).decode()), cc.cmap_values(LAB_CMAP))
    assert key in diff, diff


def test_a_key_corosync_holds_beyond_the_file_counts_as_not_taken(tmp_path):
    # e.g. the arbiter's device still in cmap after a file without it (no reload yet)
    extra = LAB_CMAP + "quorum.device.net.host (str) = 198.51.100.13\n"
    assert cc.drift(Corosync(tmp_path, extra), rendered()) != []
    # and the keys corosync makes itself are not the file's
    assert not cc.differences(cc.flat(rendered().decode()), cc.cmap_values(LAB_CMAP))


def test_corosync_not_answering_counts_as_not_taken(tmp_path):
    assert cc.drift(Corosync(tmp_path, LAB_CMAP, rc=1), rendered()) != []


def test_the_parse_names_keys_as_cmap_does():
    text = ("totem {\n\tversion: 2 # comment\n\tinterface {\n\t\tlinknumber: 1\n\t\tknet_link_priority: 5\n\t}\n}\n"
            "nodelist {\n\tnode {\n\t\tname: a\n\t}\n\tnode {\n\t\tname: b\n\t}\n}\n"
            "quorum {\n\tdevice {\n\t\tnet {\n\t\t\thost: h\n\t\t}\n\t}\n}\n")
    assert cc.flat(text) == {"totem.version": "2", "totem.interface.1.knet_link_priority": "5",
                             "nodelist.node.0.name": "a", "nodelist.node.1.name": "b",
                             "quorum.device.net.host": "h"}


@pytest.mark.parametrize("text", ["totem {\n", "}\n", "totem {\n\tjunk\n}\n", "{\n}\n"])
def test_a_file_that_is_not_well_formed_counts_as_not_taken(tmp_path, text):
    with pytest.raises(ValueError):
        cc.flat(text)
    assert cc.drift(Corosync(tmp_path, LAB_CMAP), text.encode()) != []


def test_a_file_without_keys_counts_as_not_taken(tmp_path):
    node = Corosync(tmp_path, LAB_CMAP)
    assert cc.drift(node, b"totem {\n}\n") != [] and node.asked == []
