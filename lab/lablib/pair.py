"""The bring-up: fresh VMs become a serving Cloud Controller pair through apt-get install alone.

Called by `labctl up` (what `make lab` runs).  Exactly what an admin does,
and nothing more: on both nodes the stand-in eucalyptus-cloud package (a
Cloud Controller that has been running: its data, its boot start-up), then
Eucalyptus stopped (`systemctl stop eucalyptus-cloud`, as doc/walkthrough.md asks
before uec-clc-ha moves the data); corosync, Pacemaker and SBD enabled and
started as their Debian packages leave a host that installs them (corosync's
own one-node cluster "debian", debian_stack(): what `apt-get install
uec-clc-ha` finds on a real host, though the image keeps them off); with the arbiter (config.WITH_ARBITER,
the default) uec-clc-ha-arbiter on the arbiter host cc1 (its answers with
debconf-set-selections: the pair's name and secret); then uec-clc-ha's
answers with debconf-set-selections (uec-clc-ha/arbiter among them) and
`apt-get install ./uec-clc-ha_*.deb`, first on clc1 (initial primary:
initialise DRBD, migrate the data, enrol with the arbiter, start the
cluster), then on clc2 from clc1's one line (`uec-clc-ha-ctl join-token`
there; preseeded as uec-clc-ha/join-token with the secret and clc2's yes to
its own steps: initialise DRBD, replace its data by the replicated copy,
enrol, start the cluster).  An older release (the upgrade scenario's
start) gets every answer on both nodes.  Then it waits until the client namespace
gets the CLC's /register page on the VIP, and prints the timeline and both
nodes' `crm_mon -1r`.
"""

import os
import secrets
import threading
import time

from . import config, guest, host, image, net, packages, state, vm
from .timeline import Timeline

RECORDS_URL = "http://{addr}:8773/services/Lab/records"
DIST_MOUNT = "/mnt/lab-dist"
REGISTER_URL = "https://{addr}:8443/register"
PRESEED_RECORD = "preseed-uec-clc-ha.txt"        # in each node's run directory: its answers, the secrets hidden
INSTALL_RECORD = "install-uec-clc-ha-bring-up.log"   # and the bring-up's apt-get install output (kept: a
                                                       # scenario's reinstall writes install-<deb>.log)
DEBIAN_CLUSTER = "debian"                         # the cluster_name of the corosync.conf Debian's corosync installs


def client(argv, timeout=60, check=False):
    """A command in the client namespace (curl is there; the VIP is reachable)."""
    return host.run(host.in_ns(config.CLIENT_NS, argv), check=check, timeout=timeout)


def curl(url, data=None, timeout=10):
    """(HTTP status or 0, body) of one request from the client namespace."""
    argv = ["curl", "-sk", "-m", str(timeout), "-o", "-", "-w", "\n%{http_code}", url]
    if data is not None:
        argv += ["--data-binary", data, "-H", "Content-Type: text/plain"]
    done = client(argv, timeout=timeout + 5)
    body, _, code = done.stdout.rpartition("\n")
    return (int(code) if code.isdigit() else 0), body


def preseed(node, secret, adopting=False):
    """debconf-set-selections input for node; ``adopting``: a pair built by hand, whose data is on DRBD already
    (nothing initialised, moved or started by the postinst: `uec-clc-ha-ctl adopt` takes it over)."""
    n, other = config.NODES[node], config.NODES[config.peer(node)]
    first = node == "clc1"
    answers = {
        "local-node": ("string", node), "peer-node": ("string", config.peer(node)),
        "local-address": ("string", n["public"]), "peer-address": ("string", other["public"]),
        "vip": ("string", config.VIP), "vip-prefix": ("string", config.PUBLIC_NET.split("/")[1]),
        "vip-interface": ("string", "eth0"), "replication-interface": ("string", "eth1"),
        "replication-local-address": ("string", n["replication"]),
        "replication-peer-address": ("string", other["replication"]),
        "replication-prefix": ("string", str(config.REPLICATION_PREFIX)),
        "drbd-disk": ("string", config.DRBD_DEVICE), "cluster-stack": ("select", "corosync"),
        "cluster-secret": ("password", secret), "fencing": ("select", config.FENCING),
        "sbd-device": ("string", config.SBD_DEVICE), "ping-hosts": ("string", config.GATEWAY),
        "disable-boot-startup": ("boolean", "true"), "initial-primary": ("boolean", "true" if first else "false"),
        "initialize-drbd": ("boolean", "true"), "migrate-data": ("boolean", "true" if first else "false"),
        "prepare-secondary": ("boolean", "false" if first else "true"), "start-cluster": ("boolean", "true"),
    }
    if state.load().get("arbiter"):
        answers["arbiter"] = ("string", config.ARBITER_HOST["public"])
    if config.FENCING == "ipmilan":
        answers.update({"ipmi-local-address": ("string", n["bmc"]), "ipmi-peer-address": ("string", other["bmc"]),
                        "ipmi-user": ("string", config.BMC_USER),
                        "ipmi-password": ("password", state.load()["bmc_password"])})
    if adopting:
        answers.update({q: ("boolean", "false") for q in ("initialize-drbd", "migrate-data", "prepare-secondary",
                                                         "start-cluster")})
    return "".join(f"uec-clc-ha uec-clc-ha/{q} {t} {v}\n" for q, (t, v) in answers.items())


