"""A serving pair moves from Debian 12 to Debian 13, one node at a time, the way doc/upgrade.md tells an admin.

A fresh pair is brought up on bookworm (uec-clc-ha from this tree, which
already depends on fence-agents-sbd where fence-agents no longer carries
fence_sbd).  The nodes have no network: the trixie packages come as an
air-gapped site brings them, a partial Debian mirror on the lab's share
(lablib.archive; apt checks Debian's own signatures).  For each node, the
one that does not run the cloud first:

  uec-clc-ha-ctl standby NODE              (nothing runs there: nothing moves)
  systemctl stop pacemaker corosync        (the node leaves the cluster cleanly)
  sources.list -> the archive; apt-get update; apt-get full-upgrade
  reboot                                   (into trixie's kernel: the lab's bootloader, lablib.vm)
  uec-clc-ha-ctl unstandby NODE            (rejoins: Pacemaker 2.1.5 and 3.0 side by side)
  apt-get purge --autoremove fence-agents fence-agents-all   (the transitional package's every agent goes)
  uec-clc-ha-ctl doctor                    (on both: names the mixed releases and the next step)

and once both run Debian 13, `uec-clc-ha-ctl apply` raises the CIB's schema
(Pacemaker 2.1.5's pacemaker-3.9 to 3.0's pacemaker-4.0) on the live pair.

and between the two nodes the cloud moves to the upgraded node
(`uec-clc-ha-ctl standby` of the other, which is its planned move).  A
client writes through the VIP throughout: nothing acknowledged may be lost,
DRBD never resyncs in full (only what changed while the node was away),
nobody is fenced, no split brain; the client's longest gap is printed, and
where it came from (the one planned move).

The pair is left serving on trixie (when the run's release is bookworm, a
fresh bookworm pair replaces it for the scenarios after this one).
"""

import os
import re
import sys
import time

import pytest

from lablib import archive, config, guest, pair as lab_pair, scenario, state, vm
from lablib.observe import Lab, now, wait_for

# Run by `make lab-test` on a pair without the arbiter (proven on two_node pairs; not yet with the
# arbiter); `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]

OLD, NEW = "bookworm", "trixie"


@pytest.fixture(scope="module")
def bookworm_pair():
    lab_pair.down(sys.stdout)
    lab_pair.up(sys.stdout, suite=OLD)
    yield Lab(state.load())
    if config.SUITE != NEW:             # the scenarios after this one run on the release the run asked for
        lab_pair.down(sys.stdout)
        lab_pair.up(sys.stdout)


def release(lab, node):
    return lab.exec(node, "sh", "-c", ". /etc/os-release; echo $VERSION_ID", timeout=60).stdout.strip()


def pacemaker(lab, node):
    return re.search(r"Pacemaker (\S+)", lab.exec(node, "pacemakerd", "--version", timeout=60).stdout).group(1)


def drbd_bytes_resynced(lab, node, since):
    """KiB DRBD resynced on node since the journal cursor (its "Resync done ... (total N sec; paused ...;
    N K/sec)" lines carry no size; the "Began resync ... (will sync N KB" lines do)."""
    found = scenario.after(lab, node, since, r"will sync \d+ KB")
    return sum(int(re.search(r"will sync (\d+) KB", line).group(1)) for _, line in found)


def schema(lab, node):
    out = lab.exec(node, "cibadmin", "-Q", "--no-children", timeout=60).stdout
    return re.search(r'validate-with="([^"]+)"', out).group(1)


def power_cycle(lab, node):
    """The admin's reboot: the guest powers off, the lab powers it on again (qemu's -kernel is fixed for a run,
    so the lab's bootloader takes the kernel the upgrade installed at the next start)."""
    try:
        lab.exec(node, "systemctl", "poweroff", timeout=30, check=False)
    except guest.AgentError:
        pass
    wait_for(f"{node} powered off", lambda: not lab.running(node), 600, step=2)
    lab.boot(node)
    guest.wait_up(node, 1200)


def used_mib(lab, node):
    return int(lab.exec(node, "df", "--output=used", "-BM", "/", timeout=60).stdout.split()[-1].rstrip("M"))


def doctor_on_both(lab):
    """doctor on each node, twice: each run publishes the node's release for the peer's doctor to compare
    (the first round on the first node finds the peer's from before the upgrade, or none)."""
    for n in config.NODES:
        lab.exec(n, "uec-clc-ha-ctl", "doctor", timeout=600, check=False)
    return {n: lab.exec(n, "uec-clc-ha-ctl", "doctor", timeout=600, check=False) for n in config.NODES}


