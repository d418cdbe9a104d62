"""The arbiter host's side: its CA for corosync-qnetd, the clusters it may enrol, and one enrolment answer.

Called by the uec-clc-ha-arbiter command (uec_clc_ha.arbiter.command): its
`answer` runs once per connection to the enrolment port (systemd's
uec-clc-ha-arbiter.socket hands it the connection as standard input and
output), `add` / `remove` / `list` keep the clusters, and the package's
postinst runs `init` and `add` with its debconf answers.

A cluster may enrol here when this host holds its enrolment key,
/etc/uec-clc-ha-arbiter/clusters/NAME.key (0600): derived from the
cluster's name and its Cluster-Secret the way the nodes derive it
(uec_clc_ha.config.keyring), and the only thing kept of the secret.
corosync-qnetd's own CA and database are corosync-qnetd-certutil's
(/etc/corosync/qnetd/nssdb), made once by `init` (the corosync-qnetd
package's postinst may have made them already).
"""

import re
import time

from uec_clc_ha.cluster import arbiter_protocol as protocol
from uec_clc_ha.config import keyring
from uec_clc_ha.errors import BadParameter, NotFound
from uec_clc_ha.host.system import Scratch

CLUSTERS_DIR = "/etc/uec-clc-ha-arbiter/clusters"
QNETD_DB = "/etc/corosync/qnetd/nssdb"
CA_EXPORT = f"{QNETD_DB}/qnetd-cacert.crt"
CERTUTIL = "corosync-qnetd-certutil"
SIGN_LOCK = "/run/lock/uec-clc-ha-arbiter.lock"    # one signing at a time (the CA's serial number file)
SIGN_WAIT = 60                                     # seconds a request waits for another one's signing
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")       # Cluster-Name's rule (config.fields.name)


def _key_path(cluster):
    if not NAME_RE.match(cluster or ""):
        raise BadParameter("cluster name: must be 1-32 characters: letters, digits, '.', '_' or '-', starting "
                           "with a letter or digit (the nodes' Cluster-Name)")
    return f"{CLUSTERS_DIR}/{cluster}.key"


def init(system, say=print):
    """corosync-qnetd's CA and server certificate, unless they exist; True when made now."""
    if system.exists(CA_EXPORT):
        return False
    system.require(CERTUTIL, "corosync-qnetd")
    system.run([CERTUTIL, "-i", "-G"], timeout=300)     # -G: corosync-qnetd (group coroqnetd) reads it
    say(f"uec-clc-ha-arbiter: corosync-qnetd's certificate authority made ({CA_EXPORT})")
    return True


def add(system, cluster, secret):
    """Let ``cluster`` enrol: keep the enrolment key derived from its secret (never the secret)."""
    path = _key_path(cluster)
    if len(secret) < 16:
        raise BadParameter("Cluster-Secret: the nodes' secret is at least 16 characters")
    system.makedirs(CLUSTERS_DIR, mode=0o700)
    key = keyring.derive(secret, cluster).arbiter_enrol_key
    system.write_atomic(path, (key + "\n").encode(), mode=0o600)


def remove(system, cluster):
    """Stop enrolling ``cluster`` (the certificates it holds stay valid until the CA is made anew)."""
    path = _key_path(cluster)
    if not system.exists(path):
        raise NotFound(f"cluster {cluster} is not enrolled here")
    system.remove(path)


def clusters(system):
    return [name[:-4] for name in system.listdir(CLUSTERS_DIR) if name.endswith(".key")]


def key_of(system, cluster):
    try:
        path = _key_path(cluster)
    except BadParameter:
        return None
    raw = system.read_or_none(path)
    if raw is None:
        return None
    key = raw.decode().strip()
    return key if re.fullmatch(r"[0-9a-f]{64}", key) else None


class _Busy(Exception):
    pass


def sign(system, cluster, crq, sleep=time.sleep):
    """corosync-qnetd-certutil signs the request (DER bytes); the certificate's bytes.

    Both nodes of a pair may ask at once: one signing at a time (the CA's
    serial number file), a request waiting up to SIGN_WAIT seconds.
    """
    system.makedirs("/run/lock")
    for _ in range(SIGN_WAIT):
        try:
            with system.exclusive_lock(SIGN_LOCK, _Busy):
                with Scratch("uec-clc-ha-arbiter.") as tmp:
                    request = tmp.write("qdevice-net-node.crq", crq)
                    system.run([CERTUTIL, "-s", "-c", request, "-n", cluster], timeout=120)
                return system.read_bytes(f"{QNETD_DB}/cluster-{cluster}.crt")
        except _Busy:
            sleep(1)
    raise protocol.ProtocolError(f"another request held the arbiter's CA for {SIGN_WAIT} s; try again")


def answer_line(system, line):
    """The answer (bytes, one line) to one request line."""
    try:
        request = protocol.decode(line)
    except protocol.ProtocolError as e:
        return protocol.encode({"v": protocol.VERSION, "error": str(e)})

    def ca_file():
        if not system.exists(CA_EXPORT):
            raise protocol.ProtocolError("this arbiter has no CA yet (`uec-clc-ha-arbiter init`)")
        return system.read_bytes(CA_EXPORT)
    return protocol.encode(protocol.answer(request, lambda c: key_of(system, c), ca_file,
                                           lambda c, crq: sign(system, c, crq)))
