"""One qemu per node: its disks, how it is accelerated, starting it, killing it, telling whether it runs.

Called by `labctl up`, `kill NODE` (power loss: its qemu killed), `boot NODE`
and `down`.  Each VM: 1 vCPU, 1 GiB; a qcow2 overlay on the shared base
image as /dev/vda; its own raw DRBD backing disk /dev/vdb; the SBD disk
both VMs share as /dev/vdc (serial sbdshared, so
/dev/disk/by-id/virtio-sbdshared; no locking, direct I/O); an emulated
i6300esb watchdog whose expiry resets the VM (as a server's would); the
public NIC on its tap in brpub, the replication NIC on its tap in brrep
(fixed MACs); a virtio-serial port for the guest agent; the serial console
to RUN/NODE/console.log; QMP on RUN/NODE/qmp.sock; the lab's .debs read-only
(9p labdist) and RUN/NODE/boot writable (9p labboot: the lab's bootloader,
where the node's kernel hook leaves a kernel it installed, which the next
boot uses: a release upgrade reboots into the new release's kernel).  qemu runs inside the
lab's network namespace, in a session of its own, so it outlives labctl;
its pid is recorded in state.json and only that pid is ever killed.

The arbiter host (config.ARBITER, lablib.arbiter) is smaller: 512 MiB, its
root overlay, the public NIC, the agent's ports, the two shares and QMP;
no DRBD or SBD disk, no watchdog, no BMC.

With IPMI fencing (config.FENCING ipmilan) each node also has a BMC:
OpenIPMI's ipmi_sim in the lab namespace (lablib.bmc), started before its
VM, with the VM as its machine: the VM is powered on through the BMC
(`chassis power on`: the BMC's chassis control starts this qemu command),
its pid is the machine's (RUN/NODE/machine/pid), a fencing power-cycles it
(a new qemu, the same command line), and the VM has a third NIC on the
management bridge and the BMC's KCS interface (ipmi-bmc-extern +
isa-ipmi-kcs).  A BMC powers the qemu command it was given at power-on: a
kernel installed later (the lab's bootloader) is booted from the next
power-on through `labctl boot`, not from a fencing's power cycle.

Acceleration is probed, not assumed: KVM is used only where it boots the
image's kernel to its first process within a minute (the result is cached
per host kernel, qemu version and image); otherwise software emulation with
a 1 GiB translation cache (with 128 MiB, qemu threw the whole cache away
every few seconds on a busy node: 250 flushes in its first 25 minutes, each
retranslating every program), no 5-level paging (every guest TLB miss walks
the page tables in software) and the guest kernel's Spectre mitigations
off (an emulated CPU does not speculate; retpolines only add emulated
work): a lab VM's kernel line, never a production one.  The last two were
not measured on their own; together with the cache, one power loss went
from 123 s to 108 s (one run each).
"""

import json
import os
import shutil
import signal
import subprocess
import time

from . import bmc, config, guest, host, state

from uec_clc_ha.agent import clc_process  # pid identity: alive, not a zombie, its command line

QEMU = "qemu-system-x86_64"
PROBE_MARK = "Run /lab-kvm-probe as init process"


def _qemu_version():
    return host.run([QEMU, "--version"]).stdout.splitlines()[0]


