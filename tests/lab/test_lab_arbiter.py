"""The arbiter on a live pair: added, lost and found again, removed, with the cloud serving throughout.

The arbiter host (cc1, lablib.arbiter) is booted and given uec-clc-ha-arbiter
with apt as an admin would (debconf: the pair's name and secret).  Then the
admin's steps on the serving pair, a client writing through the VIP: `set
Arbiter=cc1's address` and `apply` on clc1, then on clc2.  The first apply
must hold corosync's reload (clc1 still counts two_node votes), the second
reloads both nodes: from then on both count three votes with the arbiter's
(corosync-quorumtool), corosync-qdevice is connected on both
(corosync-qdevice-tool), qnetd on cc1 lists both nodes, and the CIB has no
fencing delay (priority-fencing-delay 0).  The arbiter host's power is cut:
the pair keeps quorum (two votes of three) and the cloud serves; it comes
back and both nodes reconnect.  Then the arbiter is removed the same way and
two_node returns with the fencing delay.  Each step: the Cloud Controller
keeps its PID, no cloud resource starts or stops, nothing acknowledged is
lost; the client's longest gap is printed.
"""

import re

import pytest

from lablib import arbiter, config, scenario
from lablib.observe import wait_for

# Run by `make lab-test`; `make test` leaves it out (CI's time limit, see pytest.ini).
pytestmark = pytest.mark.lab_extended


def quorum(lab, node):
    """corosync-quorumtool -s on node: {"expected": N, "total": N, "flags": {...}}."""
    text = lab.exec(node, "corosync-quorumtool", "-s", timeout=60, check=False).stdout
    field = dict(re.findall(r"^([A-Z][\w ]+?):\s+(.*?)\s*$", text, re.M))
    return {"expected": int(field.get("Expected votes", "0")), "total": int(field.get("Total votes", "0")),
            "flags": set(field.get("Flags", "").split()), "text": text}


def qdevice_connected(lab, node):
    text = lab.exec(node, "corosync-qdevice-tool", "-s", timeout=60, check=False).stdout
    return re.search(r"^\s*State:\s+Connected", text, re.M) is not None


def fencing_delay(lab, node):
    done = lab.exec(node, "crm_attribute", "-t", "crm_config", "-n", "priority-fencing-delay", "-G", "-q",
                    timeout=60, check=False)
    return done.stdout.strip() if done.rc == 0 else None


def voting_with_arbiter(lab):
    return all(quorum(lab, n)["expected"] == 3 and "Qdevice" in quorum(lab, n)["flags"]
               and qdevice_connected(lab, n) for n in config.NODES)


def test_the_arbiter_added_lost_and_removed_on_a_live_pair(pair):
    out = _Out()
    delay_before = fencing_delay(pair, "clc1")
    arbiter.boot(out)
    arbiter.install(out)

    watch = scenario.Watch(pair, "arbiter-add")
    said = arbiter.add(out)
    assert "run `uec-clc-ha-ctl apply` on clc2" in said["clc1"], said["clc1"]
    wait_for("both nodes voting with the arbiter's vote", lambda: voting_with_arbiter(pair), 300, step=3)
    listed = pair.exec(config.ARBITER, "corosync-qnetd-tool", "-lv", timeout=60).stdout
    print(f"\n--- corosync-qnetd-tool -lv on {config.ARBITER}\n{listed}"
          f"--- corosync-qdevice-tool -sv on clc1\n"
          f"{pair.exec('clc1', 'corosync-qdevice-tool', '-sv', timeout=60, check=False).stdout}"
          f"--- corosync-quorumtool -s on clc1\n{quorum(pair, 'clc1')['text']}")
    assert "clc1" in listed or config.NODES["clc1"]["public"] in listed, listed
    for node in config.NODES:
        assert quorum(pair, node)["total"] == 3 and "2Node" not in quorum(pair, node)["flags"]
        assert fencing_delay(pair, node) in ("0", "0s"), fencing_delay(pair, node)
        dry = pair.exec(node, "uec-clc-ha-ctl", "apply", "--dry-run", timeout=300).stdout
        assert "would run" not in dry, dry
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, watch.active) == watch.pid and not set(touched) & scenario.CLOUD, touched
    print(f"\narbiter added on the live pair: client's longest gap {gap:.1f} s, "
          f"{len(watch.writer.acked)} records, none lost; started/stopped: {touched}")

    # the arbiter host lost: two votes of three keep quorum, the cloud serves on
    watch = scenario.Watch(pair, "arbiter-lost")
    assert arbiter.power_off()
    wait_for("corosync-qdevice noticing the arbiter is gone",
             lambda: not any(qdevice_connected(pair, n) for n in config.NODES), 120, step=3)
    for node in config.NODES:
        q = quorum(pair, node)
        assert "Quorate" in q["flags"] and q["total"] == 2, q["text"]
    assert pair.serving()
    pair.boot(config.ARBITER)
    wait_for("both nodes voting with the arbiter's vote again", lambda: voting_with_arbiter(pair), 300, step=3)
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, watch.active) == watch.pid and not set(touched) & scenario.CLOUD, touched
    print(f"arbiter host powered off and on: the pair kept quorum, client's longest gap {gap:.1f} s")

    # removed: two_node again, the fencing delay back
    watch = scenario.Watch(pair, "arbiter-remove")
    arbiter.remove(out)
    wait_for("both nodes back on two_node",
             lambda: all("2Node" in quorum(pair, n)["flags"] and quorum(pair, n)["expected"] == 2
                         for n in config.NODES), 300, step=3)
    for node in config.NODES:
        assert pair.exec(node, "systemctl", "is-active", "corosync-qdevice.service", check=False).stdout.strip() \
            != "active"
        assert fencing_delay(pair, node) == delay_before
    gap, touched = watch.finish()
    assert scenario.clc_pid(pair, watch.active) == watch.pid and not set(touched) & scenario.CLOUD, touched
    print(f"arbiter removed: client's longest gap {gap:.1f} s, none lost; started/stopped: {touched}")
    arbiter.power_off()


class _Out:
    """What lablib.arbiter says, printed as it comes (pytest -s shows it with the scenario's lines)."""

    def write(self, text):
        print(text, end="")
