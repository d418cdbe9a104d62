"""The node's side of the arbiter under a temporary root: apply's and cluster-init's prepare() enrols this node, or
refuses with nothing written (the arbiter and corosync-qdevice-net-certutil scripted; the real ones:
tests/integration/test_arbiter_enrol.py)."""

import pytest

from scenarios import full_raw
from uec_clc_ha.cluster import arbiter
from uec_clc_ha.cluster import arbiter_protocol as protocol
from uec_clc_ha.config import keyring, settings
from uec_clc_ha.errors import Refused
from uec_clc_ha.host.system import Completed, System

CA = b"-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"


def config(arbiter_host="203.0.113.50"):
    raw = full_raw("corosync-drbd84")
    raw["Arbiter"] = arbiter_host
    return settings.require_valid(raw)


class Node(System):
    """A node whose arbiter knows ``secret`` for the pair's cluster, and whose certutil is scripted."""

    def __init__(self, root, secret):
        super().__init__(root)
        self.asked, self.ran = [], []
        self.key = keyring.derive(secret, "uec-clc").arbiter_enrol_key

    def require(self, tool, package=None):
        return tool

    def exchange(self, host, port, data, timeout=20, limit=1 << 20):
        request = protocol.decode(data)
        self.asked.append((host, port, request["op"]))
        answer = protocol.answer(request, lambda c: self.key if c == "uec-clc" else None, lambda: CA,
                                 lambda c, crq: b"SIGNED " + crq)
        return protocol.encode(answer)

    device = None                        # the arbiter corosync runs with ("host:port"), or none

    def run(self, argv, rcs=(0,), **kw):
        if argv[0] == "corosync-cmapctl":
            if self.device is None:
                return Completed(tuple(argv), 1, "", "Can't get key")
            value = self.device.split(":")[0 if argv[2].endswith(".host") else 1]
            return Completed(tuple(argv), 0, f"{argv[2]} (str) = {value}\n", "")
        self.ran.append(list(argv[:2]))
        if argv[1] == "-i":
            self.makedirs(arbiter.NSSDB)
        elif argv[1] == "-r":
            self.write_atomic(arbiter.CRQ, b"CRQ")
        elif argv[1] == "-M":
            self.write_atomic(arbiter.P12, b"P12")
        return Completed(tuple(argv), 0, "", "")


def test_without_an_arbiter_nothing_is_asked(tmp_path):
    node = Node(str(tmp_path), "x" * 16)
    assert arbiter.prepare(node, config(""), say=lambda t: None) is False
    assert node.asked == [] and node.ran == []


def test_dry_run_only_checks_the_arbiters_ca(tmp_path):
    c = config()
    node = Node(str(tmp_path), c.cluster_secret)
    said = []
    assert arbiter.prepare(node, c, say=said.append, dry_run=True) is False
    assert node.asked == [("203.0.113.50", protocol.ENROL_PORT, "ca")] and node.ran == []
    assert not node.exists(arbiter.CA_FILE) and "answers and its CA is this cluster's" in said[0]


def test_the_node_enrols_once(tmp_path):
    c = config()
    node = Node(str(tmp_path), c.cluster_secret)
    assert arbiter.prepare(node, c, say=lambda t: None) is True
    assert node.read_bytes(arbiter.CA_FILE) == CA
    assert node.read_bytes(f"{arbiter.NSSDB}/cluster-uec-clc.crt") == b"SIGNED CRQ"
    assert [r[1] for r in node.ran] == ["-i", "-r", "-M"]
    assert arbiter.prepare(node, c, say=lambda t: None) is False


def test_an_arbiter_of_another_secret_is_refused_and_nothing_is_written(tmp_path):
    node = Node(str(tmp_path), "another pair's secret, 16+")
    with pytest.raises(Refused, match="not authenticated by this cluster's enrolment key"):
        arbiter.prepare(node, config(), say=lambda t: None)
    assert node.ran == [] and not node.exists(arbiter.CA_FILE)


def test_a_node_voting_through_the_arbiter_already_does_not_ask_it(tmp_path):
    """The arbiter host may be down: apply and the postinst must still work on the pair it votes in."""
    c = config()
    node = Node(str(tmp_path), c.cluster_secret)
    assert arbiter.prepare(node, c, say=lambda t: None) is True
    node.asked.clear()
    node.device = "203.0.113.50:5403"
    said = []
    assert arbiter.prepare(node, c, say=said.append) is False and arbiter.prepare(node, c, dry_run=True) is False
    assert node.asked == [] and "votes through 203.0.113.50 already" in said[0]
    node.device = "203.0.113.60:5403"              # corosync runs with another arbiter: this one is asked
    assert arbiter.prepare(node, c, say=lambda t: None) is False and node.asked
