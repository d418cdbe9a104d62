"""The lab's VM image, cached under build/lab/image/KEY and rebuilt only when its inputs change.

Called by `labctl up` (lablib.pair) through image_for().  KEY hashes the
recipe: the suite, the package list, this module's source (the files it
writes into the image) and the guest agent.  A build runs in a temporary
directory and is renamed into place when complete, under a lock: an
interrupted build is thrown away, a second lab waits for the first build.

Recipe: debootstrap (minbase) of config.SUITE (the lab's release: Debian 12
or 13) from the mirror this machine's apt uses (its own release's mirrors for
the other), the packages of config.image_packages() (the stock kernel with its
DRBD 8.4 module, python3 and what the stand-in needs, and uec-clc-ha's Depends
and uec-clc-ha-arbiter's through `apt-get satisfy`), corosync-qnetd's .deb
kept in config.LOCAL_ARCHIVE (installed, copied there, purged: only the
arbiter host installs it, from there), then:
one image for every VM (the machine's name comes from the kernel command
line, its addresses from systemd-networkd files matching each NIC's fixed
MAC address), /etc/hosts naming both nodes and the arbiter host, a persistent journal, the guest
agent as a service, corosync, pacemaker and sbd disabled (Debian enables
them on install; the cluster is started by uec-clc-ha, not by the image),
apt's timers masked.  The root filesystem becomes a 6 GiB sparse ext4 image
(`mkfs.ext4 -d`), and the kernel and initrd are copied beside it.
"""

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time

from . import chroot, config, host

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT = os.path.join(os.path.dirname(HERE), "guest-agent")

# The lab's bootloader (qemu boots -kernel/-initrd from the host): when a kernel is installed or
# its initrd rebuilt, the node copies both into its labboot share (lablib.vm.kernel), as
# update-grub would point a bootloader at them.  run-parts order: after initramfs-tools.
BOOT_HOOK = """#!/bin/sh
# uec-clc-ha lab: leave the newest kernel and its initrd where qemu boots from (labboot share)
version="$1"
kernel=/boot/vmlinuz-$version initrd=/boot/initrd.img-$version
[ -f "$kernel" ] && [ -f "$initrd" ] || exit 0
[ "$(ls -v /boot/vmlinuz-* | tail -n 1)" = "$kernel" ] || exit 0
mnt=/run/lab-boot
mkdir -p $mnt
mountpoint -q $mnt || mount -t 9p -o trans=virtio,version=9p2000.L labboot $mnt || exit 0
cp "$kernel" $mnt/.vmlinuz.new && cp "$initrd" $mnt/.initrd.img.new &&
    mv $mnt/.vmlinuz.new $mnt/vmlinuz && mv $mnt/.initrd.img.new $mnt/initrd.img &&
    echo "lab-boot: the next boot starts $version" >&2
exit 0
"""

AGENT_UNIT = """[Unit]
Description=uec-clc-ha lab guest agent (virtio-serial)
After=systemd-udevd.service

[Service]
ExecStart=/usr/local/sbin/lab-guest-agent
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
"""


