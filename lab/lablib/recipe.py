"""The 2010 recipe's pair, modernised only as far as Debian 12 needs: baseline (a) and the pair adopt takes over.

Used by lab/bench.py (`--configs recipe`: install() and
uninstall() switch a running lab pair to the recipe's cluster and back) and
by tests/lab/test_lab_takeover_recipe.py (build_by_hand(): two fresh VMs
made a pair by following the recipe step by step, without uec-clc-ha).
What the recipe configured by hand:

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

build_by_hand() follows the recipe's sections 4 and 5 on fresh VMs: the DRBD
resource file, create-md and up on both, new-current-uuid --clear-bitmap,
primary and mkfs on clc1, the data moved onto DRBD with `mv` and replaced by
the recipe's symlinks (`ln -s /mnt/uecdata/eucalyptus/ /var/lib/eucalyptus`),
the other node's data removed (`rm -fr`) and symlinked, Eucalyptus taken out
of boot start-up, corosync and Pacemaker started and the recipe's CIB loaded.
"""

from lablib import config, guest, pair, scenario, state
from lablib.observe import Lab, wait_for
from lablib.timeline import Timeline

RESOURCE = "uec-clc"
MOUNT = "/mnt/uecdata"
DATA = ("/var/lib/eucalyptus", "/var/lib/image-store-proxy")

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
    _start_cluster(lab)
    wait_for("the recipe's cluster serving", lab.serving, 900, step=3)


def _start_cluster(lab):
    """corosync and Pacemaker started on both nodes (enabled, as the recipe has them), the recipe's CIB loaded."""
    for node in config.NODES:
        lab.exec(node, "systemctl", "enable", "--now", "corosync.service", "pacemaker.service", timeout=600)
    wait_for("the recipe's cluster formed", lambda: (v := lab.view("clc1")) is not None and len(v.nodes) == 2
             and all(x["online"] for x in v.nodes.values()), 600, step=3)
    lab.exec("clc1", "crm", "configure", "load", "replace", "-", stdin=CIB, timeout=300)


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


def _by_hand(node, script, timeout=600):
    """One step of the recipe on node, as the admin typed it (sh -e); its output."""
    done = guest.exec_(node, ["sh", "-ec", script], timeout=timeout)
    if done.rc != 0:
        raise RuntimeError(f"recipe step on {node} failed ({done.rc}):\n{script}\n{done.stdout}{done.stderr}")
    return done.stdout


def build_by_hand(out):
    """Two fresh VMs become the recipe's serving pair, by hand; the records written before HA (on clc1's CLC)."""
    tl = Timeline(out)
    if pair.running_vms():
        pair.down(out)
    pair.fresh_vms(tl, config.SUITE)
    before = pair.standin_with_records(tl)
    lab = Lab(state.load())
    tl.start("recipe 4.3-4.5: the DRBD resource by hand, create-md, up, initial UUID, primary, mkfs")
    for node in config.NODES:
        lab.exec(node, "tee", DRBD_RES, stdin=_drbd(), timeout=60)
        _by_hand(node, f"systemctl stop eucalyptus-cloud.service; /etc/init.d/image-store-proxy stop; "
                       f"modprobe drbd; yes yes | drbdadm create-md {RESOURCE}; drbdadm up {RESOURCE}")
    wait_for("DRBD connected", lambda: all(lab.drbd(n)[0] == "Connected" for n in config.NODES), 300, step=2)
    _by_hand("clc1", f"drbdadm new-current-uuid --clear-bitmap {RESOURCE}; drbdadm primary {RESOURCE}; "
                     "mkfs -t ext4 -q /dev/drbd0")
    tl.finish()
    tl.start("recipe 4.6-4.7: the data moved onto DRBD (mv, ln -s), the other node's removed (rm -fr, ln -s)")
    moves = "; ".join(f"mv {d}/ {MOUNT}" for d in DATA)
    links = "; ".join(f"ln -s {MOUNT}/{d.rsplit('/', 1)[1]}/ {d}" for d in DATA)
    _by_hand("clc1", f"mkdir {MOUNT}; mount -t ext4 /dev/drbd0 {MOUNT}; {moves}; {links}; umount {MOUNT}; "
                     f"drbdadm secondary {RESOURCE}")
    _by_hand("clc2", f"mkdir {MOUNT}; " + "; ".join(f"rm -fr {d}" for d in DATA) + f"; {links}")
    tl.finish()
    tl.start("recipe 5.3-5.4: Eucalyptus out of boot start-up; corosync, Pacemaker and the recipe's CIB")
    for node in config.NODES:
        _by_hand(node, "systemctl disable eucalyptus-cloud.service; update-rc.d image-store-proxy disable")
        lab.exec(node, "tee", COROSYNC_CONF, stdin=_corosync(), timeout=60)
    _start_cluster(lab)
    tl.finish()
    tl.start("the recipe's pair serving /register on the VIP")
    wait_for("the recipe's cluster serving", lab.serving, 900, step=3)
    tl.finish()
    out.write(tl.table("the recipe's pair, by hand"))
    return before
