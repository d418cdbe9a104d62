"""The one settings model: every answer, its default and its rules.

Read and written by uec-clc-ha-ctl (show/set/check/render/diff/apply) and by
the maintainer helpers; everything downstream (render, verify, the host
steps) takes the typed Config this module returns and reads nothing else.
The file is /etc/uec-clc-ha/uec-clc-ha.conf: one deb822 paragraph, commented,
mode 0600 because it holds the shared cluster secret.
"""

import ipaddress
import os
import types
from dataclasses import dataclass

from uec_clc_ha.config import fields as f
from uec_clc_ha.errors import Problem, ValidationError


@dataclass(frozen=True)
class Field:
    """One setting: its deb822 key, default, checker and the comment above it."""

    key: str
    default: str
    check: object
    doc: str
    secret: bool = False
    when: tuple = ()    # (key, value): only checked when that other field has that value

    @property
    def attr(self):
        return self.key.lower().replace("-", "_")


def _when(key, *values):
    return (key, values)


FIELDS = (
    # -- the two nodes ----------------------------------------------------
    Field("Cluster-Name", "uec-clc", f.name,
          "Name of the cluster (corosync cluster_name); also the salt from which every key is derived."),
    Field("Local-Node", "", f.hostname, "This node's name exactly as `uname -n` prints it."),
    Field("Peer-Node", "", f.hostname, "The other Cloud Controller's name as its `uname -n` prints it."),
    Field("Local-Address", "", f.ipv4, "This node's address on the public network (the VIP interface)."),
    Field("Peer-Address", "", f.ipv4, "The peer's address on the public network."),
    # -- the virtual IP ---------------------------------------------------
    Field("VIP", "", f.ipv4,
          "The virtual IP clients, CC, Walrus and NC use to reach the active CLC (VNET_CLOUDIP)."),
    Field("VIP-Prefix", "24", f.integer(8, 30), "Prefix length of the public network the VIP lives in."),
    Field("VIP-Interface", "eth0", f.interface, "Interface carrying the public network and the VIP."),
    Field("Source-Address-Route", "auto", f.choice("auto", "default", "public-network"),
          "Which route the active node's traffic leaves by with the VIP as source address (IPsrcaddr): "
          "default (the default route, as the recipe did), public-network (the route of the VIP's own "
          "network, for a pair whose CC, Walrus and NCs share that network and that has no default route), "
          "or auto (default where the host has a default route, public-network otherwise)."),
    # -- the replication link --------------------------------------------
    Field("Replication-Interface", "eth1", f.interface,
          "Interface of the direct link between the two CLCs (DRBD and the second corosync link)."),
    Field("Replication-Local-Address", "", f.ipv4, "This node's address on the replication link."),
    Field("Replication-Peer-Address", "", f.ipv4, "The peer's address on the replication link."),
    Field("Replication-Prefix", "30", f.integer(8, 31), "Prefix length of the replication link (30 for a /30)."),
    Field("Replication-Link-Config", "none", f.choice("none", "auto", "ifupdown", "netplan"),
          "Also write the replication interface's configuration (no gateway): none, auto (the form this host "
          "uses), ifupdown (/etc/network/interfaces.d) or netplan (/etc/netplan)."),
    # -- DRBD -------------------------------------------------------------
    Field("DRBD-Resource", "uec-clc", f.name, "DRBD resource name (/etc/drbd.d/<name>.res)."),
    Field("DRBD-Device", "/dev/drbd0", f.drbd_device, "DRBD device."),
    Field("DRBD-Disk", "", f.device,
          "Backing block device for DRBD, the same size on both nodes (for example /dev/vdb1). "
          "Initialising it destroys what it holds, and happens only when asked for."),
    Field("DRBD-Port", "7788", f.integer(1024, 65535), "TCP port DRBD replicates on."),
    Field("DRBD-Protocol", "C", f.choice("A", "B", "C"), "Replication protocol; C (synchronous) is the safe one."),
    Field("DRBD-Sync-Rate", "40M", f.rate,
          "The rate of DRBD's resync and online verify in bytes/s (K, M or G), fixed: about a third "
          "of the replication link's bandwidth, the rest is the cloud's."),
    Field("DRBD-Version", "auto", f.choice("auto", "8.4", "9"),
          "Generation of the kernel's DRBD module: auto (detected), 8.4 (stock Debian/Ubuntu kernels) or 9 (LINBIT)."),
    Field("DRBD-HMAC-Alg", "sha256", f.choice("sha256", "sha512", "sha1"),
          "HMAC algorithm for DRBD peer authentication (cram-hmac-alg)."),
    Field("Initial-Primary", "", f.optional(f.hostname),
          "The node that holds the data first (Local-Node or Peer-Node): `uec-clc-ha-ctl drbd-init` makes "
          "it Primary and creates the filesystem there; the other node receives a copy."),
    # -- the replicated filesystem ---------------------------------------
    Field("Mount-Point", "/mnt/uecdata", f.abs_path, "Where the DRBD filesystem is mounted on the active node."),
    Field("Filesystem", "ext4", f.choice("ext4", "ext3", "xfs"), "Filesystem on the DRBD device."),
    Field("Mount-Options", "noatime", f.mount_options,
          "Mount options of the DRBD filesystem, separated by commas (as in fstab), e.g. noatime,nodiratime."),
    Field("Data-Directories", "/var/lib/eucalyptus /var/lib/image-store-proxy", f.abs_paths,
          "Directories moved onto the DRBD filesystem and replaced by symlinks (space-separated)."),
    # -- cluster messaging -------------------------------------------------
    Field("Cluster-Stack", "corosync", f.choice("corosync", "heartbeat"),
          "Messaging layer: corosync (every current system) or heartbeat (legacy Pacemaker 1.x systems only)."),
    Field("Corosync-Token", "1000", f.integer(200, 60000),
          "Corosync token timeout in ms: how long until a silent node is declared lost.",
          when=_when("Cluster-Stack", "corosync")),
    Field("Heartbeat-Mcast-Interface", "eth0", f.interface, "Interface Heartbeat multicasts on.",
          when=_when("Cluster-Stack", "heartbeat")),
    Field("Heartbeat-Mcast-Group", "239.0.0.43", f.multicast_v4, "Heartbeat multicast group.",
          when=_when("Cluster-Stack", "heartbeat")),
    Field("Heartbeat-Mcast-Port", "694", f.integer(1, 65535), "Heartbeat UDP port.",
          when=_when("Cluster-Stack", "heartbeat")),
    Field("Heartbeat-Mcast-TTL", "1", f.integer(1, 255), "TTL of Heartbeat's multicast packets.",
          when=_when("Cluster-Stack", "heartbeat")),
    Field("Heartbeat-Keepalive", "2", f.integer(1, 3600), "Seconds between Heartbeat keepalives.",
          when=_when("Cluster-Stack", "heartbeat")),
    Field("Heartbeat-Warntime", "5", f.integer(1, 3600), "Seconds of silence before Heartbeat warns.",
          when=_when("Cluster-Stack", "heartbeat")),
    Field("Heartbeat-Deadtime", "15", f.integer(1, 3600), "Seconds of silence before the peer is declared dead.",
          when=_when("Cluster-Stack", "heartbeat")),
    Field("Heartbeat-Initdead", "60", f.integer(1, 7200), "Deadtime right after boot (at least twice Deadtime).",
          when=_when("Cluster-Stack", "heartbeat")),
    # -- fencing -----------------------------------------------------------
    Field("Fencing", "sbd", f.choice("sbd", "ipmilan", "none"),
          "How a lost node is fenced: sbd (shared disk + watchdog), ipmilan (the nodes' BMCs) or none "
          "(no fencing: a split brain can then corrupt the data; not for production)."),
    Field("SBD-Device", "", f.device, "Shared disk for SBD, visible to both nodes (/dev/disk/by-id/...).",
          when=_when("Fencing", "sbd")),
    Field("SBD-Watchdog-Device", "/dev/watchdog", f.device,
          "Watchdog device sbd feeds; a node whose sbd stops feeding it is reset by it.",
          when=_when("Fencing", "sbd")),
    Field("SBD-Watchdog-Timeout", "5", f.integer(2, 120),
          "Seconds without a feed before the watchdog resets the node (written to the SBD header).",
          when=_when("Fencing", "sbd")),
    Field("SBD-Msgwait-Timeout", "10", f.integer(4, 240),
          "Seconds a fencing request waits on the SBD disk before the target counts as dead; at least twice "
          "SBD-Watchdog-Timeout.", when=_when("Fencing", "sbd")),
    Field("IPMI-Local-Address", "", f.ipv4, "Address of this node's BMC.", when=_when("Fencing", "ipmilan")),
    Field("IPMI-Peer-Address", "", f.ipv4, "Address of the peer's BMC.", when=_when("Fencing", "ipmilan")),
    Field("IPMI-User", "", f.crm_word_at_most(16), "BMC user allowed to power-cycle the nodes (IPMI: at most 16 bytes).",
          when=_when("Fencing", "ipmilan")),
    Field("IPMI-Password", "", f.crm_word_at_most(20),
          "BMC password (IPMI: at most 20 bytes; kept only in this file and the CIB).", secret=True,
          when=_when("Fencing", "ipmilan")),
    Field("IPMI-Cipher", "auto", f.integer_or("auto", 0, 17),
          "IPMI 2.0 cipher suite fence_ipmilan logs in with: auto (ipmitool asks the BMC which suites it offers) "
          "or the suite's number (3 on most BMCs: SHA-1 authentication and integrity, AES). Name it when the BMC "
          "does not list its suites: ipmitool then waits about 14 s before every command.",
          when=_when("Fencing", "ipmilan")),
    Field("Fencing-Delay", "15", f.integer(0, 600),
          "Seconds by which fencing the node that runs the cloud is delayed (priority-fencing-delay), so that "
          "in a split the active node fences first and keeps the cloud. It must exceed how much later the "
          "loaded active node may get its fencing request to the device than the idle peer, plus the time the "
          "peer takes to reset once its SBD slot holds the poison pill (real CPUs: a second or two; the lab's "
          "emulated ones: more than 20 s, so the lab sets 40). It is paid on every failover after the active "
          "node really died."),
    Field("Arbiter", "", f.optional(f.host),
          "A third machine whose vote decides which node keeps quorum when the two lose each other "
          "(corosync-qnetd, from the uec-clc-ha-arbiter package; in a UEC cloud the Cluster Controller or "
          "Walrus host): its address or name, or empty for none. With it, a split is decided by the vote "
          "(the node that reaches the Ping-Hosts wins) and no fencing delay is paid.",
          when=_when("Cluster-Stack", "corosync")),
    Field("Arbiter-Port", "5403", f.integer(1024, 65535), "TCP port the arbiter's corosync-qnetd listens on.",
          when=_when("Cluster-Stack", "corosync")),
    Field("Fencing-Probe-Window", "3", f.integer(0, 30),
          "Seconds the fencing probe gives the peer's sbd to answer through the SBD disk before the peer counts "
          "as dead and is fenced at once (fence_uec_clc_ha_probe(8)); 0 turns the probe off. With the probe, "
          "Fencing-Delay is paid only in a split (both nodes alive), never after a power loss: the node cut off "
          "from the Ping-Hosts then waits 2 delays, and fencing the node with the cloud 1 more.",
          when=_when("Fencing", "sbd")),
    Field("Load-Threshold", "1000", f.integer(10, 100000),
          "CPU load, in percent of the node's cores, above which Pacemaker runs fewer actions at once "
          "(load-threshold; Pacemaker's default is 80). A failover is a handful of actions; throttled, a "
          "loaded or small node runs them one at a time, fencing and promotion waiting behind monitors. "
          "The default throttles only a node loaded ten times over."),
    Field("Node-Action-Limit", "8", f.integer(1, 256),
          "Actions Pacemaker may run at once on a node (node-action-limit; Pacemaker's default is twice the "
          "cores). Pacemaker halves and quarters it when the node or its CIB is busy; a failover has a "
          "handful of actions that can run side by side, and on a one- or two-core node the default leaves "
          "one at a time."),
    # -- resources ---------------------------------------------------------
    Field("Ping-Hosts", "", f.ipv4_list,
          "Addresses on the public network that are always up (gateway, CC): the cloud leaves a node "
          "that cannot reach any of them."),
    Field("Monitor-Interval", "10", f.integer(5, 3600),
          "Seconds between monitors of the Cloud Controller (its pidfile and /proc); a killed CLC is "
          "restarted within this."),
    Field("Deep-Monitor-Interval", "30", f.integer(10, 3600),
          "Seconds between the monitor's health checks of the Cloud Controller (the register page must "
          "answer: a hung JVM that still has its process); a value below Monitor-Interval means every "
          "monitor checks it. The same monitor checks both (the agent's health_interval), so a crash "
          "counts as one failure. A new value restarts the Cloud Controller (it is a parameter of its "
          "resource)."),
    Field("Migration-Threshold", "3", f.integer(1, 1000),
          "Failures of a resource on a node before the cloud moves to the other node instead of restarting "
          "in place (Pacemaker's migration-threshold)."),
    Field("Failure-Timeout", "600", f.integer(0, 86400),
          "Seconds after which a node's old failures are forgotten, so it may run the cloud again "
          "(Pacemaker's failure-timeout; 0: never, until `crm resource cleanup`)."),
    Field("CLC-Start-Timeout", "300", f.integer(30, 3600),
          "Seconds the Cloud Controller (a JVM) may take to start and answer."),
    Field("CLC-Stop-Timeout", "120", f.integer(10, 3600), "Seconds the Cloud Controller may take to stop."),
    Field("CLC-Start-Method", "auto", f.choice("auto", "direct", "systemd", "upstart", "sysv"),
          "How the eucaclc agent starts the CLC (see the agent's meta-data)."),
    Field("Image-Store-Proxy", "auto", f.choice("auto", "lsb", "systemd", "none"),
          "How the cluster runs image-store-proxy: auto (lsb where the host has /etc/init.d/image-store-proxy, "
          "systemd where it has only the unit, left out where it has neither), lsb (init script), systemd "
          "(unit) or none."),
    # -- the secret --------------------------------------------------------
    Field("Cluster-Secret", "", f.secret,
          "The shared cluster secret, identical on both nodes. The DRBD shared-secret, the Heartbeat "
          "authkeys and the corosync authkey are derived from it. Never shown by `uec-clc-ha-ctl show`.",
          secret=True),
)

