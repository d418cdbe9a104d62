"""Settings scenarios shared by the golden-file, CLI and verification tests.

Imported by tests (and by tests/support/golden.py, `make golden`) only.  Addresses come from the documentation ranges
(RFC 5737) so nothing a test renders points at a real network.
"""

BASE = {
    "Local-Node": "clc1",
    "Peer-Node": "clc2",
    "Local-Address": "198.51.100.11",
    "Peer-Address": "198.51.100.12",
    "VIP": "198.51.100.100",
    "VIP-Prefix": "24",
    "VIP-Interface": "eth0",
    "Replication-Interface": "eth1",
    "Replication-Local-Address": "203.0.113.1",
    "Replication-Peer-Address": "203.0.113.2",
    "Replication-Prefix": "30",
    "DRBD-Disk": "/dev/vdb1",
    "Initial-Primary": "clc1",
    "Ping-Hosts": "198.51.100.1",
    "Cluster-Secret": "correct-horse-battery-staple-for-tests",
    "Source-Address-Route": "public-network",
}

SCENARIOS = {
    # The recipe on a current system: corosync + the stock kernel's DRBD 8.4, SBD fencing.
    "corosync-drbd84": dict(BASE, **{"DRBD-Version": "8.4", "Fencing": "sbd", "Image-Store-Proxy": "lsb",
                                     "SBD-Device": "/dev/disk/by-id/virtio-sbdshared"}),
    # LINBIT's DRBD 9 with IPMI fencing and a netplan replication link, on hosts without UEC's image store.
    "corosync-drbd9-ipmi": dict(BASE, **{"DRBD-Version": "9", "Fencing": "ipmilan", "Image-Store-Proxy": "none",
                                         "Source-Address-Route": "default",
                                         "IPMI-Local-Address": "192.0.2.11", "IPMI-Peer-Address": "192.0.2.12",
                                         "IPMI-User": "fence", "IPMI-Password": "bmc-pw-for-tests",
                                         "Replication-Link-Config": "netplan",
                                         "Ping-Hosts": "198.51.100.1 198.51.100.2"}),
    # SBD fencing with an arbiter (corosync-qnetd on the cloud's third host) deciding splits by its vote.
    "corosync-arbiter": dict(BASE, **{"DRBD-Version": "8.4", "Fencing": "sbd", "Image-Store-Proxy": "none",
                                      "SBD-Device": "/dev/disk/by-id/virtio-sbdshared", "Arbiter": "198.51.100.30",
                                      "Ping-Hosts": "198.51.100.1 198.51.100.2"}),
    # The legacy Heartbeat stack of the recipe (Pacemaker 1.x systems), no fencing, ifupdown link.
    "heartbeat-legacy": dict(BASE, **{"DRBD-Version": "8.4", "Cluster-Stack": "heartbeat", "Fencing": "none",
                                      "Image-Store-Proxy": "lsb",
                                      "Replication-Link-Config": "ifupdown", "Fencing-Delay": "0"}),
}


def full_raw(name):
    """Every setting of a scenario, defaults filled in."""
    from uec_clc_ha.config import settings

    raw = settings.defaults()
    raw.update(SCENARIOS[name])
    return raw


def node_config(node, name="corosync-drbd84", **overrides):
    """The validated settings of a scenario as one node of the pair has them (Local-Node node, the other its peer)."""
    from uec_clc_ha.config import settings

    raw = full_raw(name)
    raw.update({"Local-Node": node, "Peer-Node": "clc2" if node == "clc1" else "clc1"}, **overrides)
    return settings.require_valid(raw)


def write_settings(system, name, **overrides):
    """Write a scenario's settings file into a root, through the settings-file writer."""
    from uec_clc_ha.config import settings_file

    raw = dict(SCENARIOS[name])
    raw.update(overrides)
    text = settings_file.updated_text(settings_file.pristine_text(), raw)
    settings_file.save(system, text)
    return text


