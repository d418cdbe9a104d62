"""The Cloud Controller's own failures on the active node: killed (scenario 2) and hung (scenario 3).

Records are written through the VIP throughout; every acknowledged one must
be there afterwards.  The kill is `kill -9` of the daemon the pidfile names;
the hang is the stand-in's SIGUSR1 (a JVM deadlocked: process and ports
kept, no answer), which only the depth-10 monitor can see.  Times are read
from the active node's journal (guest clock) and printed.
"""

import re

from lablib import config, scenario
from lablib.observe import wait_for
from lablib.scenario import CLC, Writer


def _first(lab, node, since, pattern):
    """Guest time of the first journal line after `since` matching pattern (None when there is none)."""
    for line in lab.journal(node, f"@{int(since) - 1}").splitlines():
        stamp, _, rest = line.partition(" ")
        try:
            t = float(stamp)
        except ValueError:
            continue
        if t >= since and re.search(pattern, rest):
            return t
    return None


def _settings(lab, node):
    text = lab.exec(node, "cat", "/etc/uec-clc-ha/uec-clc-ha.conf", timeout=30).stdout
    return dict(re.findall(r"^([A-Z][\w-]*):\s*(.*?)\s*$", text, re.M))


def _kill_and_recover(lab, node, writer):
    """kill -9 the CLC daemon on node; (guest time of the kill, its pid)."""
    pid = scenario.clc_pid(lab, node)
    assert pid, f"no CLC daemon on {node}"
    before = scenario.fail_count(lab, node, node)
    t = float(lab.sh(node, f"date +%s.%N; kill -9 {pid}", timeout=30).stdout.split()[0])
    wait_for(f"the fail count of {CLC} on {node} rising", lambda: scenario.fail_count(lab, node, node) > before,
             300, step=1)
    return t, pid


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
        t_kill, pid = _kill_and_recover(pair, active, writer)
        detected = _first(pair, active, t_kill, rf"Result of monitor operation for {CLC} on {active}: "
                                                r"(not running|error)")
        assert detected is not None, "the failure of the CLC is not in the active node's journal"
        detections.append(round(detected - t_kill, 1))
        if attempt < threshold:
            # restarted in place: the same node, a new daemon, the cloud serving again
            wait_for("the VIP serving again", pair.serving, 300, step=0.5)
            assert pair.active(active) == active
            new = scenario.clc_pid(pair, active)
            assert new and new != pid
            writer.wait_acked()
    # the threshold-th failure: the group moves to the peer
    wait_for(f"the group running on {peer}", lambda: pair.active(peer) == peer, 600, step=1)
    wait_for("the VIP serving from the peer", pair.serving, 300, step=0.5)
    writer.wait_acked()
    writer.finish()
    assert scenario.fail_count(pair, peer, active) >= threshold
    failures = pair.view(peer).failures
    assert any(f.startswith(f"{CLC}_monitor_{interval * 1000} on {active}") for f in failures), failures
    assert scenario.lost(pair, writer.acked) == []
    assert scenario.fence_constraints(pair, peer) == []
    print(f"\nkill -9 of the CLC on {active}: detected after {detections} s (monitor interval {interval} s); "
          f"moved to {peer} after {threshold} failures; {len(writer.acked)} records acknowledged, none lost")
    # detection by the depth-0 monitor: within one interval (plus the monitor's own run on one emulated CPU)
    assert max(detections) <= interval + 5, detections


def test_a_hung_clc_is_caught_by_the_deep_monitor_and_recovered(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    conf = _settings(pair, active)
    deep = int(conf.get("Deep-Monitor-Interval", 60))
    writer = Writer(pair, "hang")
    writer.start()
    writer.wait_acked()
    pid = scenario.clc_pid(pair, active)
    t_hang = float(pair.sh(active, f"date +%s.%N; kill -USR1 {pid}", timeout=30).stdout.split()[0])
    wait_for("the hang seen by the client", lambda: not pair.serving(), 60, step=0.5)
    wait_for(f"the fail count of {CLC} on {active} rising", lambda: scenario.fail_count(pair, active, active) >= 1,
             deep + 120, step=1)
    detected = _first(pair, active, t_hang, rf"Result of monitor operation for {CLC} on {active}: error")
    wait_for("the VIP serving again", pair.serving, 300, step=0.5)
    writer.wait_acked()
    writer.finish()
    assert pair.active(active) == active                     # recovered in place: one failure < threshold
    new = scenario.clc_pid(pair, active)
    assert new and new != pid
    assert scenario.lost(pair, writer.acked) == []
    # the depth-0 monitor saw a live process all along: the failure is the depth-10 monitor's
    failures = pair.view(active).failures
    assert any(f.startswith(f"{CLC}_monitor_{deep * 1000} on {active}") for f in failures), failures
    print(f"\nhung CLC on {active}: detected after {round(detected - t_hang, 1) if detected else '?'} s "
          f"(deep monitor interval {deep} s), restarted in place; {len(writer.acked)} records acknowledged, none lost")
