"""The arbiter's enrolment protocol: how a node gets its qdevice certificate without ssh and without turning TLS off.

Pure functions, no I/O.  Called by the node's side (uec_clc_ha.cluster.arbiter,
when `apply` enrols this node with the arbiter named by Arbiter) and by the
arbiter's side (uec_clc_ha.arbiter.service, once per connection).

corosync-qnetd and corosync-qdevice speak TLS with certificates from the
arbiter's own certificate authority: the node needs the CA's certificate,
and a client certificate for the cluster's name that the CA signed (what
`corosync-qdevice-net-certutil -Q` does over ssh as root to every host).
Here both sides hold one key instead: the enrolment key, derived from the
Cluster-Secret and the cluster's name (uec_clc_ha.config.keyring) on the
nodes, and on the arbiter from the same two answers an admin gives its
debconf questions (the secret itself is never stored there).

One request per connection, one JSON line each way:

    {"v": 1, "op": "ca", "cluster": NAME, "nonce": N}
        -> {"v": 1, "ca": PEM, "mac": MAC("ca", NAME, N, PEM)}
    {"v": 1, "op": "sign", "cluster": NAME, "node": NODE, "nonce": N, "crq": PEM,
     "mac": MAC("sign", NAME, NODE, N, PEM)}
        -> {"v": 1, "crt": PEM, "mac": MAC("crt", NAME, N, PEM)}
    any failure -> {"v": 1, "error": TEXT}

MAC is HMAC-SHA256 under the enrolment key over the NUL-joined fields.  The
node checks the arbiter's MAC before it trusts the CA (a host without the
key cannot hand it a CA of its own) and the arbiter checks the node's
before it signs (a host without the key gets no certificate for the
cluster).  The nonce, fresh for each request, ties each answer to its
request.  Nothing secret crosses the wire: certificates are public, the
private keys never leave the host that made them, and the key only
authenticates.
"""

import hashlib
import hmac
import json
import secrets

VERSION = 1
ENROL_PORT = 5406                 # TCP; the arbiter's qnetd listens on Arbiter-Port (5403)
MAX_LINE = 64 * 1024


class ProtocolError(Exception):
    """A message that is not the protocol's, or whose MAC does not check (message: what is wrong)."""


def nonce():
    return secrets.token_hex(16)


def mac(key, *fields):
    """HMAC-SHA256 (hex) under ``key`` (hex text) over the NUL-joined fields."""
    data = b"\0".join(f.encode("utf-8") for f in fields)
    return hmac.new(bytes.fromhex(key), data, hashlib.sha256).hexdigest()


def _check(key, claimed, *fields):
    if not isinstance(claimed, str) or not hmac.compare_digest(claimed, mac(key, *fields)):
        raise ProtocolError("the message is not authenticated by this cluster's enrolment key "
                            "(a different Cluster-Secret or cluster name on the other side)")


def encode(message):
    return (json.dumps(message, sort_keys=True) + "\n").encode("utf-8")


def decode(line):
    """One message from a line; ProtocolError for anything else."""
    if len(line) > MAX_LINE:
        raise ProtocolError("message too long")
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("not a message of the enrolment protocol") from None
    if not isinstance(message, dict) or message.get("v") != VERSION:
        raise ProtocolError("not a message of this version of the enrolment protocol")
    for key, value in message.items():
        if key != "v" and not isinstance(value, str):
            raise ProtocolError(f"field {key} is not text")
    return message


# -- the node's side -----------------------------------------------------------------------------------------
def ca_request(cluster):
    n = nonce()
    return {"v": VERSION, "op": "ca", "cluster": cluster, "nonce": n}


def ca_from(key, request, answer):
    """The CA certificate (PEM) from the arbiter's answer, once its MAC checks."""
    if "error" in answer:
        raise ProtocolError(f"the arbiter refused: {answer['error']}")
    pem = answer.get("ca", "")
    _check(key, answer.get("mac"), "ca", request["cluster"], request["nonce"], pem)
    if "BEGIN CERTIFICATE" not in pem:
        raise ProtocolError("the arbiter's answer holds no certificate")
    return pem


def sign_request(key, cluster, node, crq):
    n = nonce()
    return {"v": VERSION, "op": "sign", "cluster": cluster, "node": node, "nonce": n, "crq": crq,
            "mac": mac(key, "sign", cluster, node, n, crq)}


def crt_from(key, request, answer):
    """The signed certificate (PEM) from the arbiter's answer, once its MAC checks."""
    if "error" in answer:
        raise ProtocolError(f"the arbiter refused: {answer['error']}")
    pem = answer.get("crt", "")
    _check(key, answer.get("mac"), "crt", request["cluster"], request["nonce"], pem)
    if "BEGIN CERTIFICATE" not in pem:
        raise ProtocolError("the arbiter's answer holds no certificate")
    return pem


# -- the arbiter's side --------------------------------------------------------------------------------------
def answer(request, key_of, ca_pem, sign):
    """The arbiter's answer to one request.

    ``key_of(cluster)``: the cluster's enrolment key or None (not enrolled
    here); ``ca_pem()``: the CA certificate; ``sign(cluster, crq)``: the
    signed certificate.  Errors become {"error"} answers, never exceptions.
    """
    try:
        op, cluster = request.get("op"), request.get("cluster", "")
        key = key_of(cluster)
        if key is None:
            raise ProtocolError(f"cluster {cluster!r} is not enrolled on this arbiter "
                                "(`dpkg-reconfigure uec-clc-ha-arbiter` or `uec-clc-ha-arbiter add`)")
        if op == "ca":
            pem = ca_pem()
            return {"v": VERSION, "ca": pem, "mac": mac(key, "ca", cluster, request.get("nonce", ""), pem)}
        if op == "sign":
            _check(key, request.get("mac"), "sign", cluster, request.get("node", ""), request.get("nonce", ""),
                   request.get("crq", ""))
            if "CERTIFICATE REQUEST" not in request.get("crq", ""):
                raise ProtocolError("no certificate request in the message")
            pem = sign(cluster, request["crq"])
            return {"v": VERSION, "crt": pem, "mac": mac(key, "crt", cluster, request["nonce"], pem)}
        raise ProtocolError(f"unknown operation {op!r}")
    except ProtocolError as e:
        return {"v": VERSION, "error": str(e)}
