"""migrate-data, prepare-secondary and restore-data on real ext4 filesystems, crashes included.

Each test gets a data_lab.Lab: /var/lib and the DRBD mount point are
loop-mounted ext4 images in a private mount namespace (see tests/support/data_lab.py).
The trees hold every kind of entry (large, empty and sparse files, hard
links, symlinks of every sort, a fifo, odd names, a deep tree, xattrs, ACLs,
odd owners and modes), and "identical" means identical manifests: content
hashes and every piece of metadata.
"""

import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from data_lab import Lab
from scenarios import write_settings
from uec_clc_ha.host.system import System
from uec_clc_ha.data.tree_manifest import differences

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setfacl", path="/usr/bin:/bin"),
                                reason="needs root (loop mounts) and the acl tools")

DIRS = ("/var/lib/eucalyptus", "/var/lib/image-store-proxy")
REFUSED = 6


def new_lab(tmp_path, seed=1, scale=0.5, **sizes):
    lab = Lab(tmp_path, **sizes)
    write_settings(System(lab.root), "corosync-drbd84")
    lab.make_tree("eucalyptus", seed, scale)
    lab.make_tree("image-store-proxy", seed + 1, scale / 3)
    lab.original = {d: lab.manifest(d) for d in DIRS}
    return lab


@pytest.fixture
def lab(tmp_path):
    return new_lab(tmp_path)


def backups(lab):
    names = lab.run(["/bin/ls", f"{lab.root}/var/lib"]).stdout.split()
    return {f"/var/lib/{n.split('.uec-clc-ha-backup-')[0]}": f"/var/lib/{n}" for n in names if ".uec-clc-ha-backup-" in n}


def assert_migrated(lab):
    listing = lab.run(["/usr/bin/stat", "-c", "%N", *[f"{lab.root}{d}" for d in DIRS]]).stdout
    for d in DIRS:
        name = os.path.basename(d)
        assert f"'{lab.root}{d}' -> '/mnt/uecdata/{name}'" in listing
        assert differences(lab.original[d], lab.manifest(f"/mnt/uecdata/{name}")) == [], d
    kept = backups(lab)
    assert set(kept) == set(DIRS)
    for d, backup in kept.items():
        assert differences(lab.original[d], lab.manifest(backup)) == [], backup


def assert_restored(lab):
    for d in DIRS:
        assert differences(lab.original[d], lab.manifest(d)) == [], d


def test_migrate_verify_switch_then_restore(lab):
    r = lab.ctl("migrate-data", "--yes")
    assert r.returncode == 0, r.stderr
    assert "verifying /var/lib/eucalyptus" in r.stdout and "original kept as" in r.stdout
    assert_migrated(lab)
    again = lab.ctl("migrate-data", "--yes")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    r = lab.ctl("restore-data", "--yes")
    assert r.returncode == 0, r.stderr
    assert_restored(lab)
    assert lab.ctl("restore-data", "--yes").returncode == 0          # idempotent


def test_restore_brings_back_data_written_on_drbd(lab):
    assert lab.ctl("migrate-data", "--yes").returncode == 0
    lab.sh('echo written-under-the-cluster > "$1/mnt/uecdata/eucalyptus/new-file"')
    assert lab.ctl("restore-data", "--yes").returncode == 0
    assert lab.run(["/bin/cat", f"{lab.root}/var/lib/eucalyptus/new-file"]).stdout == "written-under-the-cluster\n"


def test_restore_refused_without_space_where_the_data_goes_back(lab):
    # the data grew on DRBD beyond what /var/lib can take: a copy back would fill /var (the CIB's writes)
    assert lab.ctl("migrate-data", "--yes").returncode == 0
    lab.sh('fallocate -l 200M "$1/mnt/uecdata/eucalyptus/grown-on-drbd"')
    r = lab.ctl("restore-data", "--yes")
    assert r.returncode == REFUSED and "not enough space for /var/lib/eucalyptus" in r.stderr, r.stderr
    assert "Nothing was changed" in r.stderr
    listing = lab.run(["/usr/bin/stat", "-c", "%N", *[f"{lab.root}{d}" for d in DIRS]]).stdout
    assert all(f"'{lab.root}{d}' -> '/mnt/uecdata/{os.path.basename(d)}'" in listing for d in DIRS)
    assert set(backups(lab)) == set(DIRS)              # the symlinks and the backups as they were
    names = lab.run(["/bin/ls", "-A", f"{lab.root}/var/lib"]).stdout.split()
    assert not [n for n in names if n.endswith(".uec-clc-ha-restore")]