def join_preseed(node, token, secret):
    """The second node's preseed: the first node's join token and the secret open its settings (names and addresses
    swapped, the arbiter among them); the steps that destroy or move data are this node's own answers."""
    answers = {"join-token": ("string", token), "cluster-secret": ("password", secret),
               "disable-boot-startup": ("boolean", "true"), "initialize-drbd": ("boolean", "true"),
               "prepare-secondary": ("boolean", "true"), "start-cluster": ("boolean", "true")}
    if config.FENCING == "ipmilan":
        answers["ipmi-password"] = ("password", state.load()["bmc_password"])
    return "".join(f"uec-clc-ha uec-clc-ha/{q} {t} {v}\n" for q, (t, v) in answers.items())


def answers_for(node, secret, release=None):
    """What `debconf-set-selections` gets on ``node``: every answer on the first node (and for a release older
    than the join token), the first node's join token on the second."""
    if node == "clc1" or release is not None:
        return preseed(node, secret)
    token = guest.exec_("clc1", ["uec-clc-ha-ctl", "join-token"], timeout=120).check().stdout.strip()
    return join_preseed(node, token, secret)


def arbiter_preseed(secret):
    """debconf-set-selections input for the arbiter host: the pair's name and its secret."""
    return (f"uec-clc-ha-arbiter uec-clc-ha-arbiter/cluster-name string {config.ARBITER_CLUSTER_NAME}\n"
            f"uec-clc-ha-arbiter uec-clc-ha-arbiter/cluster-secret password {secret}\n")


def install_arbiter_host():
    """debconf-set-selections + apt-get install of corosync-qnetd and uec-clc-ha-arbiter on the arbiter host;
    the seconds it took."""
    node, st = config.ARBITER, state.load()
    began = time.monotonic()
    guest.exec_(node, ["debconf-set-selections"], stdin=arbiter_preseed(st["secret"]), timeout=60).check()
    mount_dist(node)
    local = guest.exec_(node, ["sh", "-c", f"ls {config.LOCAL_ARCHIVE}/{config.ARBITER_DAEMON}_*.deb"],
                        timeout=30).check().stdout.split()
    debs = [dist_path(packages.library_of(st["ours"])), dist_path(packages.arbiter_of(st["ours"]))]
    done = guest.exec_(node, ["apt-get", "install", "-y", "--no-install-recommends", *local, *debs], timeout=900)
    with open(os.path.join(config.node_dir(node), "install-uec-clc-ha-arbiter.log"), "w") as fh:
        fh.write(done.stdout + done.stderr)
    done.check()
    wait_for(f"{config.ARBITER}'s enrolment socket listening",
             lambda: guest.exec_(node, ["systemctl", "is-active", "uec-clc-ha-arbiter.socket"],
                                 timeout=30).stdout.strip() == "active", 60)
    return time.monotonic() - began


def dist_path(deb):
    """Where a .deb of build/lab/dist is in the guests (the labdist 9p share, mounted on demand)."""
    return os.path.join(DIST_MOUNT, os.path.relpath(deb, config.DIST))


