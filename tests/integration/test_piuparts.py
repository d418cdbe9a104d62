"""piuparts installs, removes and purges the .debs (uec-clc-ha with its library, and uec-clc-ha-arbiter) in its
own fresh Debian 12 chroot."""

import glob
import os
import shutil
import subprocess

import pytest

from lablib import chroot, packages

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("piuparts", path="/usr/sbin:/usr/bin"),
                                reason="needs root and piuparts")

BASETGZ = os.path.join(chroot.CACHE_DIR, "piuparts-bookworm.tgz")


def test_piuparts_passes(deb, tmp_path):
    mirror, _ = chroot.host_sources("bookworm")
    # piuparts' own debootstrap is cached as a base tarball after the first run.
    base = ["-b", BASETGZ] if os.path.exists(BASETGZ) else [f"--save={BASETGZ}"]
    os.makedirs(chroot.CACHE_DIR, exist_ok=True)
    log = tmp_path / "piuparts.log"
    done = subprocess.run(["piuparts", "--no-eatmydata", "-d", "bookworm", "-m", mirror, f"--tmpdir={tmp_path}",
                           "-l", str(log), *base, *packages.with_library(deb), packages.arbiter_of(deb)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800,
                          env=dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin"))
    text = log.read_text() if log.exists() else done.stdout
    assert done.returncode == 0, text[-6000:]
    assert "PASS: All tests." in text
    assert not glob.glob(str(tmp_path / "tmp*")), "piuparts left a chroot behind"
