"""Power loss of the active node: the survivor serves on the VIP with every acknowledged record.

Records are written through the VIP from the client namespace before and
throughout: a record counts as acknowledged only when the stand-in answered
200, which it does only after it fsynced it (on DRBD, protocol C: on both
disks).  The active VM's qemu is killed (a power cut); the test measures
from the kill to the first HTTP 200 of /register on the VIP at the client,
and takes the parts of that failover from the survivor's journal.  Then the
dead node is powered on again and must rejoin as the in-sync secondary,
without split brain.
"""

import json
import os
import time

import pytest

from lablib import config, scenario
from lablib.observe import guest_clock, milestones, wait_for
from lablib.scenario import Writer


# 416-576 s of make test (2026-12-07); the first partition there proves the survivor's fencing and takeover.
# make lab-test runs it on the default pair and again on the pair without the arbiter.
@pytest.mark.lab_extended
def test_power_loss_of_the_active_node(pair):
    scenario.restore(pair)
    active = pair.active("clc1")
    assert active in config.NODES
    survivor = config.peer(active)
    for i in range(10):
        assert pair.write(f"power-loss-before-{i}")
    writer = Writer(pair, "power-loss-during")
    writer.start()
    writer.wait_acked()
    t_guest = guest_clock(pair, survivor)
    t0 = time.monotonic()
    assert pair.kill(active)
    wait_for("the VIP serving again from the survivor", pair.serving, 300, step=0.5)
    failover = time.monotonic() - t0
    wait_for("a write through the VIP acknowledged after the failover", lambda: pair.write("power-loss-probe"), 60,
             step=0.5)
    writer.stop.set()
    writer.join(30)
    stored = set(pair.records())
    lost = [r for r in [f"power-loss-before-{i}" for i in range(10)] + writer.acked if r not in stored]
    assert lost == [], f"acknowledged records lost in the failover: {lost}"
    # the survivor's own record of the takeover is complete once it has logged the CLC's start
    def takeover():
        found = milestones(pair.journal(survivor, f"@{int(t_guest) - 1}"), t_guest, active, survivor)
        return found if "CLC started" in found else None
    parts = wait_for("the survivor's journal recording the CLC's start", takeover, 120, step=2)
    assert pair.active(survivor) == survivor
    report = {"failover_seconds": round(failover, 1), "parts": parts, "acked_during": len(writer.acked),
              "refused_during": writer.refused, "survivor": survivor, "arbiter": config.WITH_ARBITER}
    with open(os.path.join(config.RUN, "power-loss.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    print(f"\npower loss of {active} ({'with the arbiter' if config.WITH_ARBITER else 'two_node'}): "
          f"kill -> HTTP 200 on the VIP in {failover:.1f} s; "
          f"from the survivor's journal: {parts}")

    # what the admin is told on the survivor while the dead node is off: degraded, the cloud here
    done = pair.exec(survivor, "uec-clc-ha-ctl", "status", "--json", timeout=180, check=False)
    doc = json.loads(done.stdout)
    assert done.rc == 1 and doc["state"] == "degraded", (done.rc, doc["problems"])
    assert doc["active"] == survivor and doc["vip"]["on"] == survivor and doc["clc"]["healthy"] is True
    assert not doc["nodes"][active]["online"] and f"{active} is offline: no standby node" in doc["problems"]
    assert doc["fencing"]["last"]["target"] == active and doc["fencing"]["last"]["status"] == "success"

    # the dead node comes back as the in-sync secondary, without split brain
    pair.boot(active)
    wait_for(f"{active} online again", lambda: (pair.view(survivor) or None) is not None and
             pair.view(survivor).nodes.get(active, {}).get("online"), 600, step=3)
    wait_for("DRBD connected and UpToDate on both", lambda: all(
        pair.drbd(n)[0] == "Connected" and pair.drbd(n)[2] == "UpToDate/UpToDate" for n in config.NODES), 600, step=3)
    assert pair.drbd(survivor)[1] == "Primary/Secondary" and pair.drbd(active)[1] == "Secondary/Primary"
    for node in config.NODES:
        assert "Split-Brain detected" not in pair.sh(node, "journalctl -k --no-pager -b", timeout=60).stdout
    assert pair.active(active) == survivor                  # nothing moves back on its own
    assert set([f"power-loss-before-{i}" for i in range(10)] + writer.acked) <= set(pair.records())
