"""drbd-init's refusals, on a real loop-backed block device.

The host kernel has no DRBD module, so the destructive steps themselves run
in the two-node VM lab; here every reason to refuse is shown for real:
without --yes, without Initial-Primary, a disk that holds a filesystem, a
mounted disk, a missing disk, a kernel without the module, no module-load
entry, and nothing is written in any of these cases.  A former replica (DRBD
metadata from drbd-utils' own drbdmeta, the replicated filesystem in its data
area) passes the signature check on the other node only.
"""

import os
import shutil
import subprocess

import pytest

from data_lab import Lab
from scenarios import write_settings
from uec_clc_ha.host.system import System

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("wipefs", path="/usr/sbin:/sbin"),
                                reason="needs root (loop devices) and wipefs")

REFUSED = 6


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path, source_mib=32, target_mib=32)
    write_settings(System(lab.root), "corosync-drbd84")
    lab.disk = str(tmp_path / "backing.img")
    with open(lab.disk, "wb") as fh:
        fh.truncate(64 << 20)
    return lab


def drbd_init(lab, *args, **env):
    return lab.ctl("drbd-init", *args, LAB_DISK_IMG=lab.disk, **env)


def test_refused_without_yes_and_says_what_would_be_destroyed(lab):
    r = drbd_init(lab)
    assert r.returncode == REFUSED
    assert "writes DRBD metadata to /dev/vdb1 and creates a new ext4 filesystem on /dev/drbd0" in r.stderr
    assert "everything on the disk is lost" in r.stderr and "--yes" in r.stderr


def test_refused_without_initial_primary(lab):
    System(lab.root).write_atomic("/etc/uec-clc-ha/uec-clc-ha.conf",
                                  System(lab.root).read("/etc/uec-clc-ha/uec-clc-ha.conf")
                                  .replace("Initial-Primary: clc1", "Initial-Primary:"), mode=0o600)
    r = drbd_init(lab, "--yes")
    assert r.returncode == REFUSED and "Initial-Primary is not set" in r.stderr


def test_a_disk_with_a_filesystem_is_refused_and_left_alone(lab):
    subprocess.run(["mkfs.ext4", "-q", "-F", lab.disk], check=True)
    before = open(lab.disk, "rb").read()
    r = drbd_init(lab, "--yes")
    assert r.returncode == REFUSED and "nothing was changed" in r.stderr
    assert "/dev/vdb1 holds data (ext4 signature)" in r.stderr and "--force" in r.stderr
    assert open(lab.disk, "rb").read() == before
    assert not os.path.exists(os.path.join(lab.root, "var/lib/uec-clc-ha/drbd-init.json"))


def test_force_overrides_only_the_signature(lab):
    subprocess.run(["mkfs.ext4", "-q", "-F", lab.disk], check=True)
    r = drbd_init(lab, "--yes", "--force")
    assert r.returncode == REFUSED
    assert "signature" not in r.stderr
    # this host's kernel has no DRBD module (and this machine may lack kmod's modprobe altogether)
    assert "drbd kernel module is not available" in r.stderr or "modprobe is not installed" in r.stderr
    assert "does not load drbd at boot" in r.stderr


def test_a_mounted_disk_is_refused(lab):
    subprocess.run(["mkfs.ext4", "-q", "-F", lab.disk], check=True)
    r = drbd_init(lab, "--yes", "--force", LAB_MOUNT_DISK="1")
    assert r.returncode == REFUSED and "is mounted at" in r.stderr and "unmount it first" in r.stderr


def test_a_missing_disk_is_refused(lab):
    r = lab.ctl("drbd-init", "--yes")
    assert r.returncode == REFUSED and "/dev/vdb1 (DRBD-Disk) does not exist" in r.stderr


def former_replica_disk(lab):
    """What a purged node's backing disk holds: DRBD 8.4 metadata at its end, the filesystem at its start."""
    subprocess.run(["drbdmeta", "--force", "0", "v08", lab.disk, "internal", "create-md"], check=True,
                   capture_output=True, input="yes\n", text=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "nodiscard", lab.disk, "60M"], check=True)
    found = subprocess.run(["wipefs", "--no-act", "--noheadings", "--output", "TYPE", lab.disk],
                           check=True, capture_output=True, text=True).stdout.split()
    assert sorted(found) == ["drbd", "ext4"]


def make_initial_primary(lab, node):
    system = System(lab.root)
    conf = system.read("/etc/uec-clc-ha/uec-clc-ha.conf")
    system.write_atomic("/etc/uec-clc-ha/uec-clc-ha.conf", conf.replace("Initial-Primary: clc1",
                                                                        f"Initial-Primary: {node}"), mode=0o600)


def test_a_former_replica_passes_the_signature_check_on_the_other_node(lab):
    former_replica_disk(lab)
    make_initial_primary(lab, "clc2")                      # this node (clc1) receives the copy
    before = open(lab.disk, "rb").read()
    r = drbd_init(lab, "--yes")
    assert r.returncode == REFUSED and "signature" not in r.stderr
    # refused only for what this host lacks: the kernel module
    assert "drbd kernel module is not available" in r.stderr or "modprobe is not installed" in r.stderr
    assert open(lab.disk, "rb").read() == before


def test_a_former_drbd_disk_on_the_initial_primary_is_refused(lab):
    former_replica_disk(lab)
    before = open(lab.disk, "rb").read()
    r = drbd_init(lab, "--yes")
    assert r.returncode == REFUSED
    assert ("/dev/vdb1 holds data (ext4 signature inside DRBD metadata: a DRBD disk, perhaps with a copy of "
            "the cloud's data)") in r.stderr
    assert open(lab.disk, "rb").read() == before