def mount_dist(node, timeout=180):
    """The labdist share mounted in the guest.  On a slow boot the guest agent can answer before the kernel
    has probed the share's virtio device ("9pnet_virtio: no channels available for device labdist", seen
    once when the VMs took 121 s to boot): the mount is tried again until ``timeout``."""
    argv = ["sh", "-c", f"mountpoint -q {DIST_MOUNT} || {{ mkdir -p {DIST_MOUNT} && "
                        f"mount -t 9p -o trans=virtio,version=9p2000.L,ro labdist {DIST_MOUNT}; }}"]
    deadline = time.monotonic() + timeout
    while True:
        done = guest.exec_(node, argv, timeout=60)
        if done.rc == 0 or "does not exist" not in done.stderr + done.stdout or time.monotonic() >= deadline:
            done.check()
            return
        time.sleep(5)


def install_deb(node, deb, timeout, env=None, record=None):
    """apt-get install of ``deb`` (with the library package it needs) from the labdist share; its output kept
    in the node's run directory as ``record`` (install-<deb>.log unless given)."""
    mount_dist(node)
    debs = [dist_path(d) for d in packages.with_library(deb)]
    done = guest.exec_(node, ["apt-get", "install", "-y", "--no-install-recommends", *debs],
                       timeout=timeout, env=env)
    with open(os.path.join(config.node_dir(node), record or f"install-{os.path.basename(deb)}.log"), "w") as fh:
        fh.write(done.stdout + done.stderr)
    return done.check()


