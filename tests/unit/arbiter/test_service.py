"""The arbiter host's side under a temporary root: the clusters it may enrol, and its answers (the certutils
scripted; the real ones: tests/integration/test_arbiter_enrol.py)."""

import io
import json
import os

import pytest

from uec_clc_ha.arbiter import command, service
from uec_clc_ha.cluster import arbiter_protocol as protocol
from uec_clc_ha.config import keyring
from uec_clc_ha.errors import BadParameter
from uec_clc_ha.host.system import Completed, System

SECRET = "correct-horse-battery-staple-for-tests"
CA = b"Certificate: ...\n-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"


class Arbiter(System):
    """corosync-qnetd-certutil scripted: -i writes the CA export, -s writes cluster-NAME.crt."""

    def __init__(self, root):
        super().__init__(root)
        self.ran = []

    def require(self, tool, package=None):
        return tool

    def run(self, argv, rcs=(0,), **kw):
        self.ran.append(list(argv))
        if argv[:2] == [service.CERTUTIL, "-i"]:
            self.makedirs(service.QNETD_DB)
            self.write_atomic(service.CA_EXPORT, CA)
        elif argv[:2] == [service.CERTUTIL, "-s"]:
            with open(argv[3], "rb") as fh:
                crq = fh.read()
            self.write_atomic(f"{service.QNETD_DB}/cluster-{argv[5]}.crt", b"SIGNED:" + crq)
        else:
            raise AssertionError(argv)
        return Completed(tuple(argv), 0, "", "")


def cli(system, *argv, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    rc = command.main(list(argv), system=system, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


def test_add_keeps_the_derived_key_only_0600_and_list_names_it(tmp_path):
    system = Arbiter(str(tmp_path))
    assert cli(system, "add", "uec-clc", stdin=SECRET + "\n")[0] == 0
    path = system.path(f"{service.CLUSTERS_DIR}/uec-clc.key")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert SECRET not in open(path).read()
    assert service.key_of(system, "uec-clc") == keyring.derive(SECRET, "uec-clc").arbiter_enrol_key
    assert cli(system, "list")[1].split() == ["uec-clc"]
    assert cli(system, "remove", "uec-clc")[0] == 0 and service.key_of(system, "uec-clc") is None


@pytest.mark.parametrize("name, secret, rule", [("bad name", SECRET, "cluster name"), ("../etc", SECRET, "cluster name"),
                                                ("uec-clc", "short", "at least 16")])
def test_bad_input_is_named_and_changes_nothing(tmp_path, name, secret, rule):
    system = Arbiter(str(tmp_path))
    with pytest.raises(BadParameter, match=rule):
        service.add(system, name, secret)
    assert service.clusters(system) == []


def test_init_makes_the_ca_once(tmp_path):
    system = Arbiter(str(tmp_path))
    assert service.init(system, say=lambda t: None) is True
    assert service.init(system, say=lambda t: None) is False
    assert system.ran == [[service.CERTUTIL, "-i", "-G"]]


def test_a_signing_waits_for_the_one_that_holds_the_ca_and_gives_up_after_a_minute(tmp_path):
    system = Arbiter(str(tmp_path))
    service.init(system, say=lambda t: None)
    system.makedirs("/run/lock")
    held = system.exclusive_lock(service.SIGN_LOCK, RuntimeError)
    held.__enter__()
    slept = []

    def the_other_one_finishes(seconds):
        slept.append(seconds)
        held.__exit__(None, None, None)
    assert service.sign(system, "uec-clc", b"CRQ", sleep=the_other_one_finishes) == b"SIGNED:CRQ"
    assert slept == [1]
    with system.exclusive_lock(service.SIGN_LOCK, RuntimeError):
        waited = []
        with pytest.raises(protocol.ProtocolError, match="held the arbiter's CA for 60 s"):
            service.sign(system, "uec-clc", b"CRQ", sleep=waited.append)
        assert len(waited) == service.SIGN_WAIT


def test_answer_serves_the_ca_and_signs_for_a_node_with_the_key(tmp_path):
    system = Arbiter(str(tmp_path))
    service.init(system, say=lambda t: None)
    service.add(system, "uec-clc", SECRET)
    key = keyring.derive(SECRET, "uec-clc").arbiter_enrol_key
    request = protocol.ca_request("uec-clc")
    rc, out, _ = cli(system, "answer", stdin=protocol.encode(request).decode())
    assert rc == 0 and protocol.ca_from(key, request, protocol.decode(out.encode())) == CA
    request = protocol.sign_request(key, "uec-clc", "clc1", b"\x30DER-REQUEST")
    rc, out, _ = cli(system, "answer", stdin=protocol.encode(request).decode())
    assert protocol.crt_from(key, request, protocol.decode(out.encode())) == b"SIGNED:\x30DER-REQUEST"


def test_answer_to_garbage_is_an_error_answer_not_a_crash(tmp_path):
    rc, out, _ = cli(Arbiter(str(tmp_path)), "answer", stdin="GET / HTTP/1.0\n")
    assert rc == 0 and "error" in json.loads(out)
