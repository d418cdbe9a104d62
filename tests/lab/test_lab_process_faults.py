"""The Cloud Controller's own failures on the active node: killed (scenario 2) and hung (scenario 3).

Records are written through the VIP throughout; every acknowledged one must
be there afterwards.  The kill is `kill -9` of the daemon the pidfile names;
the hang is the stand-in's SIGUSR1 (a JVM deadlocked: process and ports
kept, no answer), which only the monitor's health check (every
Deep-Monitor-Interval) can see.  One monitor checks both, so each kill is
one failure towards migration-threshold.  Times are read
from the active node's journal (guest clock) and printed.
"""

import re

import pytest

from lablib import config, scenario
from lablib.observe import wait_for
from lablib.scenario import CLC, Writer


def _settings(lab, node):
    text = lab.exec(node, "cat", "/etc/uec-clc-ha/uec-clc-ha.conf", timeout=30).stdout
    return dict(re.findall(r"^([A-Z][\w-]*):\s*(.*?)\s*$", text, re.M))


def _kill_and_detect(lab, node):
    """kill -9 the CLC daemon on node; (seconds from the kill to the failed monitor in node's journal, pid)."""
    pid = scenario.clc_pid(lab, node)
    assert pid, f"no CLC daemon on {node}"
    cur = scenario.cursor(lab, node)
    t_kill = float(lab.sh(node, f"date +%s.%N; kill -9 {pid}", timeout=30).stdout.split()[0])
    failed = rf"Result of monitor operation for {CLC} on {node}: (?i:not running|error)"   # 2.1.5 / 3.0 spelling
    found = wait_for("the killed CLC's failed monitor in the journal",
                     lambda: scenario.after(lab, node, cur, failed), 300, step=2)
    return round(found[0][0] - t_kill, 1), pid


@pytest.mark.lab_extended        # 395 s of make test's 86 min (2026-12-07): make lab-test runs it
def test_kill_9_restarts_in_place_then_moves_after_migration_threshold(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    peer = config.peer(active)
    conf = _settings(pair, active)
    interval = int(conf.get("Monitor-Interval", 20))
    threshold = int(conf.get("Migration-Threshold", 3))
    writer = Writer(pair, "kill9")
    writer.start()
    writer.wait_acked()
    detections = []
    for attempt in range(1, threshold + 1):
        detected, pid = _kill_and_detect(pair, active)
        detections.append(detected)
        if attempt < threshold:
            # restarted in place: the same node, a new daemon, the cloud serving again
            wait_for("the VIP serving again", pair.serving, 300, step=0.5)
            # and the start operation finished: the CLC answers before the agent's start has seen it healthy,
            # and a kill in that window fails the start itself (fatal: the group leaves at once), which is
            # another scenario than a crash of a running CLC (seen on the lab under the fencing probe's load)
            scenario.settled(pair, active, timeout=300)
            assert pair.active(active) == active
            new = scenario.clc_pid(pair, active)
            assert new and new != pid
            writer.wait_acked()
    # the threshold-th failure: the group moves to the peer
    wait_for(f"the group running on {peer}", lambda: pair.active(peer) == peer, 600, step=2)
    wait_for("the VIP serving from the peer", pair.serving, 300, step=2)
    writer.wait_acked()
    writer.finish()
    assert scenario.fail_count(pair, peer, active) == threshold          # one failure per kill
    failures = pair.view(peer).failures                      # caught by a monitor (whichever ran first)
    assert any(f.startswith(f"{CLC}_monitor_") and f" on {active}:" in f for f in failures), failures
    assert scenario.lost(pair, writer.acked) == []
    assert scenario.fence_constraints(pair, peer) == []
    print(f"\nkill -9 of the CLC on {active}: detected after {detections} s (monitor interval {interval} s); "
          f"moved to {peer} after {threshold} failures; {len(writer.acked)} records acknowledged, none lost")
    # detection by the monitor's process check: within one interval (plus the monitor's own run on one emulated CPU)
    assert max(detections) <= interval + 10, detections


@pytest.mark.lab_extended        # 104-141 s of make test (2026-12-07): make lab-test runs it
def test_a_hung_clc_is_caught_by_the_deep_monitor_and_recovered(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    conf = _settings(pair, active)
    deep = int(conf.get("Deep-Monitor-Interval", 60))
    writer = Writer(pair, "hang")
    writer.start()
    writer.wait_acked()
    pid = scenario.clc_pid(pair, active)
    cur = scenario.cursor(pair, active)
    t_hang = float(pair.sh(active, f"date +%s.%N; kill -USR1 {pid}", timeout=30).stdout.split()[0])
    wait_for("the hang seen by the client", lambda: not pair.serving(), 60, step=0.5)
    found = wait_for("the hung CLC's failed monitor in the journal", lambda: scenario.after(
        pair, active, cur, rf"Result of monitor operation for {CLC} on {active}: (?i:error|timed out)"), deep + 120, step=2)
    detected = found[0][0]
    wait_for("the VIP serving again", pair.serving, 300, step=0.5)
    writer.wait_acked()
    writer.finish()
    assert pair.active(active) == active                     # recovered in place: one failure < threshold
    new = scenario.clc_pid(pair, active)
    assert new and new != pid
    assert scenario.lost(pair, writer.acked) == []
    # the process was alive all along: the failure is the monitor's health check (its health_interval)
    interval = int(conf.get("Monitor-Interval", 10))
    failures = pair.view(active).failures
    assert any(f.startswith(f"{CLC}_monitor_{interval * 1000} on {active}") and "not healthy" in f
               for f in failures), failures
    print(f"\nhung CLC on {active}: detected after {round(detected - t_hang, 1)} s "
          f"(deep monitor interval {deep} s), restarted in place; {len(writer.acked)} records acknowledged, none lost")