def test_restore_from_backup_is_explicit(lab):
    assert lab.ctl("migrate-data", "--yes").returncode == 0
    lab.sh('echo newer > "$1/mnt/uecdata/eucalyptus/new-file"')
    refused = lab.ctl("restore-data", "--from-backup")
    assert refused.returncode == REFUSED and "discarding everything written on DRBD" in refused.stderr
    assert lab.ctl("restore-data", "--from-backup", "--yes").returncode == 0
    assert_restored(lab)
    assert "new-file" in lab.run(["/bin/ls", f"{lab.root}/mnt/uecdata/eucalyptus"]).stdout   # DRBD copy kept
    again = lab.ctl("migrate-data", "--yes")                  # not "already migrated": the copy is in the way
    assert again.returncode == REFUSED and "already exists on the DRBD filesystem" in again.stderr


def test_discard_backup_reverifies_first(lab):
    assert lab.ctl("migrate-data", "--yes").returncode == 0
    assert lab.ctl("migrate-data", "--discard-backup").returncode == REFUSED        # needs --yes
    backup = backups(lab)["/var/lib/eucalyptus"]
    lab.sh(f'echo tampered >> "$1{backup}/keys/node-1.pem"')
    r = lab.ctl("migrate-data", "--discard-backup", "--yes")
    assert r.returncode == REFUSED and "no longer matches" in r.stderr
    lab.sh(f'truncate -s 1700 "$1{backup}/keys/node-1.pem"')
    r = lab.ctl("migrate-data", "--discard-backup", "--yes")
    assert r.returncode == REFUSED and "mtime differs" in r.stderr            # still not what was migrated
    assert backups(lab)                                                          # nothing deleted


def test_discard_backup_of_an_intact_backup(lab):
    assert lab.ctl("migrate-data", "--yes").returncode == 0
    r = lab.ctl("migrate-data", "--discard-backup", "--yes")
    assert r.returncode == 0 and "discarded" in r.stdout
    assert backups(lab) == {}
    for d in DIRS:
        assert differences(lab.original[d], lab.manifest(f"/mnt/uecdata/{os.path.basename(d)}")) == []


def test_prepare_secondary_keeps_the_local_data(lab):
    lab.mount_target = False                 # the secondary has nothing mounted
    r = lab.ctl("prepare-secondary")
    assert r.returncode == REFUSED and "--yes" in r.stderr
    r = lab.ctl("prepare-secondary", "--yes")
    assert r.returncode == 0, r.stderr
    kept = backups(lab)
    for d in DIRS:
        assert differences(lab.original[d], lab.manifest(kept[d])) == []
    assert lab.ctl("prepare-secondary", "--yes").returncode == 0            # idempotent
    assert "already a symlink" in lab.ctl("prepare-secondary", "--yes").stdout
    assert lab.ctl("restore-data", "--from-backup", "--yes").returncode == 0   # the secondary's own undo
    for d in DIRS:
        assert differences(lab.original[d], lab.manifest(d)) == []


def test_refused_while_eucalyptus_runs(lab):
    proc = subprocess.Popen(["eucalyptus-cloud", "60"], executable="/bin/sleep")    # argv[0] as the launcher
    try:
        time.sleep(0.2)
        r = lab.ctl("migrate-data", "--yes")
        assert r.returncode == REFUSED and "Eucalyptus is running" in r.stderr and "stop it first" in r.stderr
        assert lab.ctl("prepare-secondary", "--yes").returncode == REFUSED
        assert lab.ctl("restore-data", "--yes").returncode == REFUSED
    finally:
        proc.kill()
        proc.wait()
    assert backups(lab) == {}