def upgrade(lab, node, log):
    t0 = time.monotonic()
    before = used_mib(lab, node)
    lab.exec(node, "uec-clc-ha-ctl", "standby", node, "--yes", timeout=900)
    lab.exec(node, "systemctl", "stop", "pacemaker", "corosync", timeout=600)
    lab_pair.mount_dist(node)
    lab.exec(node, "sh", "-c", "cat > /etc/apt/sources.list", stdin=archive.sources_list(NEW), timeout=60)
    lab.exec(node, "apt-get", "update", timeout=900)
    done = lab.exec(node, "env", "DEBIAN_FRONTEND=noninteractive", *archive.UPGRADE, timeout=7200, check=False)
    with open(f"{config.node_dir(node)}/release-upgrade.log", "w") as fh:
        fh.write(done.stdout + done.stderr)
    assert done.rc == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert release(lab, node) == "13"
    assert os.path.exists(os.path.join(vm.boot_dir(node), "vmlinuz")), "the new kernel did not reach the bootloader"
    power_cycle(lab, node)
    assert "deb13" in lab.exec(node, "uname", "-r", timeout=60).stdout
    wait_for(f"{node} back in the cluster", lambda: (v := lab.view(node)) is not None and v.quorate
             and all(x["online"] for x in v.nodes.values()), 900, step=5)
    lab.exec(node, "uec-clc-ha-ctl", "unstandby", node, "--yes", timeout=1800)
    upgraded = used_mib(lab, node)
    # doc/upgrade.md step 6: the transitional fence-agents and every agent it pulled in go again (autoremove
    # alone keeps them: Debian 13's pacemaker recommends fence-agents)
    lab.exec(node, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "purge", "--autoremove",
             "fence-agents", "fence-agents-all", timeout=3600)
    assert lab.exec(node, "test", "-x", "/usr/sbin/fence_sbd", check=False).rc == 0
    assert lab.exec(node, "test", "-x", "/usr/sbin/fence_ipmilan", check=False).rc == 0
    after = used_mib(lab, node)
    assert after < upgraded - 1024, (before, upgraded, after)         # the agents' gigabytes given back
    log(f"{node}: Debian {release(lab, node)}, Pacemaker {pacemaker(lab, node)}, in {time.monotonic() - t0:.0f} s; "
        f"/ used {before} MiB before, {upgraded} MiB upgraded, {after} MiB after step 6")


def test_a_serving_pair_moves_from_debian_12_to_13_one_node_at_a_time(bookworm_pair):
    lab = bookworm_pair
    assert {release(lab, n) for n in config.NODES} == {"12"}
    lines = []
    archive.mirror(OLD, NEW, state.load()["ours"], log=lines.append)
    watch = scenario.Watch(lab, "release-upgrade")
    first = config.peer(watch.active)
    second = watch.active
    fenced = {n: scenario.fence_events(lab, n) for n in config.NODES}
    cursors = {n: scenario.cursor(lab, n) for n in config.NODES}

    upgrade(lab, first, lines.append)
    doctor = doctor_on_both(lab)
    for n, done in doctor.items():
        assert "the nodes run different Debian releases" in done.stdout, done.stdout
        assert f"uec-clc-ha-ctl standby {second}" in done.stdout, done.stdout
    assert lab.active(second) == second and scenario.clc_pid(lab, second) == watch.pid   # the cloud never moved

    t_move = now()
    lab.exec(second, "uec-clc-ha-ctl", "standby", second, "--yes", timeout=1200)
    wait_for("the cloud serving on the upgraded node", lambda: lab.active(first) == first and lab.serving(),
             900, step=3)
    watch.writer.wait_acked()
    move_gap = watch.writer.longest_gap(t_move)
    lab.exec(second, "uec-clc-ha-ctl", "unstandby", second, "--yes", timeout=1200)
    upgrade(lab, second, lines.append)

    gap, touched = watch.finish()
    scenario.wait_normal(lab, 900)
    assert {release(lab, n) for n in config.NODES} == {"13"}
    assert {n: scenario.fence_events(lab, n) for n in config.NODES} == fenced, "a node was fenced"
    assert not any(scenario.split_brain_seen(lab, n) for n in config.NODES)
    resynced = {n: drbd_bytes_resynced(lab, n, cursors[n]) for n in config.NODES}
    assert all(kib < config.DRBD_DISK_MIB * 1024 // 2 for kib in resynced.values()), resynced
    for n, done in doctor_on_both(lab).items():
        assert "both nodes run Debian 13" in done.stdout, done.stdout
    # the package's own part once both run Pacemaker 3: apply raises the CIB's schema, live
    before = schema(lab, first)
    applied = lab.exec(first, "uec-clc-ha-ctl", "apply", timeout=900).stdout
    after_apply = schema(lab, first)
    assert before == "pacemaker-3.9" and after_apply == "pacemaker-4.0", (before, after_apply, applied)
    assert "would run" not in lab.exec(second, "uec-clc-ha-ctl", "apply", "--dry-run", timeout=600).stdout
    scenario.wait_normal(lab, 300)
    print("\n" + "\n".join(lines))
    print(f"release upgrade {OLD} -> {NEW} on the serving pair: client's longest gap {gap:.1f} s (the planned "
          f"move {move_gap:.1f} s), {len(watch.writer.acked)} records acknowledged, none lost; DRBD resynced "
          f"{resynced} KiB; nobody fenced; CIB schema {before} -> {after_apply} by apply; started/stopped: {touched}")
