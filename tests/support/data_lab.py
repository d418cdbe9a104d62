"""A data-migration lab on real filesystems: loop-mounted ext4 images in a private mount namespace.

Used by tests/integration/test_migration.py and tests/bench/bench_migration.py.
A Lab is a root directory whose /var/lib is one ext4 image (the node's own
disk, holding /var/lib/eucalyptus and /var/lib/image-store-proxy) and whose
/mnt/uecdata is another (standing in for the DRBD filesystem; ROOT/dev/drbd0
is a device node with that image's loop device number, so "is DRBD-Device
mounted at Mount-Point" is answered for real).  Every command runs inside
`unshare --mount`, so the mounts (and their loop devices, autoclear) vanish
with the command, also when a test kills it: like a crash and a remount.

The host has no DRBD: a stand-in `drbdadm` (first on PATH) answers `role`
with what the test asks for (LAB_DRBD_ROLE); the real DRBD path runs in the
two-node VM lab.

Run as a script, it builds a data tree with every kind of file
(`make-tree DIR SEED SCALE`) or prints a tree's manifest (`manifest DIR`).
"""

import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SRC = os.path.join(TOP, "src")
CTL = os.path.join(SRC, "sbin", "uec-clc-ha-ctl")

_NS_SH = r'''
root=$1 src=$2 dst=$3
shift 3
mount -o loop "$src" "$root/var/lib" || exit 111
if [ -n "$dst" ]; then
    mount -o loop,noatime "$dst" "$root/mnt/uecdata" || exit 111
    dev=$(mountpoint -d "$root/mnt/uecdata") || exit 111
    rm -f "$root/dev/drbd0"
    mknod "$root/dev/drbd0" b "${dev%:*}" "${dev#*:}" || exit 111
fi
if [ -n "$LAB_DISK_IMG" ]; then         # a backing disk for drbd-init: attached, not mounted
    mkdir -p "$root/proc" && mount -t proc proc "$root/proc" || exit 111
    lo=$(losetup --find --show "$LAB_DISK_IMG") || exit 111
    rm -f "$root/dev/vdb1"
    dev=$(stat -L -c '%t:%T' "$lo")
    mknod "$root/dev/vdb1" b "$((0x${dev%:*}))" "$((0x${dev#*:}))" || { losetup -d "$lo"; exit 111; }
    [ -z "$LAB_MOUNT_DISK" ] || mount "$lo" "$root/mnt/uecdata" || { losetup -d "$lo"; exit 111; }
    "$@"
    rc=$?
    [ -z "$LAB_MOUNT_DISK" ] || umount "$root/mnt/uecdata"
    losetup -d "$lo"
    exit $rc
fi
exec "$@"
'''

FAKE_DRBDADM = """#!/bin/sh
# Test stand-in for drbdadm (the host kernel has no DRBD): only what the data steps ask.
case "$1" in
role) echo "${LAB_DRBD_ROLE:-Primary}/Secondary" ;;
sh-nop) exit 0 ;;
*) echo "drbdadm stand-in: $*" >&2; exit 20 ;;
esac
"""