def key(suite=None):
    suite = suite or config.SUITE
    h = hashlib.sha256()
    h.update(json.dumps([suite, sorted(config.image_packages()), config.VERSION]).encode())
    for path in (__file__, AGENT, os.path.join(HERE, "config.py")):
        with open(path, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


def paths(directory):
    return {"image": os.path.join(directory, "base.img"), "kernel": os.path.join(directory, "vmlinuz"),
            "initrd": os.path.join(directory, "initrd.img"), "info": os.path.join(directory, "image.json")}


def image_for(log=print, suite=None):
    """The paths of the current image of suite (the lab's release); built first when its inputs changed."""
    suite = suite or config.SUITE
    final = os.path.join(config.IMAGES, key(suite))
    if os.path.exists(paths(final)["info"]):
        return paths(final), False
    os.makedirs(config.IMAGES, exist_ok=True)
    with open(final + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(paths(final)["info"]):
            return paths(final), False
        for stale in os.listdir(config.IMAGES):
            if stale.startswith(os.path.basename(final) + ".tmp"):
                shutil.rmtree(os.path.join(config.IMAGES, stale), ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(final) + ".tmp", dir=config.IMAGES)
        try:
            began = time.monotonic()
            build(tmp, log, suite)
            info = {"key": key(suite), "suite": suite, "packages": config.image_packages(),
                    "seconds": round(time.monotonic() - began, 1), "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            with open(paths(tmp)["info"], "w") as fh:
                json.dump(info, fh, indent=1)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _prune(keep=final, log=log, suite=suite)
    return paths(final), True


def _suite_of(path):
    try:
        with open(paths(path)["info"]) as fh:
            return json.load(fh).get("suite")
    except (OSError, ValueError):
        return None


def _prune(keep, log, suite):
    """Remove the older images of the same release (1 GiB each), except one a running lab still uses."""
    from . import state

    in_use = os.path.dirname(state.load().get("image", {}).get("image", "")) if state.load().get("vms") else ""
    for name in os.listdir(config.IMAGES):
        path = os.path.join(config.IMAGES, name)
        if (os.path.isdir(path) and path not in (keep, in_use) and ".tmp" not in name
                and _suite_of(path) in (suite, None)):
            shutil.rmtree(path, ignore_errors=True)
            try:
                os.unlink(path + ".lock")
            except FileNotFoundError:
                pass
            log(f"image: removed the older image {name}")


def _write(root, path, text, mode=0o644):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as fh:
        fh.write(text)
    os.chmod(full, mode)


def build(directory, log, suite):
    rootfs = os.path.join(directory, "rootfs")
    os.makedirs(rootfs)
    os.chmod(rootfs, 0o755)
    mirror, sources = chroot.host_sources(suite)
    buildlog = os.path.join(directory, "build.log")

    def step(what, argv, chrooted=True, timeout=3600):
        log(f"image: {what}")
        if chrooted:
            done = chroot.run_in(rootfs, argv, network=True, check=False, timeout=timeout)
        else:
            done = host.run(argv, check=False, timeout=timeout)
        with open(buildlog, "a") as fh:
            fh.write(f"\n### {' '.join(argv)}\n{done.stdout}{done.stderr}")
        if done.returncode != 0:
            raise RuntimeError(f"image build: {' '.join(argv)} exited {done.returncode}; see {buildlog}\n"
                               f"{(done.stderr or done.stdout)[-2000:]}")

    step("debootstrap", ["debootstrap", "--variant=minbase", suite, rootfs, mirror], chrooted=False)
    _write(rootfs, "/etc/apt/sources.list", "".join(sources))
    _write(rootfs, "/usr/sbin/policy-rc.d", "#!/bin/sh\n# lab image build: no service starts in the chroot\nexit 101\n",
           0o755)
    step("apt-get update", ["apt-get", "update"])
    step("apt-get upgrade", ["apt-get", "upgrade", "-y"])
    packages = config.image_packages()
    step(f"installing {len(packages)} packages (the kernel, the cluster stack, python3)",
         ["apt-get", "satisfy", "-y", "--no-install-recommends", *packages])
    step(f"{config.ARBITER_DAEMON} for the arbiter host, kept in the image's {config.LOCAL_ARCHIVE}", ["sh", "-c",
         f"apt-get install -y --no-install-recommends {config.ARBITER_DAEMON} && mkdir -p {config.LOCAL_ARCHIVE} && "
         f"cp /var/cache/apt/archives/{config.ARBITER_DAEMON}_*.deb {config.LOCAL_ARCHIVE}/ && "
         f"apt-get purge -y {config.ARBITER_DAEMON}"])
    configure(rootfs)
    step("services of the image", ["sh", "-c",
         "systemctl enable systemd-networkd.service lab-guest-agent.service && "
         "systemctl disable corosync.service pacemaker.service sbd.service && "
         "systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer "
         "man-db.timer e2scrub_all.timer fstrim.timer"])
    step("apt-get clean", ["apt-get", "clean"])
    os.unlink(os.path.join(rootfs, "usr/sbin/policy-rc.d"))
    boot = os.path.join(rootfs, "boot")
    kernel = sorted(n for n in os.listdir(boot) if n.startswith("vmlinuz-"))[-1]
    initrd = sorted(n for n in os.listdir(boot) if n.startswith("initrd.img-"))[-1]
    shutil.copy(os.path.join(boot, kernel), paths(directory)["kernel"])
    shutil.copy(os.path.join(boot, initrd), paths(directory)["initrd"])
    step("root filesystem image (mkfs.ext4 -d)",
         ["mkfs.ext4", "-q", "-F", "-L", "labroot", "-d", rootfs, paths(directory)["image"], config.IMAGE_SIZE],
         chrooted=False)
    shutil.rmtree(rootfs)


def configure(rootfs):
    """The files that make one image serve both nodes and the arbiter host."""
    _write(rootfs, "/etc/fstab", "/dev/vda / ext4 defaults,errors=remount-ro 0 1\n")
    if os.path.exists(os.path.join(rootfs, "etc/hostname")):
        os.unlink(os.path.join(rootfs, "etc/hostname"))
    hosts = "127.0.0.1 localhost\n" + "".join(f"{n['public']} {name}\n" for name, n in config.MACHINES.items())
    _write(rootfs, "/etc/hosts", hosts)
    prefix = config.PUBLIC_NET.split("/")[1]
    _write(rootfs, f"/etc/systemd/network/10-{config.ARBITER}-public.network",
           f"[Match]\nMACAddress={config.mac(config.ARBITER, 'public')}\n\n[Link]\nRequiredForOnline=no\n\n"
           f"[Network]\nAddress={config.ARBITER_HOST['public']}/{prefix}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
           "ConfigureWithoutCarrier=yes\nIgnoreCarrierLoss=yes\nKeepConfiguration=yes\n")
    for name, n in config.NODES.items():
        _write(rootfs, f"/etc/systemd/network/10-{name}-public.network",
               f"[Match]\nMACAddress={config.mac(name, 'public')}\n\n[Link]\nRequiredForOnline=no\n\n"
               f"[Network]\nAddress={n['public']}/{prefix}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
               "ConfigureWithoutCarrier=yes\nIgnoreCarrierLoss=yes\nKeepConfiguration=yes\n")
        _write(rootfs, f"/etc/systemd/network/11-{name}-replication.network",
               f"[Match]\nMACAddress={config.mac(name, 'replication')}\n\n[Link]\nRequiredForOnline=no\n\n"
               f"[Network]\nAddress={n['replication']}/{config.REPLICATION_PREFIX}\nLinkLocalAddressing=no\n"
               "IPv6AcceptRA=no\nConfigureWithoutCarrier=yes\nIgnoreCarrierLoss=yes\nKeepConfiguration=yes\n")
        # the management network (IPMI fencing: the BMCs); the NIC exists only when the lab runs with BMCs
        _write(rootfs, f"/etc/systemd/network/12-{name}-management.network",
               f"[Match]\nMACAddress={config.mac(name, 'management')}\n\n[Link]\nRequiredForOnline=no\n\n"
               f"[Network]\nAddress={n['management']}/{config.MANAGEMENT_NET.split('/')[1]}\n"
               "LinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\nIgnoreCarrierLoss=yes\n"
               "KeepConfiguration=yes\n")
    os.makedirs(os.path.join(rootfs, "var/log/journal"), exist_ok=True)
    with open(AGENT, encoding="utf-8") as fh:
        _write(rootfs, "/usr/local/sbin/lab-guest-agent", fh.read(), 0o755)
    _write(rootfs, "/etc/systemd/system/lab-guest-agent.service", AGENT_UNIT)
    for hook in ("/etc/kernel/postinst.d/zz-lab-boot", "/etc/initramfs/post-update.d/zz-lab-boot"):
        _write(rootfs, hook, BOOT_HOOK, 0o755)
    # The lab's VMs have no network beyond the pair's two links: apt must never wait for one.
    _write(rootfs, "/etc/apt/apt.conf.d/99lab-offline", 'Acquire::Retries "0";\nAPT::Periodic::Enable "0";\n')
