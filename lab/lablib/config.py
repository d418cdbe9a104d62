"""Every name, address, port and directory of the lab, in one place.

Imported by every lablib module and the lab tests.  The lab's directories
live under build/lab/ at the top of the tree (.gitignore'd): image/ (cached
images, rebuilt when their inputs change), dist/ (the .debs), run/ (one
running lab: disks, sockets, consoles, state.json).
"""

import os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("UEC_CLC_HA_LAB_DIR", os.path.join(TOP, "build", "lab"))
IMAGES = os.path.join(BUILD, "image")
DIST = os.path.join(BUILD, "dist")
RUN = os.path.join(BUILD, "run")
STATE = os.path.join(RUN, "state.json")

# The Debian release of the lab's nodes: `make lab RELEASE=bookworm|trixie` (UEC_CLC_HA_LAB_RELEASE).
RELEASES = {"bookworm": "12", "trixie": "13"}
# Debian 13, today's stable release: what an admin setting up a pair now installs, and what
# `make test` (CI) runs the lab's scenarios on; Debian 12 pairs: RELEASE=bookworm, and the
# release upgrade and the upgrade from the previous uec-clc-ha start there.
DEFAULT_RELEASE = "trixie"
SUITE = os.environ.get("UEC_CLC_HA_LAB_RELEASE") or DEFAULT_RELEASE
if SUITE not in RELEASES:
    raise SystemExit(f"lab: RELEASE must be one of {', '.join(RELEASES)}, not {SUITE!r}")
# What a Cloud Controller of this pair has before uec-clc-ha: the stock kernel (its DRBD 8.4
# module), what the stand-in eucalyptus-cloud and the lab's own checks use, and the relations
# of uec-clc-ha's Depends (lablib.chroot.control_depends, installed with `apt-get satisfy`:
# fence_sbd is in fence-agents on Debian 12, in fence-agents-sbd on 13), so that the offline
# guests can install the .deb.
IMAGE_EXTRAS = [
    "linux-image-amd64", "systemd-sysv", "udev", "kmod", "iproute2", "iputils-ping", "procps", "psmisc",
    "python3", "debconf-utils", "openssl", "curl", "e2fsprogs", "util-linux", "mount", "passwd", "less",
    "ca-certificates",
]


def image_packages():
    """What the image installs: IMAGE_EXTRAS, uec-clc-ha's Depends and uec-clc-ha-arbiter's but corosync-qnetd
    itself (the arbiter host installs it from LOCAL_ARCHIVE; the nodes never run it)."""
    from .chroot import control_depends
    nodes = control_depends()
    arbiter = [r for r in control_depends(package="uec-clc-ha-arbiter")
               if r.split()[0] != ARBITER_DAEMON and r not in nodes]
    return IMAGE_EXTRAS + nodes + arbiter


ARBITER_DAEMON = "corosync-qnetd"


# Room for a release upgrade in place: Debian 12 -> 13 installs about 2 GiB more (the transitional
# fence-agents pulls every agent: python3-azure alone is 954 MiB); 3 GiB ran out mid-dpkg on the lab.
IMAGE_SIZE = "6G"
VERSION = 2              # of the image recipe: bump to rebuild every cached image

NAMESPACE = "uecha-lab"            # the VMs' qemu processes, bridges and taps
CLIENT_NS = "uecha-client"         # a client of the cloud, on the public network
PUBLIC_BRIDGE = "brpub"
REPLICATION_BRIDGE = "brrep"
CLIENT_VETH = ("vcl-br", "vcl")     # bridge side (lab namespace), client side

PUBLIC_NET = "198.51.100.0/24"
GATEWAY = "198.51.100.1"           # the public bridge's own address: the ping host of the pair
VIP = "198.51.100.100"
CLIENT = "198.51.100.50"
REPLICATION_PREFIX = 30