def test_a_process_reading_the_init_script_does_not_block_it(lab, tmp_path):
    script = tmp_path / "init.d" / "image-store-proxy"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\nexit 0\n")
    readers = [subprocess.Popen(["tail", "-f", str(script)], stdout=subprocess.DEVNULL),
               subprocess.Popen(["tail", "-f", "/dev/null", "/usr/sbin/eucalyptus-cloud"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        time.sleep(0.2)
        r = lab.ctl("migrate-data", "--yes")
        assert r.returncode == 0, r.stderr
    finally:
        for proc in readers:
            proc.kill()
            proc.wait()


def test_refused_when_not_primary(lab):
    lab.role = "Secondary"
    r = lab.ctl("migrate-data", "--yes")
    assert r.returncode == REFUSED and "is Secondary on this node, not Primary" in r.stderr
    assert backups(lab) == {}


def test_refused_when_not_mounted(lab):
    lab.mount_target = False
    r = lab.ctl("migrate-data", "--yes")
    assert r.returncode == REFUSED and "is not mounted at /mnt/uecdata" in r.stderr


def test_refused_without_space(tmp_path):
    lab = new_lab(tmp_path, scale=1, target_mib=16)
    r = lab.ctl("migrate-data", "--yes")
    assert r.returncode == REFUSED and "not enough space on /mnt/uecdata" in r.stderr
    assert backups(lab) == {}
    assert lab.run(["/bin/ls", "-A", f"{lab.root}/mnt/uecdata"]).stdout.split() == ["lost+found"]


def test_rollback_of_an_unfinished_migration(lab):
    r = lab.ctl("migrate-data", "--yes", UEC_CLC_HA_TEST_CRASH_AT="placed")
    assert r.returncode == -signal.SIGKILL
    assert lab.ctl("migrate-data", "--rollback").returncode == 0
    assert_restored(lab)
    assert lab.run(["/bin/ls", "-A", f"{lab.root}/mnt/uecdata"]).stdout.split() == [".uec-clc-ha-incoming",
                                                                                     "lost+found"]


# Crash injection: the process kills itself with SIGKILL at a named checkpoint
# (the N-th time it is reached), or is killed from outside after a random delay.
CHECKPOINTS = ["copy", "copying", "copied", "verify", "verified", "placed", "backed-up", "linked"]


def crash_plan(seed):
    rnd = random.Random(seed)
    if rnd.random() < 0.25:
        return ("after", rnd.uniform(0.05, 1.5))
    point = rnd.choice(CHECKPOINTS)
    nth = rnd.randint(1, 40) if point == "verify" else rnd.randint(1, 2)
    return ("at", f"{point}:{nth}")


@pytest.mark.parametrize("seed", range(52))
def test_killed_at_any_point_then_resumed(tmp_path, seed):
    lab = new_lab(tmp_path, seed=seed, scale=0.3)
    kind, where = crash_plan(seed)
    if kind == "at":
        first = lab.ctl("migrate-data", "--yes", UEC_CLC_HA_TEST_CRASH_AT=where)
        assert first.returncode == -signal.SIGKILL, f"never reached {where}: {first.stdout[-500:]}"
    else:
        proc = subprocess.Popen(lab.command(["/usr/bin/python3", lab_ctl(), "--root", lab.root, "migrate-data",
                                             "--yes"]), env=lab.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(where)
        proc.send_signal(signal.SIGKILL)          # unshare execs the shell, which execs the tool: same PID
        proc.wait()
    resumed = lab.ctl("migrate-data", "--yes")
    assert resumed.returncode == 0, f"crash {where}: {resumed.stderr}"
    assert_migrated(lab)
    restored = lab.ctl("restore-data", "--yes", UEC_CLC_HA_TEST_CRASH_AT=random.Random(seed).choice(
        ["restore-copying", "restore-copied", "restore-verified", "restore-unlinked", "restore-restored", "none"]))
    assert restored.returncode in (0, -signal.SIGKILL)
    assert lab.ctl("restore-data", "--yes").returncode == 0
    assert_restored(lab)


def lab_ctl():
    from data_lab import CTL
    return CTL
