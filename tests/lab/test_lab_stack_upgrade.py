"""The cluster stack's own upgrades on a live pair: the cloud never goes down unannounced.

A point release of pacemaker, corosync, sbd or drbd-utils runs their
maintainer scripts, which restart the stack on the node (measured before
the apt hook: reinstalling pacemaker on the active node stopped the cloud
there and started it on the peer, 51 s without it, nothing said).  Here
each node's installed versions are rebuilt with a higher version
(lablib.repack) and upgraded with apt the way an admin runs a point
release, one apt run for all four, while a client writes through the VIP:

- on the standby node apt goes on: the stack restarts there, the cloud
  keeps its PID and node;
- on the node that runs the cloud apt is refused before dpkg runs, naming
  the command; the admin's way (`uec-clc-ha-ctl standby`, apt,
  `uec-clc-ha-ctl unstandby`) makes it one planned move.

Nothing acknowledged is lost; the client's longest gap is printed.
"""

import time

import pytest

from lablib import config, repack, scenario
from lablib.scenario import Writer

# Run by `make lab-test` on a pair without the arbiter (proven on two_node pairs; not yet with the
# arbiter); `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = [pytest.mark.lab_extended, pytest.mark.lab_two_node]

STACK = ("pacemaker", "corosync", "sbd", "drbd-utils")
SUFFIX = "+lab1"
APT = ("apt-get", "install", "-y", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confold")


def versions(lab, node):
    done = lab.exec(node, "dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *STACK, timeout=60)
    return dict(line.split() for line in done.stdout.splitlines())


def pacemakerd(lab, node):
    return lab.exec(node, "pgrep", "-x", "pacemakerd", check=False, timeout=30).stdout.strip()


def test_stack_upgrades_move_the_cloud_at_most_once_and_only_when_asked(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    standby = config.peer(active)
    before = {n: versions(pair, n) for n in config.NODES}
    debs = {n: [repack.repack(n, p, SUFFIX) for p in STACK] for n in config.NODES}
    pid = scenario.clc_pid(pair, active)
    writer = Writer(pair, "stack-upgrade")
    writer.start()
    writer.wait_acked()

    # the standby node first: apt goes on, the stack restarts there, the cloud does not notice
    t0 = time.monotonic()
    daemon = pacemakerd(pair, standby)
    done = pair.exec(standby, *APT, *debs[standby], timeout=1800, check=False)
    assert done.rc == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert versions(pair, standby) == {p: v + SUFFIX for p, v in before[standby].items()}
    scenario.wait_normal(pair, 900)
    assert pacemakerd(pair, standby) != daemon                  # the maintainer scripts did restart it
    assert scenario.clc_pid(pair, active) == pid and pair.active(active) == active
    writer.wait_acked()
    standby_gap = writer.longest_gap(t0)

    # the active node: refused before dpkg runs, the way named
    refused = pair.exec(active, *APT, *debs[active], timeout=600, check=False)
    said = refused.stdout + refused.stderr
    assert refused.rc != 0 and "NOT RUN" in said and f"uec-clc-ha-ctl standby {active}" in said, said[-3000:]
    assert versions(pair, active) == before[active]
    assert scenario.clc_pid(pair, active) == pid

    # the admin's way: move the cloud, upgrade, back online: one planned move
    t1 = time.monotonic()
    pair.exec(active, "uec-clc-ha-ctl", "standby", active, "--yes", timeout=900)
    assert pair.active(standby) == standby
    done = pair.exec(active, *APT, *debs[active], timeout=1800, check=False)
    assert done.rc == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pair.exec(active, "uec-clc-ha-ctl", "unstandby", active, "--yes", timeout=900)
    scenario.wait_normal(pair, 900)
    assert versions(pair, active) == {p: v + SUFFIX for p, v in before[active].items()}
    assert pair.active(standby) == standby                       # it stays where it moved
    writer.wait_acked()
    writer.finish()
    assert scenario.lost(pair, writer.acked) == []
    print(f"\ncluster stack upgrade ({', '.join(STACK)}): on the standby node {standby} the client's longest "
          f"gap was {standby_gap:.1f} s (the CLC kept its PID); on {active}, refused, then standby + upgrade + "
          f"unstandby: one planned move, longest gap {writer.longest_gap(t1):.1f} s; "
          f"{len(writer.acked)} records acknowledged, none lost")
