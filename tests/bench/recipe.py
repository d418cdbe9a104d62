"""Baseline (a) of the lab benchmark: the 2010 recipe's cluster, modernised only as far as Debian 12 needs.

Used by tests/bench/lab_bench.py (`--configs recipe`).  What the recipe
configured by hand, on the lab's two VMs and their data:

  corosync   the recipe ran Heartbeat on one multicast link (eth0); Pacemaker 2
             runs only on corosync: one link on the public network, corosync's
             defaults (token 3000 ms, no crypto), plain votequorum (no two_node)
  DRBD       the recipe's resource: no fencing, no handlers, DRBD's default
             split-brain policies (disconnect), resync rate 10M
  CIB        the recipe's group with the CLC as a plain `systemd:` resource
             (the recipe's `upstart:eucalyptus`), monitor 30 s; no ping rule;
             stonith-enabled=false, no-quorum-policy=ignore

install() switches both nodes to it: Pacemaker and corosync stopped, sbd
disabled, the recipe's files written, the CIB emptied and the recipe's
configuration loaded.  uninstall() puts the package's own back: its files
rewritten by `uec-clc-ha-ctl apply --force`, sbd enabled, the CIB emptied
and `uec-clc-ha-ctl cluster-init --yes` on both nodes (it loads the CIB).
The data on DRBD is never touched.
"""

from lablib import config, pair, scenario
from lablib.observe import wait_for

DRBD_RES = "/etc/drbd.d/uec-clc.res"
COROSYNC_CONF = "/etc/corosync/corosync.conf"
CIB_FILES = "/var/lib/pacemaker/cib"

COROSYNC = """# lab-bench baseline (a): the recipe's cluster on corosync defaults, one link
totem {
	version: 2
	cluster_name: uec-clc-recipe
	transport: knet
}
nodelist {
%(nodes)s}
quorum {
	provider: corosync_votequorum
}
logging {
	to_syslog: yes
}
"""

DRBD = """# lab-bench baseline (a): the recipe's DRBD resource (no fencing, no handlers)
resource uec-clc {
	disk {
		resync-rate 10M;
	}
%(nodes)s}
"""

CIB = f"""primitive res_drbd_uec-clc ocf:linbit:drbd params drbd_resource=uec-clc
clone ms_drbd_uec res_drbd_uec-clc meta promotable=true notify=true
primitive res_fs_clc ocf:heartbeat:Filesystem params device=/dev/drbd0 directory=/mnt/uecdata fstype=ext4 \\
	options=noatime
primitive res_ip_clc ocf:heartbeat:IPaddr2 params ip={config.VIP} cidr_netmask=24 nic=eth0
primitive res_ip_clc_src ocf:heartbeat:IPsrcaddr params ipaddress={config.VIP} cidr_netmask=24 \\
	destination={config.PUBLIC_NET}
primitive res_uec systemd:eucalyptus-cloud op start timeout=120s op stop timeout=120s op monitor interval=30s
primitive res_uec_image_store_proxy lsb:image-store-proxy
group rg_uec res_fs_clc res_ip_clc res_ip_clc_src res_uec res_uec_image_store_proxy
order o_drbd_before_uec Mandatory: ms_drbd_uec:promote rg_uec:start
colocation c_uec_on_drbd inf: rg_uec ms_drbd_uec:Promoted
property cib-bootstrap-options: stonith-enabled=false no-quorum-policy=ignore
"""
# the recipe's res_ip_clc_src had no destination: the lab's public network has no default route to replace


def _corosync():
    nodes = "".join(f"\tnode {{\n\t\tname: {n}\n\t\tnodeid: {v['index']}\n\t\tring0_addr: {v['public']}\n\t}}\n"
                    for n, v in config.NODES.items())
    return COROSYNC % {"nodes": nodes}


def _drbd():
    nodes = "".join(f"\ton {n} {{\n\t\tdevice /dev/drbd0 minor 0;\n\t\tdisk {config.DRBD_DEVICE};\n"
                    f"\t\taddress {v['replication']}:7788;\n\t\tmeta-disk internal;\n\t}}\n"
                    for n, v in config.NODES.items())
    return DRBD % {"nodes": nodes}


