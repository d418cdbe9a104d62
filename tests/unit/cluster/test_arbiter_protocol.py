"""The arbiter's enrolment protocol: both sides, pure (the real certutils: tests/integration/test_arbiter_enrol.py)."""

import pytest

from uec_clc_ha.cluster import arbiter_protocol as p
from uec_clc_ha.config import keyring

KEY = keyring.derive("a secret both nodes hold", "uec-clc").arbiter_enrol_key
OTHER = keyring.derive("a secret both nodes hold", "another-cluster").arbiter_enrol_key
CA = b"Certificate:\n    Data: ...\n-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
CRQ = bytes(range(48))                   # DER, as certutil -R writes it
CRT = b"\x30\x82SIGNED-DER"


def arbiter(keys, signed=None):
    def sign(cluster, crq):
        if signed is not None:
            signed.append((cluster, crq))
        return CRT
    return lambda request: p.decode(p.encode(p.answer(p.decode(p.encode(request)), keys.get, lambda: CA, sign)))


def test_the_key_is_per_cluster_and_never_the_secret():
    assert len(KEY) == 64 and KEY != OTHER
    assert "a secret both nodes hold" not in KEY


def test_a_node_with_the_key_gets_the_ca_and_its_certificate():
    signed = []
    serve = arbiter({"uec-clc": KEY}, signed)
    request = p.ca_request("uec-clc")
    assert p.ca_from(KEY, request, serve(request)) == CA
    request = p.sign_request(KEY, "uec-clc", "clc1", CRQ)
    assert p.crt_from(KEY, request, serve(request)) == CRT
    assert signed == [("uec-clc", CRQ)]


def test_a_node_without_the_key_gets_nothing_signed():
    signed = []
    serve = arbiter({"uec-clc": KEY}, signed)
    request = p.sign_request(OTHER, "uec-clc", "clc1", CRQ)
    with pytest.raises(p.ProtocolError, match="not authenticated by this cluster's enrolment key"):
        p.crt_from(OTHER, request, serve(request))
    assert signed == []


def test_a_host_without_the_key_cannot_hand_the_node_a_ca():
    impostor = arbiter({"uec-clc": OTHER})
    request = p.ca_request("uec-clc")
    with pytest.raises(p.ProtocolError, match="not authenticated"):
        p.ca_from(KEY, request, impostor(request))


def test_an_answer_to_another_request_is_refused():
    serve = arbiter({"uec-clc": KEY})
    old = p.ca_request("uec-clc")
    replayed = serve(old)
    with pytest.raises(p.ProtocolError, match="not authenticated"):
        p.ca_from(KEY, p.ca_request("uec-clc"), replayed)


def test_a_tampered_certificate_is_refused():
    serve = arbiter({"uec-clc": KEY})
    request = p.sign_request(KEY, "uec-clc", "clc1", CRQ)
    answer = serve(request)
    answer["crt"] = p.b64(b"\x30\x82FORGED-DER")
    with pytest.raises(p.ProtocolError, match="not authenticated"):
        p.crt_from(KEY, request, answer)


def test_an_unknown_cluster_is_told_how_to_enrol_it():
    request = p.ca_request("uec-clc")
    with pytest.raises(p.ProtocolError, match="not enrolled on this arbiter"):
        p.ca_from(KEY, request, arbiter({})(request))


@pytest.mark.parametrize("line", [b"not json\n", b"[1, 2]\n", b'{"v": 2, "op": "ca"}\n', b'{"v": 1, "op": 3}\n',
                                  b"x" * (p.MAX_LINE + 1)])
def test_anything_else_is_not_the_protocol(line):
    with pytest.raises(p.ProtocolError):
        p.decode(line)
