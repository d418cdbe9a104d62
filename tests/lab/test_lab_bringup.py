"""The pair that `labctl up` made through apt-get install alone: asserted on its real state.

The session's `pair` fixture (tests/lab/conftest.py) brings the lab up (or
reuses a serving one).  Everything here reads the real thing: /proc/drbd,
crm_mon's XML, the file system of each guest, and the cloud from the client
namespace on the VIP.
"""

import re

import pytest

from lablib import config, pair as lab_pair, scenario
from lablib.observe import wait_for

NODES = tuple(config.NODES)
DATA = ("/var/lib/eucalyptus", "/var/lib/image-store-proxy")


def test_drbd_is_connected_and_up_to_date_on_both(pair):
    """Once the initial sync the second node's install started is done (DRBD runs it in the background: the
    VIP may serve before it ends), both disks are UpToDate and connected; nothing else is accepted."""
    def synced():
        states = {node: pair.drbd(node) for node in NODES}
        if any(cstate in ("SyncSource", "SyncTarget") for cstate, _, _ in states.values()):
            return None
        return states
    states = wait_for("DRBD's initial sync done", synced, 900, step=5)
    for node, (cstate, roles, disks) in states.items():
        assert (cstate, disks) == ("Connected", "UpToDate/UpToDate"), (node, cstate, roles, disks)


def test_both_nodes_are_online_and_the_group_runs_on_the_initial_primary(pair):
    view = pair.view("clc2")
    assert view is not None and view.quorate
    assert {n: v["online"] for n, v in view.nodes.items()} == {n: True for n in NODES}
    assert pair.active("clc1") == pair.active("clc2") == "clc1"
    promoted = [r.nodes for r in view.resources if r.agent == "ocf:linbit:drbd" and r.role == "Promoted"]
    assert promoted == [("clc1",)]
    assert not [f for f in view.failures if not _load_timeout(f)], view.failures
    if view.failures:
        print(f"\nmonitors that ran out of time on the loaded emulated nodes (recovered): {view.failures}")


def test_both_nodes_vote_as_the_preseed_said(pair):
    """With the arbiter (the lab's default) the preseeded uec-clc-ha/arbiter made each node enrol at install:
    no set, no apply.  Both count three votes with corosync-qdevice connected, qnetd lists both with verified
    client certificates, and the CIB has no fencing delay.  Without it: two_node quorum."""
    for node in NODES:
        quorum = scenario.quorum(pair, node)
        assert ("Qdevice" in quorum["flags"]) == config.WITH_ARBITER, quorum["text"]
        if not config.WITH_ARBITER:
            assert "2Node" in quorum["flags"], quorum["text"]
            continue
        assert quorum["expected"] == 3 and "2Node" not in quorum["flags"], quorum["text"]
        assert scenario.qdevice_connected(pair, node), node
        delay = pair.exec(node, "crm_attribute", "-t", "crm_config", "-n", "priority-fencing-delay", "-G", "-q",
                          timeout=60, check=False).stdout.strip()
        assert delay in ("0", "0s"), delay
    if config.WITH_ARBITER:
        listed = pair.exec(config.ARBITER, "corosync-qnetd-tool", "-lv", timeout=60).stdout
        assert listed.count("TLS active:\t\tYes (client certificate verified)") == 2, listed
        assert "Node ID 1:" in listed and "Node ID 2:" in listed, listed


@pytest.mark.parametrize("node", NODES)
def test_nobody_asked_for_fencing_while_the_pair_came_up(pair, node):
    """The first node, installed alone, waits for its peer (wait_for_all) and so fences nobody: a node that
    counted itself quorate alone would fence the peer it has not seen yet (with an arbiter, votequorum's
    expected votes must count the arbiter's: corosync.conf's expected_votes)."""
    asked = scenario.fencing_requests_this_boot(pair, node)
    assert asked == 0, f"{node} asked for fencing {asked} times while the pair came up"


def _load_timeout(failure):
    """A recurring monitor that timed out: one-vCPU emulated guests can stall past 40 s while the bring-up's
    other work runs (seen once, both IP monitors at the same second).  Start, stop, promote or a monitor that
    answered an error is a real failure of the bring-up and fails the test."""
    op, _, reason = failure.partition(" on ")
    return "_monitor_" in op and "timed out" in reason.lower()


@pytest.mark.parametrize("node", NODES)
def test_data_directories_point_into_the_drbd_mount(pair, node):
    for d in DATA:
        target = pair.exec(node, "readlink", d).stdout.strip()
        assert target == f"/mnt/uecdata/{d.rsplit('/', 1)[1]}", (node, d, target)


def test_the_stand_in_data_arrived_intact_on_drbd(pair):
    """Every data file the stand-in package installed, checked against its own md5sums, through the symlinks."""
    listed = pair.exec("clc1", "cat", "/var/lib/dpkg/info/eucalyptus-cloud.md5sums").stdout
    data = [line for line in listed.splitlines() if " var/lib/" in line]
    assert len(data) >= 10
    checked = pair.exec("clc1", "sh", "-c", "cd / && md5sum -c --quiet -", stdin="\n".join(data) + "\n",
                        check=False)
    assert checked.rc == 0, checked.stdout + checked.stderr
    mount = pair.sh("clc1", "findmnt -n -o SOURCE /mnt/uecdata").stdout.strip()
    assert mount == "/dev/drbd0"
    assert pair.sh("clc2", "findmnt -n /mnt/uecdata", check=False).rc != 0      # the passive node mounts nothing