NODES = {
    "clc1": {"public": "198.51.100.11", "replication": "192.0.2.1", "index": 1,
             "management": "203.0.113.11", "bmc": "203.0.113.111"},
    "clc2": {"public": "198.51.100.12", "replication": "192.0.2.2", "index": 2,
             "management": "203.0.113.12", "bmc": "203.0.113.112"},
}
# The arbiter host: the cloud's Cluster Controller host, a third, smaller VM on the public network
# only (no DRBD disk, no SBD disk, no watchdog), which gets uec-clc-ha-arbiter with apt.  The lab's
# pair votes through it from the install on, as the README recommends (lablib.pair.up: cc1 first,
# then the nodes with uec-clc-ha/arbiter preseeded); UEC_CLC_HA_LAB_ARBITER=0 brings up a pair
# without it (`make lab-test`'s two_node pass: SBD's own fencing decides a split there, and the
# arbiter scenarios add it live with `labctl boot cc1`); the IPMI pair has none unless asked for
# (UEC_CLC_HA_LAB_ARBITER=1).  MACHINES: every VM the lab can run.
ARBITER = "cc1"
ARBITER_HOST = {"public": "198.51.100.13", "index": 3}
MACHINES = {**NODES, ARBITER: ARBITER_HOST}
ARBITER_CLUSTER_NAME = "uec-clc"       # the pair's Cluster-Name: the package's default, which the lab keeps
ARBITER_MEMORY_MIB = 512
# Where the image keeps corosync-qnetd's .deb (the arbiter host's local archive, as an air-gapped
# site carries one): the arbiter host installs it with apt beside uec-clc-ha-arbiter's .debs.
LOCAL_ARCHIVE = "/var/lib/lab-archive"
# IPMI fencing (UEC_CLC_HA_LAB_FENCING=ipmilan): each node's BMC, OpenIPMI's ipmi_sim in the lab
# namespace at NODES[n]["bmc"] on the management bridge (lablib.bmc: a hard power off, a power state
# that is the VM's); each VM gets a third NIC there (its "management" address: how it reaches its
# peer's BMC) and the BMC's KCS interface (qemu's ipmi-bmc-extern + isa-ipmi-kcs), and its qemu is
# started and stopped by its BMC.  The public and replication links can be cut without cutting it,
# as in a machine room with a management network of its own.
FENCING = os.environ.get("UEC_CLC_HA_LAB_FENCING") or "sbd"
if FENCING not in ("sbd", "ipmilan"):
    raise SystemExit(f"lab: UEC_CLC_HA_LAB_FENCING must be sbd or ipmilan, not {FENCING!r}")
WITH_ARBITER = os.environ.get("UEC_CLC_HA_LAB_ARBITER", "1" if FENCING == "sbd" else "0") not in ("", "0")
MANAGEMENT_BRIDGE = "brmgmt"
MANAGEMENT_NET = "203.0.113.0/24"
BMC_USER = "fence"
BMC_KCS_PORT = 9000          # + the node's index: the BMC's end of its VM's KCS link, on the lab's loopback
MEMORY_MIB = 1024
VCPUS = 1
# Online verify reads and hashes every block at each partition scenario: 512 MiB took 213 s under
# emulation; the cloud's lab data needs a few MiB.
DRBD_DISK_MIB = 128
SBD_DISK_MIB = 16
SBD_DEVICE = "/dev/disk/by-id/virtio-sbdshared"
DRBD_DEVICE = "/dev/vdb"


LINK_NUMBER = {"public": 0, "replication": 1, "management": 2}


def mac(node, link):
    """Fixed MAC addresses: the image's networkd files match them, so one image serves both nodes."""
    return f"52:54:00:4c:{MACHINES[node]['index']:02x}:{LINK_NUMBER[link]:02x}"


def tap(node, link):
    return f"t{node}{link[0]}"


def links_of(machine, links):
    """The links of ``links`` a machine has: the arbiter host only a public one."""
    return ("public",) if machine == ARBITER else links


def peer(node):
    return next(n for n in NODES if n != node)


def node_dir(node):
    return os.path.join(RUN, node)

# Settings the lab's pair gets after install (`uec-clc-ha-ctl set` + `apply` on both, as an admin
# of such hardware would), where the package's defaults assume real CPUs; none with SBD since 0.7.4:
# the Fencing-Delay 40 of earlier labs went with the arbiter (no delay at all) and the fencing probe
# (the delay paid only in a split).
# Fencing-Probe-Window: UEC_CLC_HA_LAB_PROBE (seconds; unset: the package's default).
# IPMI-Cipher: ipmi_sim lists no cipher suites (ipmitool would spend about 14 s per command finding one).
LAB_SETTINGS = {}
if FENCING == "ipmilan":
    LAB_SETTINGS["IPMI-Cipher"] = "3"
if os.environ.get("UEC_CLC_HA_LAB_PROBE"):
    LAB_SETTINGS["Fencing-Probe-Window"] = os.environ["UEC_CLC_HA_LAB_PROBE"]
