"""debian/tests (autopkgtest) run against the built .deb in a throwaway Debian 12 root.

autopkgtest's chroot runner uses an overlay root from lab/lablib/chroot.py;
/proc, /dev, /sys and /run are mounted for it inside a private mount
namespace, so nothing stays mounted on the host and nothing is installed here.
"""

import os
import shutil
import subprocess

import pytest

from lablib import chroot, packages
from checkout import TOP

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("autopkgtest", path="/usr/bin")
                                or not shutil.which("debootstrap", path="/usr/sbin:/usr/bin"),
                                reason="needs root, autopkgtest and debootstrap")

MOUNTS = ('set -e; R=$1; shift; mount -t proc proc "$R/proc"; mount --rbind /dev "$R/dev"; '
          'mount -t sysfs -o ro sysfs "$R/sys"; mount -t tmpfs tmpfs "$R/run"; exec "$@"')


def test_autopkgtest_passes(deb, tmp_path):
    with chroot.ChrootRoot(chroot.base_root(chroot.CLC_PACKAGES), tmp_path, network=True) as root:
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", MOUNTS, "sh",
                               root.path, "autopkgtest", TOP + "/", *packages.with_library(deb), "--", "chroot",
                               root.path],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200, cwd=TOP)
    assert done.returncode == 0, done.stdout[-5000:]
    assert "installed-agent-and-ctl PASS" in done.stdout