def _stop_cluster(lab):
    """Both nodes' stacks stopped and their CIBs wiped; nothing moves on the way (the data stays where it is).

    The resources are stopped first, cluster-wide (stop-all-resources), so
    stopping one node's Pacemaker does not move the cloud to the other.
    """
    for node in config.NODES:
        if lab.exec(node, "crm_attribute", "--type", "crm_config", "--name", "stop-all-resources",
                    "--update", "true", timeout=120, check=False).rc == 0:
            lab.exec(node, "crm_resource", "--wait", "--timeout=600s", timeout=660, check=False)
            break
    pair.both(lambda node: lab.exec(node, "systemctl", "stop", "pacemaker.service", timeout=600))
    pair.both(lambda node: lab.exec(node, "systemctl", "stop", "corosync.service", timeout=300))
    for node in config.NODES:
        lab.sh(node, f"rm -f {CIB_FILES}/cib*", timeout=60)


def install(lab):
    """Both nodes run the recipe's cluster; returns once the VIP serves."""
    scenario.restore(lab)
    _stop_cluster(lab)
    for node in config.NODES:
        lab.exec(node, "systemctl", "disable", "sbd.service", timeout=120)
        lab.exec(node, "tee", COROSYNC_CONF, stdin=_corosync(), timeout=60)
        lab.exec(node, "tee", DRBD_RES, stdin=_drbd(), timeout=60)
    for node in config.NODES:
        lab.exec(node, "systemctl", "start", "corosync.service", "pacemaker.service", timeout=600)
    wait_for("the recipe's cluster formed", lambda: (v := lab.view("clc1")) is not None and len(v.nodes) == 2
             and all(x["online"] for x in v.nodes.values()), 600, step=3)
    lab.exec("clc1", "crm", "configure", "load", "replace", "-", stdin=CIB, timeout=300)
    wait_for("the recipe's cluster serving", lab.serving, 900, step=3)


def _resolve_split_brain(lab, keep):
    """DRBD's manual split-brain recovery (the DRBD user's guide): the other node's changes are discarded."""
    victim = config.peer(keep)
    for node in config.NODES:
        lab.exec(node, "drbdadm", "up", "uec-clc", timeout=120, check=False)
    lab.exec(victim, "drbdadm", "secondary", "uec-clc", timeout=60, check=False)
    lab.exec(victim, "drbdadm", "disconnect", "uec-clc", timeout=60, check=False)
    lab.exec(victim, "drbdadm", "connect", "--discard-my-data", "uec-clc", timeout=60)
    lab.exec(keep, "drbdadm", "disconnect", "uec-clc", timeout=60, check=False)
    lab.exec(keep, "drbdadm", "connect", "uec-clc", timeout=60)
    wait_for("DRBD resynced after the split brain", lambda: all(
        lab.drbd(n)[0] == "Connected" and lab.drbd(n)[2] == "UpToDate/UpToDate" for n in config.NODES), 900, step=3)
    for node in config.NODES:
        lab.exec(node, "drbdadm", "down", "uec-clc", timeout=120)


def uninstall(lab, keep="clc1"):
    """Back to the package's own configuration (files, sbd, CIB); returns once the pair is normal again.

    A split brain the recipe left is resolved first, keeping ``keep``'s data
    (the benchmark has already counted what the recipe lost).
    """
    for node in config.NODES:
        lab.link(node, "public", True)
        lab.link(node, "replication", True)
        if not lab.running(node):
            lab.boot(node)
    split = any(scenario.split_brain_seen(lab, n) for n in config.NODES)
    _stop_cluster(lab)
    if split:
        _resolve_split_brain(lab, keep)
    for node in config.NODES:
        lab.exec(node, "uec-clc-ha-ctl", "apply", "--force", timeout=600)
        lab.exec(node, "systemctl", "enable", "sbd.service", timeout=120)
        lab.sh(node, "rm -f /var/lib/uec-clc-ha/applied.json /var/lib/uec-clc-ha/cluster.crm.loaded", timeout=60)
    # at once: each node's cluster-init waits until its peer is a member
    pair.both(lambda node: lab.exec(node, "uec-clc-ha-ctl", "cluster-init", "--yes", timeout=1800, check=False))
    scenario.restore(lab)
