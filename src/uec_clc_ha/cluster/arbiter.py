"""This node's side of the arbiter: its qdevice certificate, got from the arbiter's enrolment service.

Called when this node is to vote through the arbiter named by the Arbiter
setting: prepare() by `uec-clc-ha-ctl apply` before it writes anything
(--dry-run only asks for the CA) and by cluster-init before corosync starts
with the quorum device.  Each node enrols by itself, with nothing copied
between the nodes and no ssh: it asks the arbiter for its CA (the answer
authenticated by the enrolment key both sides derive from the cluster's
secret: uec_clc_ha.cluster.arbiter_protocol), initialises corosync-qdevice's
certificate database with it, makes a certificate request for the cluster's
name, has the arbiter sign it, and imports the certificate.  The private
key never leaves this node.

The steps are corosync-qdevice-net-certutil's own (-i, -r, -M), whose
database is /etc/corosync/qdevice/net/nssdb.  A node enrolled with this
arbiter's CA already is left alone; one enrolled with another CA (a new
arbiter, or the arbiter's CA made anew) is enrolled afresh.
"""

from uec_clc_ha.cluster import arbiter_protocol as protocol, quorum_device
from uec_clc_ha.config import keyring
from uec_clc_ha.errors import CommandFailure, Refused

CERTUTIL = "corosync-qdevice-net-certutil"
QDEVICE_DIR = "/etc/corosync/qdevice/net"
NSSDB = f"{QDEVICE_DIR}/nssdb"
P12 = f"{NSSDB}/qdevice-net-node.p12"
CRQ = f"{NSSDB}/qdevice-net-node.crq"
CA_FILE = "/etc/uec-clc-ha/arbiter-ca.crt"       # the CA this node was enrolled with (public)


def _ask(system, host, port, request, timeout=30):
    try:
        line = system.exchange(host, port, protocol.encode(request), timeout=timeout)
    except CommandFailure as e:
        raise Refused(f"the arbiter {host} does not answer on TCP port {port} ({e.stderr.strip()}): "
                      "is uec-clc-ha-arbiter installed there, and the port open? Nothing was changed") from None
    try:
        return protocol.decode(line)
    except protocol.ProtocolError as e:
        raise Refused(f"the arbiter {host} answered something else than the enrolment protocol ({e}); "
                      "nothing was changed") from None


def served_ca(system, host, cluster, key, port=protocol.ENROL_PORT):
    """The arbiter's CA certificate, authenticated by the enrolment key; Refused when that fails."""
    request = protocol.ca_request(cluster)
    try:
        return protocol.ca_from(key, request, _ask(system, host, port, request))
    except protocol.ProtocolError as e:
        raise Refused(f"the arbiter {host} cannot enrol cluster {cluster}: {e}. Nothing was changed") from None


def enrolled(system, ca):
    """True when this node holds a qdevice certificate from the CA whose file is ``ca``."""
    return system.read_or_none(CA_FILE) == ca and system.exists(P12)


def enrol(system, host, cluster, node, key, say=print, port=protocol.ENROL_PORT):
    """Enrol this node with the arbiter at ``host`` for ``cluster``; True when something was done."""
    system.require(CERTUTIL, "corosync-qdevice")
    ca = served_ca(system, host, cluster, key, port)
    if enrolled(system, ca):
        say(f"arbiter: {node} holds a certificate from {host}'s CA already")
        return False
    if system.exists(NSSDB):
        say(f"arbiter: {NSSDB} was made for another CA: made anew")
        system.remove_tree(NSSDB)
    system.makedirs("/etc/uec-clc-ha")
    system.write_atomic(CA_FILE, ca, mode=0o644)
    system.run([CERTUTIL, "-i", "-c", CA_FILE], timeout=120)
    system.run([CERTUTIL, "-r", "-n", cluster], timeout=120)
    request = protocol.sign_request(key, cluster, node, system.read_bytes(CRQ))
    try:
        crt = protocol.crt_from(key, request, _ask(system, host, port, request))
    except protocol.ProtocolError as e:
        raise Refused(f"the arbiter {host} did not sign {node}'s certificate: {e}") from None
    crt_path = f"{NSSDB}/cluster-{cluster}.crt"
    system.write_atomic(crt_path, crt, mode=0o644)
    system.run([CERTUTIL, "-M", "-c", crt_path], timeout=120)
    say(f"arbiter: {node} enrolled with {host} (its qdevice certificate for cluster {cluster} is in {NSSDB})")
    return True


def in_use(system, config):
    """True when this node holds a qdevice certificate and corosync runs with this arbiter as its device.

    Then apply and the postinst leave the enrolment alone and do not ask the
    arbiter: a pair whose arbiter host is down (it keeps serving on two votes
    of three) can still be administered and upgraded.
    """
    return system.exists(P12) and system.exists(CA_FILE) and \
        quorum_device.running(system) == quorum_device.wanted(config)


def prepare(system, config, say=print, dry_run=False):
    """Before corosync gets the quorum device: True when this node was enrolled now.

    Refused, with nothing changed, when the arbiter does not answer or its
    CA is not authenticated by this cluster's enrolment key (another
    secret or cluster name there, or not an arbiter of this pair);
    ``dry_run`` stops after that check.  Nothing to do without an Arbiter,
    nor while it is in use (in_use).
    """
    if not config.arbiter_host:
        return False
    key = keyring.derive(config.cluster_secret, config.cluster_name).arbiter_enrol_key
    host = str(config.arbiter_host)
    if in_use(system, config):
        say(f"arbiter: corosync votes through {host} already, with this node's certificate")
        return False
    if dry_run:
        served_ca(system, host, config.cluster_name, key)
        say(f"arbiter: {host} answers and its CA is this cluster's")
        return False
    return enrol(system, host, config.cluster_name, config.local_node, key, say=say)