BY_KEY = {fd.key.lower(): fd for fd in FIELDS}


def field(key):
    """The Field for a key, case-insensitively, or None."""
    return BY_KEY.get(key.lower())


def defaults():
    return {fd.key: fd.default for fd in FIELDS}


class Config(types.SimpleNamespace):
    """Typed, validated settings: attributes named after the keys (vip_prefix, ...)."""

    @property
    def nodes(self):
        """Both nodes in a fixed order (sorted by name) so both sides number them alike."""
        local = Node(self.local_node, self.local_address, self.replication_local_address,
                     self.ipmi_local_address, True)
        peer = Node(self.peer_node, self.peer_address, self.replication_peer_address,
                    self.ipmi_peer_address, False)
        return tuple(sorted((local, peer), key=lambda n: n.name))

    @property
    def vip_network(self):
        """The public network the VIP lives in, as ADDRESS/PREFIX."""
        return str(ipaddress.IPv4Network(f"{self.vip}/{self.vip_prefix}", strict=False))

    @property
    def drbd_minor(self):
        return int(self.drbd_device[len("/dev/drbd"):])

    # -- fencing timeouts, derived so that a fencing that works is never cut short --------------
    @property
    def fence_agent_timeout(self):
        """Seconds fence_sbd gives its `sbd message NODE reset` (power_timeout), or None for other fencing.

        sbd sleeps msgwait inside that command, and fence_sbd kills it at
        power_timeout (its default, 30 s, kills every fencing from msgwait
        29 s on): msgwait plus FENCE_AGENT_MARGIN for sbd's own start and disk
        writes on a loaded node.
        """
        if self.fencing != "sbd":
            return None
        return self.sbd_msgwait_timeout + FENCE_AGENT_MARGIN

    @property
    def arbiter_host(self):
        """The arbiter as corosync.conf names it (text), or None: no arbiter, or not the corosync stack."""
        if self.cluster_stack != "corosync" or not getattr(self, "arbiter", None):
            return None
        return str(self.arbiter)

    @property
    def qdevice_timeout(self):
        """corosync-qdevice's timeout (ms): QDEVICE_TIMEOUT, within sync_timeout."""
        return min(QDEVICE_TIMEOUT, self.qdevice_sync_timeout)

    @property
    def heuristics_timeout(self):
        """ms the heuristics (reach-any, every ping host at once with a 1 s wait) may take."""
        return HEURISTICS_TIMEOUT

    @property
    def qdevice_sync_timeout(self):
        """corosync-qdevice's sync_timeout (ms): QDEVICE_SYNC_TIMEOUT, at most the SBD watchdog timeout, which sbd
        requires (it distrusts the quorum otherwise: ClusterLabs/sbd src/sbd-cluster.c)."""
        if self.fencing == "sbd":
            return min(QDEVICE_SYNC_TIMEOUT, self.sbd_watchdog_timeout * 1000)
        return QDEVICE_SYNC_TIMEOUT

    @property
    def fencing_probe(self):
        """True when level 1 of the fencing topology is the probe (SBD fencing, corosync, no arbiter, a window
        above 0)."""
        return (self.fencing == "sbd" and self.cluster_stack == "corosync" and self.arbiter_host is None
                and self.fencing_probe_window > 0)

    @property
    def priority_fencing_delay(self):
        """Pacemaker's priority-fencing-delay: Fencing-Delay, or 0 when the arbiter's vote or the probe decides a
        split (a partition without quorum cannot fence; Pacemaker would still delay the fencing)."""
        return 0 if self.fencing_probe or self.arbiter_host else self.fencing_delay

    @property
    def fence_probe_timeout(self):
        """Seconds the probe may take (its pcmk_reboot_timeout): the window, its longest wait, a margin; or None."""
        if not self.fencing_probe:
            return None
        return self.fencing_probe_window + 3 * self.fencing_delay + FENCE_AGENT_MARGIN

    @property
    def fence_device_timeout(self):
        """Seconds the fencing device itself may take (st_sbd's or st_ipmi's pcmk_reboot_timeout), or None.

        Pacemaker before 2.1.6 counts priority-fencing-delay inside this
        timeout (ClusterLabs/pacemaker PR #3082), so the delay is added to
        what the agent needs: fence_sbd's power_timeout and the sbd runs around
        it, or an IPMI power cycle (off, wait, on).
        """
        if self.fencing == "sbd":
            agent = self.fence_agent_timeout + FENCE_AGENT_MARGIN
        elif self.fencing == "ipmilan":
            agent = IPMI_REBOOT_TIME
        else:
            return None
        return self.priority_fencing_delay + agent

    @property
    def fencing_timeout(self):
        """Seconds Pacemaker allows one whole fencing of a node (stonith-timeout), or None: the device's time,
        and the probe's in front of it."""
        if self.fence_device_timeout is None:
            return None
        return self.fence_device_timeout + (self.fence_probe_timeout or 0)

    @property
    def fence_peer_timeout(self):
        """Seconds DRBD's fence-peer handler (crm-fence-peer) waits for the peer to be fenced.

        Its default, 90 s, must exceed the fencing time ("longer than ...
        stonith timeout", crm-fence-peer.sh); with a longer fencing it gave up
        before the fencing finished.
        """
        return max(90, (self.fencing_timeout or 0) + FENCE_AGENT_MARGIN)