class Lab:
    def __init__(self, workdir, source_mib=256, target_mib=256):
        self.dir = str(workdir)
        self.root = os.path.join(self.dir, "root")
        self.source_img = os.path.join(self.dir, "var-lib.img")
        self.target_img = os.path.join(self.dir, "drbd.img")
        self.bindir = os.path.join(self.dir, "bin")
        for d in ("var/lib", "mnt/uecdata", "dev", "etc/uec-clc-ha"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.makedirs(self.bindir, exist_ok=True)
        with open(os.path.join(self.bindir, "drbdadm"), "w") as fh:
            fh.write(FAKE_DRBDADM)
        os.chmod(os.path.join(self.bindir, "drbdadm"), 0o755)
        for img, mib in ((self.source_img, source_mib), (self.target_img, target_mib)):
            with open(img, "wb") as fh:
                fh.truncate(mib << 20)
            subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal" if mib < 32 else "has_journal", img],
                           check=True)
        self.mount_target = True
        self.role = "Primary"

    def command(self, argv):
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _NS_SH, "sh", self.root,
                self.source_img, self.target_img if self.mount_target else "", *argv]

    def env(self, **extra):
        env = dict(os.environ, PYTHONPATH=f"{SRC}:{HERE}", LAB_DRBD_ROLE=self.role,
                   PATH=f"{self.bindir}:/usr/sbin:/usr/bin:/sbin:/bin")
        env.pop("UEC_CLC_HA_TEST_CRASH_AT", None)
        env.update(extra)
        return env

    def run(self, argv, check=True, timeout=600, **env):
        done = subprocess.run(self.command(argv), env=self.env(**env), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def ctl(self, *args, check=False, **env):
        return self.run(["/usr/bin/python3", CTL, "--root", self.root, *args], check=check, **env)

    def make_tree(self, name, seed, scale=1):
        self.run(["/usr/bin/python3", "-m", "data_lab", "make-tree", f"{self.root}/var/lib/{name}", str(seed), str(scale)])

    def manifest(self, path):
        """Manifest of a tree inside the lab (path as on the node, e.g. /var/lib/eucalyptus)."""
        done = self.run(["/usr/bin/python3", "-m", "data_lab", "manifest", f"{self.root}{path}"])
        return json.loads(done.stdout)

    def listing(self, path):
        done = self.run(["/bin/ls", "-la", f"{self.root}{path}"])
        return done.stdout

    def sh(self, script):
        return self.run(["/bin/sh", "-c", script, "sh", self.root])


# -- the data tree ------------------------------------------------------------------------
def make_tree(top, seed, scale=1):
    """Every kind of entry a Cloud Controller's data (or a careless admin) can hold."""
    rnd = random.Random(seed)
    os.makedirs(top, exist_ok=True)
    os.chmod(top, 0o750)
    os.chown(top, 4242, 4243)

    def blob(n):
        return rnd.randbytes(n)

    d = os.path.join(top, "db")
    os.makedirs(d)
    with open(os.path.join(d, "eucalyptus.data"), "wb") as fh:
        fh.write(blob(int((3 << 20) * scale)))
    open(os.path.join(d, "empty.lck"), "wb").close()
    with open(os.path.join(d, "sparse.img"), "wb") as fh:          # holes at both ends and between
        fh.seek(8 << 20)
        fh.write(blob(4096))
        fh.seek(32 << 20)
        fh.write(b"end")
        fh.truncate(64 << 20)
    keys = os.path.join(top, "keys")
    os.makedirs(keys)
    for i in range(3):
        p = os.path.join(keys, f"node-{i}.pem")
        with open(p, "wb") as fh:
            fh.write(blob(1700))
        os.chmod(p, 0o600)
        os.chown(p, 4242, 4243)
    os.link(os.path.join(keys, "node-0.pem"), os.path.join(keys, "cloud-cert.pem"))   # hard links
    os.link(os.path.join(keys, "node-0.pem"), os.path.join(d, "hardlink-across-dirs.pem"))
    os.symlink("node-1.pem", os.path.join(keys, "relative-link"))
    os.symlink("/var/lib/eucalyptus/keys/node-2.pem", os.path.join(keys, "absolute-link"))
    os.symlink("does-not-exist", os.path.join(keys, "dangling-link"))
    os.mkfifo(os.path.join(top, "control.fifo"), 0o620)
    weird = os.path.join(top, "names")
    os.makedirs(weird)
    for name in ("ünïcödé-☁.txt", "new\nline", " leading space", "tab\there", "-dash", "quote'\"s"):
        with open(os.path.join(weird, name), "w", encoding="utf-8") as fh:
            fh.write(name)
    deep = top
    for level in range(40):
        deep = os.path.join(deep, f"l{level}")
    os.makedirs(deep)
    with open(os.path.join(deep, "bottom"), "w") as fh:
        fh.write("deep")
    many = os.path.join(top, "bukkits")
    os.makedirs(many)
    for i in range(int(300 * scale)):
        with open(os.path.join(many, f"object-{i:05d}"), "wb") as fh:
            fh.write(blob(rnd.randint(0, 48 << 10)))
    odd = os.path.join(top, "modes")
    os.makedirs(odd)
    for mode in (0o000, 0o4755, 0o2711, 0o1777, 0o444):
        p = os.path.join(odd, f"mode-{mode:04o}")
        open(p, "w").close()
        os.chown(p, rnd.choice([0, 4242, 65534]), rnd.choice([0, 4243, 65534]))
        os.chmod(p, mode)
    sticky = os.path.join(odd, "sticky-dir")
    os.makedirs(sticky)
    os.chmod(sticky, 0o1777)
    os.setxattr(os.path.join(keys, "node-1.pem"), "user.eucalyptus.origin", b"clc1")
    os.setxattr(d, "user.note", b"\x00binary\xff")
    subprocess.run(["setfacl", "-m", "u:4244:r--,g:4245:rw-", os.path.join(keys, "node-2.pem")], check=True)
    subprocess.run(["setfacl", "-d", "-m", "u:4244:rwx", keys], check=True)
    for dirpath, dirnames, filenames in os.walk(top):                 # varied times, set last
        for name in filenames + dirnames:
            p = os.path.join(dirpath, name)
            t = 1_300_000_000 + rnd.randint(0, 10**8)
            os.utime(p, ns=(t * 10**9 + 123, t * 10**9 + 456789), follow_symlinks=False)
    os.utime(top, ns=(1_290_000_000 * 10**9, 1_290_000_000 * 10**9 + 7))


if __name__ == "__main__":             # inside the lab's namespace: python3 -m data_lab (PYTHONPATH from env())
    if sys.argv[1] == "make-tree":
        make_tree(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "manifest":
        from uec_clc_ha.data import tree_manifest
        json.dump(tree_manifest.manifest(sys.argv[2]), sys.stdout)
