"""A node enrols with the arbiter over loopback, with the real certutils of corosync-qnetd and corosync-qdevice.

The arbiter and the node each get a private mount namespace (a holder
process made by `unshare --mount`, entered with nsenter for every command)
whose /etc is an overlay with its writes in the test's directory (and
/run/lock a tmpfs of its own, for the arbiter's signing lock): the
certutils' paths are fixed (/etc/corosync/qnetd, /etc/corosync/qdevice), and
this host's /etc is never written.  The arbiter answers each connection to its enrolment
port with `uec-clc-ha-arbiter answer`, as its systemd socket unit does
(Accept=yes: the connection is the command's standard input and output).
"""

import os
import socket
import subprocess
import threading

import pytest

from checkout import TOP
from uec_clc_ha.config import keyring

SECRET = "the pair's shared secret, 16+"
CLUSTER = "uec-clc"
ARBITER = os.path.join(TOP, "src", "sbin", "uec-clc-ha-arbiter")
ENV = dict(os.environ, PYTHONPATH=os.path.join(TOP, "src"), PATH="/usr/sbin:/usr/bin:/sbin:/bin")


class Namespace:
    """A private mount namespace whose /etc is an overlay (writes land in ``scratch``); run() executes argv there."""

    def __init__(self, scratch):
        upper, work = os.path.join(scratch, "upper"), os.path.join(scratch, "work")
        os.makedirs(upper)
        os.makedirs(work)
        script = (f"mount -t overlay uec-clc-ha-test -o lowerdir=/etc,upperdir={upper},workdir={work} /etc && "
                  "mount -t tmpfs uec-clc-ha-test /run/lock && ")
        self.holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                        script + "echo ready && exec sleep 3600"],
                                       stdout=subprocess.PIPE, text=True)
        assert self.holder.stdout.readline().strip() == "ready"

    def argv(self, argv):
        return ["nsenter", f"--mount=/proc/{self.holder.pid}/ns/mnt", *argv]

    def run(self, argv, **kw):
        kw.setdefault("env", ENV)
        return subprocess.run(self.argv(argv), capture_output=True, text=True, timeout=300, check=False, **kw)

    def close(self):
        self.holder.kill()
        self.holder.wait(timeout=30)


@pytest.fixture
def arbiter(tmp_path):
    """An arbiter with its CA made anew, cluster uec-clc allowed, answering on a loopback port: (namespace, port)."""
    ns = Namespace(str(tmp_path / "arbiter"))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve():
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(None)
                subprocess.run(ns.argv([ARBITER, "answer"]), stdin=conn.fileno(), stdout=conn.fileno(),
                               stderr=subprocess.DEVNULL, env=ENV, timeout=120, check=False)
    thread = threading.Thread(target=serve, daemon=True)
    try:
        ns.run(["rm", "-rf", "/etc/corosync/qnetd"])        # this host's own (if any) stays: only the overlay's
        init = ns.run([ARBITER, "init"])
        assert init.returncode == 0, init.stdout + init.stderr
        added = ns.run([ARBITER, "add", CLUSTER], input=SECRET + "\n")
        assert added.returncode == 0, added.stderr
        thread.start()
        yield ns, port
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(10)
        listener.close()
        ns.close()


@pytest.fixture
def node(tmp_path):
    ns = Namespace(str(tmp_path / "node"))
    yield ns
    ns.close()


def enrol(node, port, secret=SECRET):
    key = keyring.derive(secret, CLUSTER).arbiter_enrol_key
    code = ("import sys; from uec_clc_ha.cluster import arbiter; from uec_clc_ha.host.system import System; "
            f"from uec_clc_ha.errors import guarded; sys.exit(guarded('enrol', lambda: "
            f"0 if arbiter.enrol(System('/'), '127.0.0.1', {CLUSTER!r}, 'clc1', {key!r}, port={port}) else 3))")
    return node.run(["python3", "-c", code])


def test_a_node_enrols_and_its_certificate_is_the_arbiters(arbiter, node):
    ns, port = arbiter
    assert ns.run([ARBITER, "list"]).stdout.split() == [CLUSTER]
    key_file = ns.run(["stat", "-c", "%a", f"/etc/uec-clc-ha-arbiter/clusters/{CLUSTER}.key"]).stdout.strip()
    assert key_file == "600"
    assert SECRET not in ns.run(["cat", f"/etc/uec-clc-ha-arbiter/clusters/{CLUSTER}.key"]).stdout
    done = enrol(node, port)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "enrolled with 127.0.0.1" in done.stdout
    listed = node.run(["certutil", "-L", "-d", "/etc/corosync/qdevice/net/nssdb"]).stdout
    assert "QNet CA" in listed and "Cluster Cert" in listed, listed
    assert node.run(["test", "-s", "/etc/corosync/qdevice/net/nssdb/qdevice-net-node.p12"]).returncode == 0
    # the cluster certificate verifies against the arbiter's CA, for the cluster's name
    cert = node.run(["certutil", "-L", "-d", "/etc/corosync/qdevice/net/nssdb", "-n", "Cluster Cert"]).stdout
    assert f"CN={CLUSTER}" in cert and "Issuer: \"CN=QNet CA\"" in cert, cert
    again = enrol(node, port)
    assert again.returncode == 3 and "holds a certificate from 127.0.0.1's CA already" in again.stdout


def test_a_node_with_another_secret_is_refused_and_nothing_is_made(arbiter, node):
    _, port = arbiter
    done = enrol(node, port, secret="not the pair's secret at all")
    assert done.returncode == 6, done.stdout + done.stderr
    assert "not authenticated by this cluster's enrolment key" in done.stderr
    assert node.run(["test", "-e", "/etc/corosync/qdevice/net/nssdb"]).returncode != 0


def test_an_arbiter_that_does_not_answer_is_refused_before_anything_is_made(node):
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()                      # nothing listens there now
    done = enrol(node, port)
    assert done.returncode == 6 and "does not answer on TCP port" in done.stderr, done.stderr
    assert node.run(["test", "-e", "/etc/corosync/qdevice/net/nssdb"]).returncode != 0
