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
        -> {"v": 1, "ca": B64, "mac": MAC("ca", NAME, N, B64)}
    {"v": 1, "op": "sign", "cluster": NAME, "node": NODE, "nonce": N, "crq": B64,
     "mac": MAC("sign", NAME, NODE, N, B64)}
        -> {"v": 1, "crt": B64, "mac": MAC("crt", NAME, N, B64)}
    any failure -> {"v": 1, "error": TEXT}

B64 is a file's bytes in base64 (the certutils write the request and the
signed certificate in DER, the CA export as text with its PEM).  MAC is
HMAC-SHA256 under the enrolment key over the NUL-joined fields.  The
node checks the arbiter's MAC before it trusts the CA (a host without the
key cannot hand it a CA of its own) and the arbiter checks the node's
before it signs (a host without the key gets no certificate for the
cluster).  The nonce, fresh for each request, ties each answer to its
request.  Nothing secret crosses the wire: certificates are public, the
private keys never leave the host that made them, and the key only
authenticates.
"""

import base64
import binascii
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


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text, what):
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ProtocolError(f"the {what} is not base64") from None
    if not data:
        raise ProtocolError(f"the message holds no {what}")
    return data


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
    """The CA certificate file's bytes from the arbiter's answer, once its MAC checks."""
    if "error" in answer:
        raise ProtocolError(f"the arbiter refused: {answer['error']}")
    text = answer.get("ca", "")
    _check(key, answer.get("mac"), "ca", request["cluster"], request["nonce"], text)
    data = unb64(text, "CA certificate")
    if b"BEGIN CERTIFICATE" not in data:
        raise ProtocolError("the arbiter's CA file holds no PEM certificate")
    return data


def sign_request(key, cluster, node, crq):
    """A request to sign ``crq`` (the certificate request file's bytes)."""
    n, text = nonce(), b64(crq)
    return {"v": VERSION, "op": "sign", "cluster": cluster, "node": node, "nonce": n, "crq": text,
            "mac": mac(key, "sign", cluster, node, n, text)}


def crt_from(key, request, answer):
    """The signed certificate file's bytes from the arbiter's answer, once its MAC checks."""
    if "error" in answer:
        raise ProtocolError(f"the arbiter refused: {answer['error']}")
    text = answer.get("crt", "")
    _check(key, answer.get("mac"), "crt", request["cluster"], request["nonce"], text)
    return unb64(text, "signed certificate")


# -- the arbiter's side --------------------------------------------------------------------------------------
def answer(request, key_of, ca_file, sign):
    """The arbiter's answer to one request.

    ``key_of(cluster)``: the cluster's enrolment key or None (not enrolled
    here); ``ca_file()``: the CA certificate file's bytes; ``sign(cluster,
    crq)``: the signed certificate's bytes for the request's bytes.  Errors
    become {"error"} answers, never exceptions.
    """
    try:
        op, cluster = request.get("op"), request.get("cluster", "")
        key = key_of(cluster)
        if key is None:
            raise ProtocolError(f"cluster {cluster!r} is not enrolled on this arbiter "
                                "(`dpkg-reconfigure uec-clc-ha-arbiter` or `uec-clc-ha-arbiter add`)")
        if op == "ca":
            text = b64(ca_file())
            return {"v": VERSION, "ca": text, "mac": mac(key, "ca", cluster, request.get("nonce", ""), text)}
        if op == "sign":
            _check(key, request.get("mac"), "sign", cluster, request.get("node", ""), request.get("nonce", ""),
                   request.get("crq", ""))
            text = b64(sign(cluster, unb64(request.get("crq", ""), "certificate request")))
            return {"v": VERSION, "crt": text, "mac": mac(key, "crt", cluster, request["nonce"], text)}
        raise ProtocolError(f"unknown operation {op!r}")
    except ProtocolError as e:
        return {"v": VERSION, "error": str(e)}