QDEVICE_TIMEOUT = 3000       # ms: corosync-qdevice's heartbeat to qnetd is 0.8 of it, qnetd drops a node after 1.5 beats
QDEVICE_SYNC_TIMEOUT = 5000  # ms: the same during a membership change
HEURISTICS_TIMEOUT = 3000    # ms: reach-any pings every Ping-Host at once, waiting 1 s for each
FENCE_AGENT_MARGIN = 20      # s: an agent's own start and its disk or network round trips, on a loaded node
IPMI_REBOOT_TIME = 90        # s: fence_ipmilan's reboot: off, power_wait, on, each polled up to power_timeout (20 s)


@dataclass(frozen=True)
class Node:
    """One node of the pair as the templates see it."""

    name: str
    address: object
    replication_address: object
    ipmi_address: object
    local: bool


def _applies(fd, raw):
    if not fd.when:
        return True
    key, values = fd.when
    return raw.get(key) in values


def validate(raw):
    """Check every field and every cross-field rule; return (Config or None, [Problem])."""
    problems = []
    values = {}
    for fd in FIELDS:
        value = raw.get(fd.key, fd.default)
        if not _applies(fd, raw):
            values[fd.attr] = None
            continue
        if value == "" and getattr(fd.check, "optional", False):
            values[fd.attr] = None
            continue
        if value == "":
            if fd.secret:
                rule = "is required and has no default (secrets are never defaulted): set it"
            else:
                rule = "is required: " + fd.doc[0].lower() + fd.doc[1:]
            problems.append(Problem(fd.key, rule))
            values[fd.attr] = None
            continue
        try:
            values[fd.attr] = fd.check(value)
        except f.FieldRule as e:
            problems.append(Problem(fd.key, str(e) if fd.secret else f"{e} (got {value!r})"))
            values[fd.attr] = None
    problems.extend(_cross_rules(values))
    if problems:
        return None, problems
    return Config(**values), []