@pytest.mark.parametrize("node", NODES)
def test_eucalyptus_is_out_of_boot_start_up(pair, node):
    assert pair.exec(node, "systemctl", "is-enabled", "eucalyptus-cloud.service", check=False).stdout.strip() \
        == "disabled"
    links = pair.sh(node, "ls /etc/rc2.d").stdout.split()
    for name in ("eucalyptus", "image-store-proxy"):
        assert [n for n in links if n.endswith(name)] and all(n.startswith("K") for n in links if n.endswith(name))


ATTRIBUTES = ("uec-clc-ha-settings", "uec-clc-ha-disk-bytes", "uec-clc-ha-release")


def test_each_node_published_what_doctor_compares_without_a_doctor_run(pair):
    """cluster-init (and the postinst) published each node's settings digest, disk size and release as
    permanent node attributes: doctor on either node compares them from its first run.  On a consistent pair
    of the lab the two nodes' values are equal."""
    values = {}
    for node in NODES:
        for name in ATTRIBUTES:
            done = pair.exec("clc1", "crm_attribute", "--type", "nodes", "--node", node, "--name", name, "--query",
                             "--quiet", timeout=60, check=False)
            assert done.rc == 0 and done.stdout.strip(), f"{node} has not published {name}: {done.stderr}"
            values[node, name] = done.stdout.strip()
    for name in ATTRIBUTES:
        assert values["clc1", name] == values["clc2", name], (name, values)
    digest = values["clc1", "uec-clc-ha-settings"]
    assert len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
    assert values["clc1", "uec-clc-ha-disk-bytes"].isdigit()
    assert values["clc1", "uec-clc-ha-release"].startswith("debian=")


@pytest.mark.parametrize("node", NODES)
def test_the_install_replaced_the_cluster_debians_packages_started(pair, node):
    """Before uec-clc-ha, the bring-up left each node as Debian's packages do (lablib.pair.debian_stack):
    corosync running its own one-node cluster "debian", Pacemaker's CIB holding its node1.  The install
    said so and stopped it; the node now runs the pair's cluster alone, with no trace of node1 in the CIB
    (a node there that never comes would be fenced at start-up or listed offline for ever)."""
    with open(f"{config.node_dir(node)}/{lab_pair.INSTALL_RECORD}") as fh:
        said = fh.read()
    assert f"corosync runs the cluster {lab_pair.DEBIAN_CLUSTER!r}" in said, said[-3000:]
    shown = dict(line.split(": ", 1) for line in pair.exec(node, "uec-clc-ha-ctl", "show").stdout.splitlines()
                 if ": " in line)
    assert lab_pair.cluster_name(node) == shown["Cluster-Name"]
    nodes = pair.exec(node, "cibadmin", "-Q", "-o", "nodes", "--local", timeout=60).stdout
    status = pair.exec(node, "cibadmin", "-Q", "-o", "status", "--local", timeout=60).stdout
    assert "node1" not in nodes and "node1" not in status, nodes
    assert sorted(re.findall(r'uname="([^"]+)"', nodes)) == sorted(NODES), nodes
    name = pair.exec(node, "crm_attribute", "-t", "crm_config", "-n", "cluster-name", "-G", "-q", timeout=60,
                     check=False).stdout.strip()
    assert name == shown["Cluster-Name"], name


def test_the_cloud_serves_on_the_vip_with_the_data_it_had_before(pair):
    assert pair.serving()
    records = pair.records()
    assert records is not None and [r for r in records if r.startswith("before-ha-")] == \
        [f"before-ha-{i}" for i in range(5)]
    assert pair.write("after-bring-up")
    assert "after-bring-up" in pair.records()


def test_the_second_node_was_configured_from_the_first_nodes_join_token(pair):
    """clc2 was preseeded with clc1's `uec-clc-ha-ctl join-token` line and the secret alone (and its yes to its
    own steps): its settings are clc1's with the node's own swapped, and debconf no longer holds the token."""
    shown = {node: dict(line.split(": ", 1) for line in pair.exec(node, "uec-clc-ha-ctl", "show").stdout.splitlines()
                        if ": " in line) for node in NODES}
    swapped = (("Local-Node", "Peer-Node"), ("Local-Address", "Peer-Address"),
               ("Replication-Local-Address", "Replication-Peer-Address"), ("IPMI-Local-Address", "IPMI-Peer-Address"))
    for a, b in swapped:
        assert (shown["clc2"].get(a), shown["clc2"].get(b)) == (shown["clc1"].get(b), shown["clc1"].get(a)), a
    own = {k for pair_ in swapped for k in pair_}
    assert {k: v for k, v in shown["clc2"].items() if k not in own} == \
        {k: v for k, v in shown["clc1"].items() if k not in own}
    debconf = pair.exec("clc2", "debconf-show", "uec-clc-ha").stdout
    assert "uec-clc-ha/join-token:" in debconf and "UECJ1." not in debconf
    with open(f"{config.node_dir('clc2')}/{lab_pair.PRESEED_RECORD}") as fh:
        given = [line.split()[1] for line in fh if line.strip()]
    assert given[:2] == ["uec-clc-ha/join-token", "uec-clc-ha/cluster-secret"]
    assert set(given[2:]) <= {f"uec-clc-ha/{q}" for q in ("disable-boot-startup", "initialize-drbd",
                                                            "prepare-secondary", "start-cluster", "ipmi-password")}