def accel(image, log=print):
    """("kvm", "…") when KVM really boots the guest here, else ("tcg", why)."""
    if not os.path.exists("/dev/kvm"):
        return "tcg", "no /dev/kvm"
    cache = os.path.join(config.BUILD, "kvm-probe.json")
    ident = {"kernel": os.uname().release, "qemu": _qemu_version(), "guest_kernel": os.path.getsize(image["kernel"])}
    try:
        with open(cache) as fh:
            known = json.load(fh)
        if known.get("ident") == ident:
            return known["accel"], known["why"] + " (probed earlier)"
    except (OSError, ValueError):
        pass
    log("vm: probing whether KVM boots the guest kernel here")
    argv = [QEMU, "-accel", "kvm", "-cpu", "host", "-m", "512", "-nodefaults", "-display", "none", "-no-reboot",
            "-serial", "stdio", "-kernel", image["kernel"], "-initrd", image["initrd"],
            "-append", "console=ttyS0 panic=-1 rdinit=/lab-kvm-probe"]
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        output = done.stdout
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        output += "\n(timed out after 60 s)"
    if PROBE_MARK in output:
        result = ("kvm", "KVM booted the guest kernel to its first process")
    else:
        tail = " | ".join(line for line in output.strip().splitlines()[-2:])
        result = ("tcg", f"KVM did not boot the guest kernel ({tail[-160:]})")
    os.makedirs(config.BUILD, exist_ok=True)
    with open(cache, "w") as fh:
        json.dump({"ident": ident, "accel": result[0], "why": result[1]}, fh)
    return result


def boot_dir(node):
    """The node's labboot share: the kernel and initrd its own kernel hook put there (image.BOOT_HOOK)."""
    return os.path.join(config.node_dir(node), "boot")


def kernel(node, image):
    """(kernel, initrd) qemu boots: the node's own once a kernel upgrade put them in its share (the lab's
    bootloader), the image's until then."""
    own = (os.path.join(boot_dir(node), "vmlinuz"), os.path.join(boot_dir(node), "initrd.img"))
    return own if all(os.path.exists(p) for p in own) else (image["kernel"], image["initrd"])


def disks(node, image, fresh):
    """Create the node's disks (fresh=True: from scratch); the SBD disk is shared and made once per lab."""
    d = config.node_dir(node)
    os.makedirs(d, exist_ok=True)
    if fresh:
        shutil.rmtree(boot_dir(node), ignore_errors=True)
    os.makedirs(boot_dir(node), exist_ok=True)
    root = os.path.join(d, "root.qcow2")
    drbd = os.path.join(d, "drbd.img")
    sbd = os.path.join(config.RUN, "sbd.img")
    if fresh or not os.path.exists(root):
        host.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image["image"], root])
    if node == config.ARBITER:
        return root, None, None
    if fresh or not os.path.exists(drbd):
        with open(drbd, "wb") as fh:
            fh.truncate(config.DRBD_DISK_MIB << 20)
    if not os.path.exists(sbd):
        with open(sbd, "wb") as fh:
            fh.truncate(config.SBD_DISK_MIB << 20)
    return root, drbd, sbd