def _net(addr, prefix):
    return ipaddress.IPv4Network(f"{addr}/{prefix}", strict=False)


def _cross_rules(v):
    """Rules between fields; each only runs when the fields it needs are valid."""
    out = []

    def have(*names):
        return all(v.get(n) is not None for n in names)

    if have("local_node", "peer_node") and v["local_node"].lower() == v["peer_node"].lower():
        out.append(Problem("Peer-Node", "must differ from Local-Node (two nodes need two names)"))
    if v.get("initial_primary") and have("local_node", "peer_node") and \
            v["initial_primary"] not in (v["local_node"], v["peer_node"]):
        out.append(Problem("Initial-Primary", "must be Local-Node or Peer-Node (or empty until decided)"))
    if have("local_address", "peer_address") and v["local_address"] == v["peer_address"]:
        out.append(Problem("Peer-Address", "must differ from Local-Address (both nodes on one address)"))

    if have("vip", "vip_prefix"):
        vip_net = _net(v["vip"], v["vip_prefix"])
        if vip_net.prefixlen < 31 and v["vip"] in (vip_net.network_address, vip_net.broadcast_address):
            out.append(Problem("VIP", f"must be a host address of {vip_net}, not its network or broadcast address"))
        for key in ("local_address", "peer_address"):
            if v.get(key) is None:
                continue
            label = "Local-Address" if key == "local_address" else "Peer-Address"
            if v["vip"] == v[key]:
                out.append(Problem("VIP", f"must differ from {label} (the VIP moves; node addresses do not)"))
            elif v[key] not in vip_net:
                out.append(Problem("VIP", f"must be in the network of the VIP interface: {label} {v[key]} is not in "
                                          f"{vip_net} (check VIP and VIP-Prefix)"))

    if have("replication_local_address", "replication_peer_address", "replication_prefix"):
        rl, rp = v["replication_local_address"], v["replication_peer_address"]
        rnet = _net(rl, v["replication_prefix"])
        if rl == rp:
            out.append(Problem("Replication-Peer-Address", "must differ from Replication-Local-Address"))
        elif rp not in rnet:
            out.append(Problem("Replication-Peer-Address",
                               f"must be in the replication network {rnet} of Replication-Local-Address"))
        if rnet.prefixlen < 31:
            for key, label in (("replication_local_address", "Replication-Local-Address"),
                               ("replication_peer_address", "Replication-Peer-Address")):
                if v[key] in (rnet.network_address, rnet.broadcast_address):
                    out.append(Problem(label, f"must be a host address of {rnet}, not its network or broadcast address"))
        for key in ("local_address", "peer_address", "vip"):
            if v.get(key) is not None and v[key] in (rl, rp):
                out.append(Problem("Replication-Local-Address" if v[key] == rl else "Replication-Peer-Address",
                                   "must not be a public address or the VIP: the replication link is a separate network"))
        if have("vip", "vip_prefix") and rnet.overlaps(_net(v["vip"], v["vip_prefix"])):
            out.append(Problem("Replication-Prefix",
                               f"the replication network {rnet} overlaps the public network "
                               f"{_net(v['vip'], v['vip_prefix'])}: use a separate subnet"))
    if have("replication_interface", "vip_interface") and v["replication_interface"] == v["vip_interface"]:
        out.append(Problem("Replication-Interface", "must differ from VIP-Interface (a separate link)"))

    if v.get("arbiter") is not None and v.get("cluster_stack") == "corosync":
        for key, label in (("vip", "VIP"), ("local_address", "Local-Address"), ("peer_address", "Peer-Address"),
                           ("replication_local_address", "Replication-Local-Address"),
                           ("replication_peer_address", "Replication-Peer-Address")):
            if v.get(key) is not None and str(v[key]) == str(v["arbiter"]):
                out.append(Problem("Arbiter", f"must be a third machine, not {label} {v[key]}"))
        for key, label in (("local_node", "Local-Node"), ("peer_node", "Peer-Node")):
            if v.get(key) and v[key].lower() == str(v["arbiter"]).lower():
                out.append(Problem("Arbiter", f"must be a third machine, not {label} {v[key]}"))
        if v.get("arbiter_port") is not None and v.get("drbd_port") == v["arbiter_port"]:
            out.append(Problem("Arbiter-Port", "must differ from DRBD-Port"))

    if v.get("ping_hosts"):
        for host in v["ping_hosts"]:
            for key, label in (("vip", "VIP"), ("local_address", "Local-Address"), ("peer_address", "Peer-Address")):
                if v.get(key) == host:
                    out.append(Problem("Ping-Hosts", f"must not include {label} {host}: ping a host outside the pair"))

    if have("heartbeat_keepalive", "heartbeat_warntime", "heartbeat_deadtime", "heartbeat_initdead"):
        ka, warn, dead, init = (v["heartbeat_keepalive"], v["heartbeat_warntime"],
                                v["heartbeat_deadtime"], v["heartbeat_initdead"])
        if dead <= ka:
            out.append(Problem("Heartbeat-Deadtime", f"must be greater than Heartbeat-Keepalive ({dead} <= {ka})"))
        if not ka < warn < dead:
            out.append(Problem("Heartbeat-Warntime",
                               f"must lie between Heartbeat-Keepalive and Heartbeat-Deadtime ({ka} < {warn} < {dead} fails)"))
        if init < 2 * dead:
            out.append(Problem("Heartbeat-Initdead", f"must be at least twice Heartbeat-Deadtime ({init} < {2 * dead})"))
    if have("heartbeat_mcast_port", "drbd_port") and v["heartbeat_mcast_port"] == v["drbd_port"]:
        out.append(Problem("Heartbeat-Mcast-Port", "must differ from DRBD-Port"))
    if v.get("drbd_port") in (5404, 5405, 5406):
        out.append(Problem("DRBD-Port", "must not be one of corosync's ports 5404-5406"))

    if v.get("fencing") == "ipmilan" and have("ipmi_local_address", "ipmi_peer_address"):
        if v["ipmi_local_address"] == v["ipmi_peer_address"]:
            out.append(Problem("IPMI-Peer-Address", "must differ from IPMI-Local-Address (each node has its own BMC)"))
        for key in ("ipmi_local_address", "ipmi_peer_address"):
            if v[key] in (v.get("local_address"), v.get("peer_address"), v.get("vip")):
                label = "IPMI-Local-Address" if key == "ipmi_local_address" else "IPMI-Peer-Address"
                out.append(Problem(label, "must be the BMC's own address, not a node address or the VIP"))

    if have("sbd_watchdog_timeout", "sbd_msgwait_timeout") and \
            v["sbd_msgwait_timeout"] < 2 * v["sbd_watchdog_timeout"]:
        out.append(Problem("SBD-Msgwait-Timeout", f"must be at least twice SBD-Watchdog-Timeout "
                                                  f"({v['sbd_msgwait_timeout']} < 2 x {v['sbd_watchdog_timeout']}): "
                                                  "a fenced node must have reset before it counts as dead"))
    if have("drbd_disk", "sbd_device") and v["drbd_disk"] == v["sbd_device"]:
        out.append(Problem("SBD-Device", "must differ from DRBD-Disk"))
    if have("cluster_secret", "ipmi_password") and v["cluster_secret"] == v["ipmi_password"]:
        out.append(Problem("IPMI-Password", "must not equal Cluster-Secret"))

    out.extend(_path_rules(v))
    return out