def wait_for(what, check, timeout, step=2.0):
    """Poll check() until it returns a true value; that value.  TimeoutError naming what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(step)


def serving(addr=config.VIP):
    code, body = curl(REGISTER_URL.format(addr=addr), timeout=5)
    return code == 200 and "CloudVersion" in body


def both(step):
    """step(node) on both nodes at once; the first failure is raised once both are done."""
    errors = {}

    def run(node):
        try:
            step(node)
        except BaseException as e:          # re-raised below, in the caller's thread
            errors[node] = e
    threads = [threading.Thread(target=run, args=(node,)) for node in config.NODES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for node in config.NODES:
        if node in errors:
            raise errors[node]


def running_vms():
    st = state.load()
    pids = {n: vm.pid_of(n, st) for n in config.NODES}
    return {n: pid for n, pid in pids.items() if pid}


def same_lab(suite=None):
    """True when both VMs run, on ``suite`` (config.SUITE unless given), fenced as config.FENCING says, with
    the arbiter host running when config.WITH_ARBITER says so (and a pair brought up with it)."""
    st = state.load()
    return (len(running_vms()) == len(config.NODES) and st.get("suite") == (suite or config.SUITE)
            and st.get("fencing", "sbd") == config.FENCING and bool(st.get("arbiter")) == config.WITH_ARBITER
            and (not config.WITH_ARBITER or vm.pid_of(config.ARBITER, st) is not None))


def boot(node, img, accel_mode, fresh):
    """Power a VM on (a node, or the arbiter host: lablib.arbiter) with its disks (``fresh``: new ones).

    Like a power button (or a BMC's power on), it does nothing to a VM that runs already and returns its
    pid: a second qemu on the same disks would die on the image lock, and recording its pid would lose the
    running one's (labctl then called the VM "not running").  Fresh disks for a running VM are an error."""
    running = vm.pid_of(node)
    if running:
        if fresh:
            raise RuntimeError(f"{node} runs already (qemu pid {running}): no fresh disks for it")
        return running
    vm.disks(node, img, fresh)
    bmc = vm.with_bmcs() and node in config.NODES
    if bmc:
        vm.start_bmc(node)
    pid = vm.start(node, img, accel_mode)
    st = state.load()
    st.setdefault("vms", {})[node] = {"pid": pid, "started": time.time()}
    if bmc:
        st["vms"][node]["machine"] = vm.bmc_of(node, st).machine
    state.save(st)
    return pid


def fresh_vms(tl, suite):
    """The image and packages (built when their inputs changed), the lab's networks, two freshly booted VMs."""
    tl.start(f"VM image (Debian {config.RELEASES[suite]}, {suite})")
    img, built = image.image_for(tl.log, suite)
    tl.finish("built" if built else "cached")
    tl.start("packages (uec-clc-ha from this tree, the stand-in eucalyptus-cloud)")
    ours, ours_built = packages.ours()
    standin, standin_built = packages.standin()
    tl.finish(f"uec-clc-ha {'built' if ours_built else 'cached'}, stand-in {'built' if standin_built else 'cached'}")
    tl.start("network namespaces, bridges, taps, client")
    os.makedirs(config.RUN, exist_ok=True)
    for name in ("sbd.img",):
        try:
            os.unlink(os.path.join(config.RUN, name))
        except FileNotFoundError:
            pass
    net.create()
    accel_mode, why = vm.accel(img, tl.log)
    secret = "lab pair " + secrets.token_urlsafe(18)
    state.save({"image": img, "suite": suite, "accel": accel_mode, "accel_why": why, "secret": secret, "vms": {},
                "began": time.time(), "ours": ours, "standin": standin, "fencing": config.FENCING,
                "arbiter": config.WITH_ARBITER,
                # the BMCs' password (IPMI fencing): IPMI's 20 bytes at most
                "bmc_password": secrets.token_urlsafe(12)[:16]})
    tl.finish(f"{accel_mode}: {why}")
    machines = [*config.NODES, *([config.ARBITER] if config.WITH_ARBITER else [])]
    tl.start(f"boot {', '.join(machines)}")
    for node in machines:
        boot(node, img, accel_mode, fresh=True)
    for node in machines:
        guest.wait_up(node, 600)
    tl.finish()


def standin_with_records(tl):
    """The stand-in eucalyptus-cloud on both (a CLC that has been running), records written to clc1's; those."""
    tl.start("stand-in eucalyptus-cloud installed on both (a CLC that has been running)")
    both(lambda node: install_deb(node, state.load()["standin"], 600))
    addr = config.NODES["clc1"]["public"]
    wait_for("clc1's stand-in CLC answering", lambda: curl(RECORDS_URL.format(addr=addr))[0] == 200, 300)
    before = [f"before-ha-{i}" for i in range(5)]
    for line in before:
        code, _ = curl(RECORDS_URL.format(addr=addr), data=line)
        if code != 200:
            raise RuntimeError(f"the stand-in on clc1 did not store {line!r} (HTTP {code})")
    tl.finish(f"{len(before)} records written to clc1's cloud")
    return before


def cluster_name(node):
    """totem.cluster_name of the corosync running on node; None when none answers."""
    done = guest.exec_(node, ["corosync-cmapctl", "-g", "totem.cluster_name"], timeout=60)
    return done.stdout.strip().rpartition(" = ")[2] if done.rc == 0 else None


def debian_stack(node):
    """Corosync, Pacemaker and SBD on ``node`` as their Debian packages leave a host that installs them.

    Their postinsts enable corosync.service and pacemaker.service and start
    them, and sbd's enables sbd.service (which both require): corosync runs
    its package's corosync.conf, a cluster named "debian" of one node
    (node1) on localhost, sbd watches the watchdog alone, and Pacemaker's
    CIB gets node1.  The image was built in a chroot whose policy-rc.d
    started nothing and keeps them disabled (for the recipe's pair and the
    older releases, which never met this); here the node becomes what a
    real host is when `apt-get install uec-clc-ha` brings the stack:
    uec-clc-ha's cluster-init must replace that cluster with the pair's.
    Returns when Pacemaker has node1 in its CIB."""
    guest.exec_(node, ["systemctl", "enable", "corosync.service", "pacemaker.service", "sbd.service"],
                timeout=120).check()
    guest.exec_(node, ["systemctl", "start", "corosync.service", "pacemaker.service"], timeout=300).check()
    name = cluster_name(node)
    if name != DEBIAN_CLUSTER:
        raise RuntimeError(f"{node}: Debian's corosync does not run its own cluster {DEBIAN_CLUSTER!r}: {name!r}")
    wait_for(f"node1 in {node}'s CIB (Pacemaker of Debian's cluster)", lambda: 'uname="node1"' in guest.exec_(
        node, ["cibadmin", "-Q", "-o", "nodes"], timeout=60).stdout, 300, step=3)


def lab_settings():
    """config.LAB_SETTINGS on both nodes with `uec-clc-ha-ctl set` (apply: by the caller, or adopt)."""
    args = [f"{k}={v}" for k, v in config.LAB_SETTINGS.items()]
    if not args:
        return
    for node in config.NODES:
        guest.exec_(node, ["uec-clc-ha-ctl", "set", *args], timeout=180).check()


def finish_up(tl, out, before):
    """Wait for the VIP, check the records written before HA, print the timeline and both crm_mon; the state."""
    tl.start("the client gets /register on the VIP")
    wait_for("the VIP serving /register", serving, 900, step=3)
    code, body = curl(RECORDS_URL.format(addr=config.VIP))
    missing = [r for r in before if r not in body.split()]
    if missing:
        raise RuntimeError(f"records written before HA are missing on the VIP: {missing}")
    tl.finish("records written before HA are all there")
    rss = {node: vm.rss_mib(pid) for node, pid in running_vms().items()}
    st = state.update(timeline=tl.steps, serving_since=time.time(), qemu_rss_mib=rss)
    out.write(tl.table())
    out.write("  qemu memory (RSS): " + ", ".join(f"{n} {m} MiB" for n, m in rss.items()) + "\n")
    for node in config.NODES:
        out.write(f"\n--- crm_mon -1r on {node}\n")
        out.write(guest.exec_(node, ["crm_mon", "-1r"], timeout=60).stdout)
    return st


def up(out, release=None, suite=None):
    """A serving pair; ``release``: install that .deb instead of this tree's (the upgrade scenario's start);
    ``suite``: the nodes' Debian release (config.SUITE unless given: the release upgrade starts on bookworm)."""
    suite = suite or config.SUITE
    tl = Timeline(out)
    if release is None and same_lab(suite) and serving():
        tl.log("the lab is up already: both VMs run and the VIP serves (`labctl down` first for a fresh pair)")
        return state.load()
    if running_vms():
        down(out)
    fresh_vms(tl, suite)
    before = standin_with_records(tl)
    tl.start("Eucalyptus stopped on both (the admin's step before uec-clc-ha moves the data)")
    for node in config.NODES:
        guest.exec_(node, ["systemctl", "stop", "eucalyptus-cloud.service"], timeout=180).check()
        guest.exec_(node, ["/etc/init.d/image-store-proxy", "stop"], timeout=60).check()
    tl.finish()
    if release is None:       # an older release was never given this: its admin stopped Debian's cluster by hand
        tl.start("corosync, pacemaker and sbd enabled and started on both as Debian's packages leave them "
                 f"(corosync's own cluster {DEBIAN_CLUSTER!r})")
        both(debian_stack)
        tl.finish()
    st = state.load()
    if st.get("arbiter"):
        tl.start(f"uec-clc-ha-arbiter on {config.ARBITER}: debconf-set-selections + apt-get install")
        install_arbiter_host()
        tl.finish()
    for node in config.NODES:
        what = f" ({os.path.basename(release)})" if release else ""
        tl.start(f"uec-clc-ha{what} on {node}: debconf-set-selections + apt-get install")
        given = answers_for(node, st["secret"], release)
        with open(os.path.join(config.node_dir(node), PRESEED_RECORD), "w") as fh:   # what it was given, less secrets
            fh.write("".join(line if line.split(" ")[2:3] != ["password"] else " ".join(line.split(" ", 3)[:3]) + " (hidden)\n"
                             for line in given.splitlines(keepends=True)))
        guest.exec_(node, ["debconf-set-selections"], stdin=given, timeout=60).check()
        done = install_deb(node, release or st["ours"], 1800, record=INSTALL_RECORD)
        note = [line for line in (done.stdout + done.stderr).splitlines()
                if "WAITING:" in line or "NOT DONE" in line or "serving:" in line]
        tl.finish("; ".join(n.split("uec-clc-ha: ", 1)[-1] for n in note)[:300])
    if config.LAB_SETTINGS:
        tl.start("the lab's own settings (slow emulated CPUs): " + ", ".join(f"{k}={v}" for k, v in
                                                                         config.LAB_SETTINGS.items()))
        lab_settings()
        both(lambda node: guest.exec_(node, ["uec-clc-ha-ctl", "apply"], timeout=900).check())
        tl.finish()
    return finish_up(tl, out, before)


def down(out):
    st = state.load()
    for node in st.get("vms", {}):
        pid = vm.pid_of(node, st)
        if vm.kill(pid, node):
            out.write(f"stopped {node} (qemu pid {pid})\n")
    for node in st.get("bmcs", {}):
        if vm.stop_bmc(node):
            out.write(f"stopped {node}'s BMC\n")
    net.destroy()
    for node in config.MACHINES:
        for name in ("root.qcow2", "drbd.img"):
            try:
                os.unlink(os.path.join(config.node_dir(node), name))
            except FileNotFoundError:
                pass
    try:
        os.unlink(os.path.join(config.RUN, "sbd.img"))
    except FileNotFoundError:
        pass
    st["vms"] = {}
    state.save(st)
    out.write("lab down: VMs stopped, namespaces removed (logs kept in build/lab/run)\n")
