"""`uec-clc-ha-ctl status` and `doctor` on the serving lab pair, as installed by the package.

status (both nodes): SERVING, exit 0, the same active node, VIP and CLC
health seen from either side, DRBD Connected UpToDate/UpToDate, SBD fencing,
and the quorum the pair has: with the arbiter (the lab's default) no
two_node, the arbiter connected, its heuristics passing and its vote
given; without it two_node quorum.  doctor, once on each node (clc1
first), with what it compares published by `apply` alone (cluster-init and
the postinst publish it at install: test_lab_bringup): no failure, each
finds the other's settings digest, disk size and release equal to its own;
the lab's nodes have no time source, the one warning allowed.  The failed-over state is checked in
test_lab_power_loss.py (status on the survivor while the dead node is off).
"""

import json

from lablib import config, scenario

ALLOWED_WARNINGS = {"time"}          # the lab's guests have no NTP server to reach (no route out, by rule)


def test_status_on_both_nodes(pair):
    scenario.restore(pair)
    docs = {}
    for node in config.NODES:
        done = pair.exec(node, "uec-clc-ha-ctl", "status", "--json", timeout=180, check=False)
        docs[node] = json.loads(done.stdout)
        assert done.rc == 0 and docs[node]["state"] == "serving", (node, done.rc, docs[node]["problems"])
    for node, doc in docs.items():
        assert doc["node"] == node and doc["cluster"] == "running"
        assert doc["active"] == docs["clc1"]["active"] and doc["vip"]["on"] == doc["active"]
        assert doc["clc"]["healthy"] is True
        assert doc["quorum"] == {"quorate": True, "two_node": not config.WITH_ARBITER,
                                 "wait_for_all": doc["quorum"]["wait_for_all"]}
        if config.WITH_ARBITER:
            a = doc["arbiter"]
            assert a["host"].startswith(config.ARBITER_HOST["public"]) and a["connected"], a
            assert a["heuristics"] == "Pass" and a["tls"], a
        else:
            assert doc["arbiter"] is None, doc["arbiter"]
        assert doc["drbd"]["connection"] == "Connected" and (doc["drbd"]["disk"], doc["drbd"]["peer_disk"]) == \
            ("UpToDate", "UpToDate")
        probe = scenario.fencing_probe_delay(pair, node) is not None
        assert doc["fencing"]["enabled"] and doc["fencing"]["devices"] == (["st_sbd", "st_sbd_probe"] if probe
                                                                            else ["st_sbd"])
        assert doc["drift"] == []
    text = pair.exec("clc1", "uec-clc-ha-ctl", "status", timeout=180, check=False).stdout
    assert text.startswith("uec-clc-ha on clc1: SERVING") and "\033[" not in text


def _doctor(pair, node):
    done = pair.exec(node, "uec-clc-ha-ctl", "doctor", timeout=300, check=False)
    lines = [line.split(None, 2) for line in done.stdout.splitlines() if line[:4] in ("ok  ", "warn", "fail")]
    return done.rc, {(level, check) for level, check, _ in lines}, done.stdout



def test_doctor_on_either_node_finds_the_pair_safe_and_alike_on_its_first_run(pair):
    """What doctor compares was published by cluster-init and the postinst at install (apply's republishing is
    unit-tested: tests/unit/cli/test_apply.py): doctor once on each node, clc1 first, finds no failure, the other
    node's values equal to its own, and no warning but the time one NTP-less guests give."""
    scenario.restore(pair)
    for node in config.NODES:
        rc, found, text = _doctor(pair, node)
        assert not [c for level, c in found if level == "fail"], text
        assert {c for level, c in found if level == "warn"} <= ALLOWED_WARNINGS, text
        assert {("ok", "same-settings"), ("ok", "drbd-disk"), ("ok", "release")} <= found, text
        assert rc in (0, 1), text
    attrs = pair.exec("clc1", "crm_attribute", "--type", "nodes", "--node", "clc2", "--name", "uec-clc-ha-settings",
                      "--query", "--quiet", timeout=60).stdout.strip()
    assert len(attrs) == 64 and all(c in "0123456789abcdef" for c in attrs)