SYSTEM_DIRS = ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/root", "/run", "/sbin", "/sys",
               "/tmp", "/usr", "/var", "/var/lib", "/mnt", "/home")


def _inside(child, parent):
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def _path_rules(v):
    out = []
    mount = v.get("mount_point")
    if mount is not None and mount in SYSTEM_DIRS:
        out.append(Problem("Mount-Point", f"must be a directory of its own, not the system directory {mount}"))
    dirs = v.get("data_directories")
    if dirs:
        seen = set()
        names = {}
        for d in dirs:
            if d in SYSTEM_DIRS:
                out.append(Problem("Data-Directories", f"must not include the system directory {d}"))
            if d in seen:
                out.append(Problem("Data-Directories", f"lists {d} twice"))
            seen.add(d)
            base = os.path.basename(d)
            if base in names and names[base] != d:
                out.append(Problem("Data-Directories",
                                   f"{names[base]} and {d} would both become {base} on the DRBD filesystem"))
            names[base] = d
            if mount is not None and (_inside(d, mount) or _inside(mount, d)):
                out.append(Problem("Data-Directories", f"{d} must not contain, or lie under, Mount-Point {mount}"))
        for a in dirs:
            for b in dirs:
                if a != b and _inside(a, b):
                    out.append(Problem("Data-Directories", f"{a} lies inside {b}: list each tree once"))
    return out


def require_valid(raw):
    """Config for raw values, or ValidationError listing every problem."""
    config, problems = validate(raw)
    if problems:
        raise ValidationError(problems)
    return config


def resolve(config, facts):
    """A copy of config with every "auto" replaced by what the host uses (host.detect.HostFacts)."""
    values = dict(vars(config))
    for attr in ("drbd_version", "image_store_proxy", "source_address_route"):
        if values.get(attr) == "auto":
            values[attr] = getattr(facts, attr)
    if values.get("replication_link_config") == "auto":
        values["replication_link_config"] = facts.network_config
    return Config(**values)
