"""Self-test of lab/lablib/chroot.py, the throwaway Debian roots the package tests install into.

Uses its own small cached base (python3 ucf debconf-utils iproute2; about 30 s
to build the first time, then reused from /var/cache/uec-clc-ha-tests).  Needs
root and debootstrap; skipped otherwise.
"""

import os
import shutil
import subprocess

import pytest

from lablib import chroot
from lablib.chroot import ChrootRoot, base_root, diff_snapshots

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("debootstrap", path=chroot.SYSTEM_PATH),
    reason="needs root and debootstrap")

PACKAGES = ["python3", "ucf", "debconf-utils", "iproute2"]


def mounts():
    return subprocess.run(["findmnt", "-rn", "-o", "TARGET"], stdout=subprocess.PIPE, text=True,
                          check=True).stdout.split()


@pytest.fixture(scope="module")
def base():
    return base_root(PACKAGES)


@pytest.fixture
def root(base, tmp_path):
    with ChrootRoot(base, tmp_path) as r:
        yield r


def test_packages_are_installed_and_env_is_set(root):
    assert "Status: install ok installed" in root.run(["dpkg", "-s", "ucf"]).stdout
    env = root.run(["env"], env={"EXTRA": "1"}).stdout.splitlines()
    for line in ("DEBIAN_FRONTEND=noninteractive", "LC_ALL=C.UTF-8", "HOME=/root", "EXTRA=1",
                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin"):
        assert line in env
    assert root.run(["cat"], input="fed on stdin").stdout == "fed on stdin"
    assert root.exists("/usr/sbin/policy-rc.d") and root.exists("/var/lib/apt/lists/lock")
    with pytest.raises(subprocess.CalledProcessError):
        root.run(["false"])
    assert root.run(["false"], check=False).returncode == 1


def test_snapshot_sees_writes_removals_and_mode_changes(root, base):
    before = root.snapshot()
    root.write("/etc/added.conf", "x = 1\n", 0o600)
    root.run(["rm", "/etc/debian_version"])
    root.run(["chmod", "0600", "/etc/hostname"])
    root.run(["touch", "/tmp/noise", "/var/log/noise"])       # excluded from snapshots
    after = root.snapshot()
    assert diff_snapshots(before, after) == (["/etc/added.conf"], ["/etc/debian_version"], ["/etc/hostname"])
    assert after["/etc/added.conf"][:2] == ("f", 0o600)
    assert root.read("/etc/added.conf") == b"x = 1\n"
    assert os.path.exists(os.path.join(base, "etc/debian_version"))      # the base is untouched


def test_copy_in_and_paths_resolve_inside_the_root(root, tmp_path):
    src = tmp_path / "hello.txt"
    src.write_text("hi\n")
    assert root.copy_in(str(src), "/tmp/") == "/tmp/hello.txt"
    assert root.run(["cat", "/tmp/hello.txt"]).stdout == "hi\n"
    root.run(["ln", "-s", "/etc", "/tmp/abs-link"])
    assert root.host_path("/tmp/abs-link/passwd") == os.path.join(root.path, "etc/passwd")


def test_no_mounts_or_processes_remain(base, tmp_path):
    with pytest.raises(RuntimeError):
        with ChrootRoot(base, tmp_path) as r:
            r.run(["sh", "-c", "sleep 600 >/dev/null 2>&1 & mount -t tmpfs x /mnt"])
            assert chroot._processes_in(r.path) == []      # died with the command
            with pytest.raises(subprocess.TimeoutExpired):
                r.run(["sleep", "600"], timeout=1)
            assert chroot._processes_in(r.path) == []
            workdir = r.dir
            assert any(m.startswith(workdir) for m in mounts())
            raise RuntimeError("a test failing midway")
    assert not any(m.startswith(workdir) for m in mounts())
    assert not os.path.exists(workdir)


def test_namespaces_tmpfs_and_overlays_work_inside(root):
    script = r'''
set -e
mkdir -p /tmp/lower /tmp/scratch
echo lower > /tmp/lower/extra
unshare --mount --propagation private sh -c '
  set -e
  mount -t tmpfs scratch /tmp/scratch
  mount -t overlay ro -o lowerdir=/tmp/lower:/etc /etc
  cat /etc/extra
  mkdir /tmp/scratch/upper /tmp/scratch/work
  mount -t overlay rw -o lowerdir=/var/lib,upperdir=/tmp/scratch/upper,workdir=/tmp/scratch/work /var/lib
  touch /var/lib/written-in-overlay
  echo overlays-ok'
test ! -e /etc/extra && test ! -e /var/lib/written-in-overlay
unshare --uts sh -c 'hostname clc1 && hostname'
unshare --net sh -c 'ip link set lo up
  ip link add eth7 type veth peer name eth8 && ip addr add 192.0.2.7/24 dev eth7 && ip link set eth7 up
  ip -o addr show eth7'
'''
    out = root.run(["sh", "-c", script]).stdout
    assert "lower\n" in out and "overlays-ok\n" in out and "clc1\n" in out and "192.0.2.7/24" in out
    host = subprocess.run(["hostname"], stdout=subprocess.PIPE, text=True).stdout
    assert host.strip() != "clc1" and not os.path.exists("/sys/class/net/eth7")


def test_an_upper_dir_on_the_roots_own_overlay_is_refused(root):
    """Documented limit: nested overlays need their upper dir on a tmpfs."""
    done = root.run(["sh", "-c", "mkdir -p /tmp/u /tmp/w && unshare --mount sh -c "
                     "'mount -t overlay x -o lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w /etc'"], check=False)
    assert done.returncode != 0
