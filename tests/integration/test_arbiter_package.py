"""uec-clc-ha-arbiter installed, reinstalled and purged with apt in throwaway Debian 12 roots.

The root is built from the arbiter package's Depends alone (chroot.ARBITER_PACKAGES:
corosync-qnetd, the library's Depends) on a cached debootstrap root, an overlay per
test (lab/lablib/chroot.py); debconf's answers are preseeded.  Nothing is installed
on the host.  The installed command answers an enrolment request inside the root, so
the CA the postinst made and the key it kept are the ones a node would get; a node
enrolling for real is tests/integration/test_arbiter_enrol.py.
"""

import os
import shutil

import pytest

from lablib import chroot, packages
from lablib.chroot import ARBITER_PACKAGES, ChrootRoot
from uec_clc_ha.cluster import arbiter_protocol as protocol
from uec_clc_ha.config import keyring

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("debootstrap", path="/usr/sbin:/usr/bin"),
                                reason="needs root and debootstrap")

SECRET = "the pair's secret, typed on the arbiter"
CLUSTER = "uec-clc"
KEY_FILE = f"/etc/uec-clc-ha-arbiter/clusters/{CLUSTER}.key"


@pytest.fixture(scope="module")
def base():
    return chroot.base_root(ARBITER_PACKAGES)


@pytest.fixture
def host(base, tmp_path):
    """A throwaway third host: Debian 12 with corosync-qnetd."""
    with ChrootRoot(base, tmp_path) as root:
        yield root


def install(root, deb, name=CLUSTER, secret=SECRET, check=True):
    root.write("/tmp/preseed", f"uec-clc-ha-arbiter uec-clc-ha-arbiter/cluster-name string {name}\n"
                               f"uec-clc-ha-arbiter uec-clc-ha-arbiter/cluster-secret password {secret}\n")
    root.run(["debconf-set-selections", "/tmp/preseed"])
    root.run(["rm", "/tmp/preseed"])
    inside = [root.copy_in(each, "/tmp") for each in (packages.library_of(deb), packages.arbiter_of(deb))]
    return root.run(["apt-get", "install", "-y", "--no-install-recommends", *inside], check=check)


def debconf_holds(root, text):
    return any(text in root.read(path).decode(errors="replace")
               for path in ("/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat")
               if root.exists(path))


def served_ca(root, key):
    """The CA the installed command serves, checked with ``key`` as a node checks it."""
    request = protocol.ca_request(CLUSTER)
    done = root.run(["uec-clc-ha-arbiter", "answer"], input=protocol.encode(request).decode())
    return protocol.ca_from(key, request, protocol.decode(done.stdout.encode()))


def test_a_preseeded_install_lets_the_pair_enrol_and_keeps_only_the_derived_key(host, deb):
    install(host, deb)
    key = keyring.derive(SECRET, CLUSTER).arbiter_enrol_key
    assert host.read(KEY_FILE).decode().strip() == key
    assert os.stat(host.host_path(KEY_FILE)).st_mode & 0o777 == 0o600
    assert os.stat(host.host_path("/etc/uec-clc-ha-arbiter/clusters")).st_mode & 0o777 == 0o700
    assert not debconf_holds(host, SECRET), "the secret stayed in debconf"
    assert host.run(["uec-clc-ha-arbiter", "list"]).stdout.split() == [CLUSTER]
    # the socket is enabled for boot (started too where systemd runs)
    assert os.path.islink(host.host_path("/etc/systemd/system/sockets.target.wants/uec-clc-ha-arbiter.socket",
                                         follow=False))
    # the CA the postinst left is corosync-qnetd's, readable by its group, and served authenticated
    ca = served_ca(host, key)
    assert ca == host.read("/etc/corosync/qnetd/nssdb/qnetd-cacert.crt")
    # a reinstall with no secret keeps what the host has
    install(host, deb, secret="")
    assert host.read(KEY_FILE).decode().strip() == key


def test_a_secret_that_breaks_the_rule_fails_naming_it_and_keeps_nothing(host, deb):
    done = install(host, deb, secret="short", check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Cluster-Secret: the nodes' secret is at least 16 characters" in said
    assert "Finish with: uec-clc-ha-arbiter add uec-clc" in said
    assert not host.exists(KEY_FILE)
    assert not debconf_holds(host, "short")


def test_without_a_secret_the_install_says_how_to_add_the_pair_later(host, deb):
    done = install(host, deb, secret="")
    assert "the pair uec-clc may not enrol here yet: run uec-clc-ha-arbiter add uec-clc" in done.stdout + done.stderr
    assert not host.exists(KEY_FILE)
    assert host.run(["uec-clc-ha-arbiter", "answer"], input=protocol.encode(protocol.ca_request(CLUSTER)).decode()
                    ).stdout.find("is not enrolled on this arbiter") > 0


def test_purge_removes_the_keys_and_debconf_answers(host, deb):
    install(host, deb)
    host.run(["apt-get", "purge", "-y", "uec-clc-ha-arbiter"])
    assert not host.exists("/etc/uec-clc-ha-arbiter")
    assert not os.path.lexists(host.host_path("/etc/systemd/system/sockets.target.wants/uec-clc-ha-arbiter.socket",
                                              follow=False))
    assert not debconf_holds(host, "uec-clc-ha-arbiter/cluster-name")