def argv(node, image, accel_mode):
    d = config.node_dir(node)
    vmlinuz, initrd = kernel(node, image)       # once: a kernel hook may be writing the share meanwhile
    root, drbd, sbd = (os.path.join(d, "root.qcow2"), os.path.join(d, "drbd.img"),
                       os.path.join(config.RUN, "sbd.img"))
    accel_args = ["-accel", "kvm", "-cpu", "host"] if accel_mode == "kvm" else \
        ["-accel", "tcg,tb-size=1024", "-cpu", "max,la57=off"]
    arbiter = node == config.ARBITER
    memory, cpus = (config.ARBITER_MEMORY_MIB, 1) if arbiter else (config.MEMORY_MIB, config.VCPUS)
    head = [QEMU, "-name", node, *accel_args, "-m", str(memory), "-smp", str(cpus),
            "-nodefaults", "-display", "none", "-vga", "none",
            "-serial", f"file:{os.path.join(d, 'console.log')}",
            "-kernel", vmlinuz, "-initrd", initrd,
            "-append", f"root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.hostname={node} "
                       "panic=10 quiet loglevel=4 systemd.show_status=1"
                       + ("" if accel_mode == "kvm" else " mitigations=off"),
            # every disk if=none plus an explicit device, in this order: vda, vdb, vdc
            "-drive", f"file={root},format=qcow2,if=none,id=root,cache=unsafe",
            "-device", "virtio-blk-pci,drive=root"]
    public = ["-netdev", f"tap,id=pub,ifname={config.tap(node, 'public')},script=no,downscript=no",
              "-device", f"virtio-net-pci,netdev=pub,mac={config.mac(node, 'public')}"]
    tail = ["-device", "virtio-serial-pci",
            *[arg for port in range(guest.PORTS) for arg in (
                "-chardev", f"socket,id=agent{port},path={os.path.join(d, f'agent{port}.sock')},server=on,wait=off",
                "-device", f"virtserialport,chardev=agent{port},name=lab.agent.{port}")],
            # the lab's .debs, read-only: the guest mounts it (9p) to install from it
            "-virtfs", f"local,path={config.DIST},mount_tag=labdist,security_model=none,readonly=on",
            # the lab's bootloader: where the node's kernel hook leaves a newly installed kernel
            "-virtfs", f"local,path={boot_dir(node)},mount_tag=labboot,security_model=none",
            "-qmp", f"unix:{os.path.join(d, 'qmp.sock')},server=on,wait=off",
            "-device", "virtio-rng-pci"]
    if arbiter:                 # the arbiter host: its root, the public NIC, the agent, the shares; nothing else
        return head + public + tail
    return head + [
        "-drive", f"file={drbd},format=raw,if=none,id=drbd,cache=none,aio=threads",
        "-device", "virtio-blk-pci,drive=drbd,serial=drbd",
        "-drive", f"file={sbd},format=raw,if=none,id=sbd,file.locking=off,cache=directsync",
        "-device", "virtio-blk-pci,drive=sbd,share-rw=on,serial=sbdshared",
        "-device", "i6300esb", "-action", "watchdog=reset",
        *public,
        "-netdev", f"tap,id=rep,ifname={config.tap(node, 'replication')},script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=rep,mac={config.mac(node, 'replication')}",
        *(_management(node) if with_bmcs() else ())] + tail


def _management(node):
    """The VM's third NIC (the management network) and its BMC's KCS interface."""
    return ("-netdev", f"tap,id=mgmt,ifname={config.tap(node, 'management')},script=no,downscript=no",
            "-device", f"virtio-net-pci,netdev=mgmt,mac={config.mac(node, 'management')}",
            "-chardev", f"socket,id=ipmi0,host=127.0.0.1,port={bmc_kcs_port(node)},reconnect=10",
            "-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0", "-device", "isa-ipmi-kcs,bmc=bmc0")


def with_bmcs(st=None):
    """True when the lab was brought up with BMCs (config.FENCING ipmilan at `labctl up`: state.json says)."""
    return (state.load() if st is None else st).get("fencing") == "ipmilan"


def bmc_kcs_port(node):
    return config.BMC_KCS_PORT + config.NODES[node]["index"]


def bmc_of(node, st=None):
    """The node's BMC (config.FENCING ipmilan): where it listens, its user and password, its machine."""
    st = state.load() if st is None else st
    d = config.node_dir(node)
    return bmc.Bmc(f"{node}-bmc", config.NODES[node]["bmc"], bmc.IPMI_PORT, config.BMC_USER, st["bmc_password"],
                   os.path.join(d, "machine"), os.path.join(d, "bmc"))


def bmc_pid(node, st=None):
    """The pid of the node's ipmi_sim while it runs (checked by its command line), else None."""
    st = state.load() if st is None else st
    pid = st.get("bmcs", {}).get(node)
    if not pid or clc_process.state(pid) != "alive":
        return None
    args = clc_process.cmdline(pid)
    return pid if args and os.path.basename(args[0]) == "ipmi_sim" and \
        os.path.join(config.node_dir(node), "bmc", "lan.conf") in args else None