# What `corosync-qdevice-tool -sv` printed on the lab's clc1 (Debian 13, corosync-qdevice 3.0) voting through
# the arbiter host cc1, 2026-12-06 (tests/lab/test_lab_arbiter.py prints it).
QDEVICE_SV = (
    'Qdevice information\n'
    '-------------------\n'
    'Model:\t\t\tNet\n'
    'Node ID:\t\t1\n'
    'HB interval:\t\t3000ms\n'
    'Sync HB interval:\t5000ms\n'
    'Configured node list:\n'
    '    0\tNode ID = 1\n'
    '    1\tNode ID = 2\n'
    'Heuristics:\t\tEnabled only on sync\n'
    'Ring ID:\t\t1.9\n'
    'Membership node list:\t1, 2\n'
    'Quorate:\t\tYes\n'
    'Quorum node list:\n'
    '    0\tNode ID = 2, State = member\n'
    '    1\tNode ID = 1, State = member\n'
    'Expected votes:\t\t3\n'
    'Last poll call:\t\t2026-12-06T04:11:59 (cast vote)\n'
    '\n'
    'Qdevice-net information\n'
    '----------------------\n'
    'Cluster name:\t\tuec-clc\n'
    'QNetd host:\t\t198.51.100.13:5403\n'
    'Connect timeout:\t2400ms\n'
    'HB interval:\t\t2400ms\n'
    'VQ vote timer interval:\t1500ms\n'
    'TLS:\t\t\tRequired\n'
    'Algorithm:\t\tFifty-Fifty split\n'
    'Tie-breaker:\t\tNode with lowest node ID\n'
    'KAP Tie-breaker:\tEnabled\n'
    'Poll timer running:\tYes (cast vote)\n'
    'State:\t\t\tConnected\n'
    'Heuristics result:\tPass (regular: Undefined, membership: Pass, connect: Pass)\n'
    'TLS active:\t\tYes (client certificate sent)\n'
    'Connected since:\t2026-12-06T04:11:06\n'
    'Echo reply received:\t2026-12-06T04:11:59\n'
)


# corosync's cmap on the lab: `corosync-cmapctl totem.`, `nodelist.`, `quorum.`, `logging.` on clc1 (Debian 13,
# two_node), running the corosync.conf the package rendered there; LAB_COROSYNC over a scenario's settings
# renders that file.
LAB_CMAP = """\
totem.cluster_name (str) = uec-clc
totem.crypto_cipher (str) = aes256
totem.crypto_hash (str) = sha256
totem.interface.0.bindnetaddr (str) = 198.51.100.11
totem.interface.1.bindnetaddr (str) = 192.0.2.1
totem.token (u32) = 1000
totem.transport (str) = knet
totem.version (u32) = 2
nodelist.local_node_pos (u32) = 0
nodelist.node.0.name (str) = clc1
nodelist.node.0.nodeid (u32) = 1
nodelist.node.0.ring0_addr (str) = 198.51.100.11
nodelist.node.0.ring1_addr (str) = 192.0.2.1
nodelist.node.1.name (str) = clc2
nodelist.node.1.nodeid (u32) = 2
nodelist.node.1.ring0_addr (str) = 198.51.100.12
nodelist.node.1.ring1_addr (str) = 192.0.2.2
quorum.provider (str) = corosync_votequorum
quorum.two_node (u8) = 1
logging.logfile (str) = /var/log/corosync/corosync.log
logging.timestamp (str) = on
logging.to_logfile (str) = yes
logging.to_syslog (str) = yes
"""

LAB_COROSYNC = {"Cluster-Name": "uec-clc", "Corosync-Token": "1000", "Local-Node": "clc1", "Peer-Node": "clc2",
                "Local-Address": "198.51.100.11", "Peer-Address": "198.51.100.12",
                "Replication-Local-Address": "192.0.2.1", "Replication-Peer-Address": "192.0.2.2",
                "Replication-Prefix": "24"}


def scripted_mover(system, drbd, name="corosync-drbd84", **overrides):
    """(Mover, its output) for a scripted node: the scenario's settings and /proc/drbd written into its root, a
    clock that jumps 2 s a poll, no sleeping and no request to the VIP (the CLC counts as answering)."""
    import io

    from uec_clc_ha.cluster import moves
    from uec_clc_ha.config import pipeline

    write_settings(system, name, **overrides)
    system.write_atomic("/proc/drbd", drbd.encode())
    config = pipeline.build(system, pipeline.load_raw(system)).config
    out = io.StringIO()
    clock = iter(range(0, 100000, 2))
    return moves.Mover(system, config, out, clock=lambda: next(clock), sleep=lambda s: None,
                       health=lambda url: None), out