def start_bmc(node):
    """Start the node's BMC in the lab namespace (unless it runs); its pid, recorded in state.json."""
    st = state.load()
    pid = bmc_pid(node, st)
    if pid is None:
        b = bmc_of(node, st)
        os.makedirs(b.workdir, exist_ok=True)
        pid = b.start(prefix=host.in_ns(config.NAMESPACE, []), qemu_port=bmc_kcs_port(node)).pid
        st = state.load()
        st.setdefault("bmcs", {})[node] = pid
        state.save(st)
    return pid


def stop_bmc(node):
    """Stop the node's BMC (a dead BMC: it answers nothing, its machine keeps running); True when it ran."""
    pid = bmc_pid(node)
    if pid is None:
        return False
    bmc.stop(pid)
    return True


def pid_of(node, st=None):
    """The node's qemu pid while it runs, else None: the BMC's machine's (IPMI) or the one state.json holds."""
    st = state.load() if st is None else st
    info = st.get("vms", {}).get(node, {})
    pid = bmc.machine_pid(info["machine"]) if info.get("machine") else info.get("pid")
    return pid if running(pid, node) else None


def _clear_sockets(node):
    d = config.node_dir(node)
    for name in [f"agent{port}.sock" for port in range(guest.PORTS)] + ["qmp.sock"]:
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    with open(os.path.join(d, "console.log"), "ab") as fh:
        fh.write(f"\n===== lab: starting {node} at {time.strftime('%H:%M:%S')} =====\n".encode())


def _wait_sockets(node, exited):
    """Wait for the new qemu's agent socket; ``exited()``: why it is gone, or None while it may come."""
    d = config.node_dir(node)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(d, "agent0.sock")):
        why = exited()
        if why:
            raise RuntimeError(f"qemu for {node} {why}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"qemu for {node} did not open its sockets; see {os.path.join(d, 'qemu.log')}")
        time.sleep(0.1)


def start(node, image, accel_mode):
    """Start the VM's qemu in the lab namespace (a node's through its BMC with IPMI fencing); its pid."""
    d = config.node_dir(node)
    _clear_sockets(node)
    if with_bmcs() and node != config.ARBITER:
        b = bmc_of(node)
        bmc.machine_define(b.machine, argv(node, image, accel_mode))
        done = b.ipmitool(host.in_ns(config.NAMESPACE, []), "chassis", "power", "on")
        if done.returncode != 0:
            raise RuntimeError(f"{node}'s BMC did not power it on: {done.stderr.strip() or done.stdout.strip()}")
        _wait_sockets(node, lambda: None if bmc.machine_pid(b.machine) else
                      f"is not running after power on; see {os.path.join(b.machine, 'log')}")
        return bmc.machine_pid(b.machine)
    with open(os.path.join(d, "qemu.log"), "ab") as log:
        proc = subprocess.Popen(host.in_ns(config.NAMESPACE, argv(node, image, accel_mode)), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True,
                                env={"PATH": host.PATH})
    _wait_sockets(node, lambda: None if proc.poll() is None else
                  f"exited {proc.returncode}; see {os.path.join(d, 'qemu.log')}")
    return qemu_pid(proc.pid) or proc.pid


def qemu_pid(wrapper_pid):
    """ip netns exec execs qemu in place, so the pid is qemu's; checked by its command line."""
    try:
        with open(f"/proc/{wrapper_pid}/cmdline", "rb") as fh:
            args = fh.read().split(b"\0")
    except OSError:
        return None
    return wrapper_pid if args and os.path.basename(args[0]) == QEMU.encode() else None


def running(pid, node):
    """True when pid is alive and is this node's qemu (never trust a bare pid)."""
    if not pid or clc_process.state(pid) != "alive":
        return False
    args = clc_process.cmdline(pid)
    return bool(args) and os.path.basename(args[0]) == QEMU and "-name" in args[:-1] and \
        args[args.index("-name") + 1] == node


def kill(pid, node, wait=10):
    """SIGKILL the node's qemu (power loss); True when it was running."""
    if not running(pid, node):
        return False
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while running(pid, node) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    return True


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None
