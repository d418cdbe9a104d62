"""`uec-clc-ha-ctl status` against outputs recorded on the lab pair (tests/fixtures/status/RELEASE/STATE/NODE.json).

Each fixture holds what the product's own sources (pair_status.sources)
printed on one lab node in one state, captured with `lab/labctl
capture STATE` (its "command" key); collect() must read each state the
way an admin would: where the cloud runs, what is wrong, and the exit code.
The DRBD 9 reader is checked against a document of the shape drbd-utils 9
prints (the lab's stock kernel has the 8.4 module, so none is captured).
"""

import glob
import io
import json
import os

import pytest

from checkout import TOP
from scenarios import QDEVICE_SV, node_config, write_settings
from uec_clc_ha.cluster import pair_status
from uec_clc_ha.cli import status as status_cmd
from uec_clc_ha.host.system import Completed, System

FIXTURES = os.path.join(TOP, "tests", "fixtures", "status")
# Each Debian release the pair runs on: its Pacemaker prints crm_mon's XML its own way (2.1.5, 3.0).
RELEASES = ("bookworm", "trixie")
HEALTHY = {"url": "https://198.51.100.100:8443/register", "healthy": True, "problem": None}

# state -> (expected state word, a problem that must be named, or None); a state whose two sides differ
# maps each node to its own expectation.
EXPECTED = {
    "normal": ("serving", None),
    "failing-over": ("not-serving", "the cloud's group does not run on one node"),
    "one-node-down": ("degraded", "is offline: no standby node"),
    "resyncing": ("degraded", "DRBD resync"),
    # clc2's links cut: clc1 fenced it and serves; clc2 booted alone, waits for its peer, runs nothing
    "partitioned": {"clc1": ("degraded", "clc2 is offline: no standby node"),
                    "clc2": ("not-serving", "this node's partition is not quorate: it waits to see its peer")},
}
ALONE = {("partitioned", "clc2")}       # (state, node) of a node that booted alone: no quorum, no DC


def fixtures():
    return sorted(glob.glob(os.path.join(FIXTURES, "*", "*", "*.json")))


def load(path):
    with open(path) as fh:
        return json.load(fh)


def config_for(node):
    return node_config(node)


@pytest.mark.parametrize("release", RELEASES)
def test_every_expected_state_was_captured(release):
    captured = {os.path.basename(os.path.dirname(p)) for p in fixtures()
                if os.path.relpath(p, FIXTURES).split(os.sep)[0] == release}
    assert set(EXPECTED) <= captured, \
        f"capture the missing states on a {release} lab: {set(EXPECTED) - captured}"
    assert captured <= set(EXPECTED), f"say what these states must show: {captured - set(EXPECTED)}"


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: os.path.relpath(p, FIXTURES))
def test_recorded_state_reads_as_an_admin_would(path):
    fx = load(path)
    assert fx["command"] == f"lab/labctl capture {fx['state']}"
    assert {n: s["argv"] for n, s in fx["sources"].items()} == pair_status.sources(fx["drbd_version"]), \
        "the fixture was captured with other commands than status runs now: capture it again"
    doc = pair_status.collect(config_for(fx["node"]), fx["sources"], clc=HEALTHY, drift=[])
    want, problem = EXPECTED[fx["state"]] if isinstance(EXPECTED[fx["state"]], tuple) else \
        EXPECTED[fx["state"]][fx["node"]]
    alone = (fx["state"], fx["node"]) in ALONE
    assert doc["state"] == want, doc["problems"]
    assert pair_status.exit_code(doc) == pair_status.STATE_EXIT[want]
    if problem:
        assert any(problem in p for p in doc["problems"]), doc["problems"]
    else:
        assert doc["problems"] == []
    assert doc["cluster"] == "running" and doc["quorum"]["two_node"] is True
    assert doc["quorum"]["quorate"] is (not alone)
    # a node alone without quorum: no DC under Pacemaker 2.1.5, itself as DC (without quorum) under 3.0
    assert doc["dc"] in (None, fx["node"]) if alone else doc["dc"] is not None
    assert doc["fencing"]["enabled"] and doc["fencing"]["devices"] == ["st_sbd"]
    assert doc["fencing"]["delay_seconds"] in (15, 40)      # the package's default; the lab's (LAB_SETTINGS)
    assert doc["drbd"]["resource"] == "uec-clc" if not alone else doc["drbd"] is None   # Pacemaker brings DRBD up
    if want != "not-serving":
        assert doc["active"] in ("clc1", "clc2") and doc["vip"]["on"] == doc["active"]
    if doc["active"] == fx["node"]:
        assert doc["drbd"]["role"] == "Primary"
    text = pair_status.render(doc)
    assert text.startswith(f"uec-clc-ha on {fx['node']}: {want.upper()}")
    assert "\033[" not in text and "\033[" in pair_status.render(doc, colour=True)
    json.dumps(doc)                                     # the --json document is plain data


def test_schema_keys_are_always_present():
    fx = load(fixtures()[0])
    up = pair_status.collect(config_for(fx["node"]), fx["sources"], clc=HEALTHY, drift=[])
    down = pair_status.collect(config_for("clc1"), {}, drift=None)
    assert set(up) == set(down)
    assert down["schema"] == pair_status.SCHEMA


def test_links_are_read_from_corosync_stats_with_node_names():
    fx = load(os.path.join(FIXTURES, "bookworm", "one-node-down", os.listdir(os.path.join(FIXTURES, "bookworm", "one-node-down"))[0]))
    doc = pair_status.collect(config_for(fx["node"]), fx["sources"], clc=HEALTHY, drift=[])
    peer = "clc2" if fx["node"] == "clc1" else "clc1"
    assert doc["nodes"][fx["node"]]["links"] == {}
    assert doc["nodes"][peer]["links"] == {"0": False, "1": False}
    assert not doc["nodes"][peer]["online"]


def test_cluster_down_says_so_and_still_shows_drbd():
    proc = (" 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r-----\n"
            "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0\n")
    outputs = {"crm_mon": {"rc": 102, "stdout": ""}, "drbd": {"rc": 0, "stdout": "version: 8.4.11\n" + proc},
               "links": {"rc": 1, "stdout": ""}, "votequorum": {"rc": 1, "stdout": ""},
               "nodelist": {"rc": 1, "stdout": ""}}
    doc = pair_status.collect(config_for("clc1"), outputs, drift=[])
    assert doc["cluster"] == "down" and doc["state"] == "down"
    assert pair_status.exit_code(doc) == pair_status.EXIT_DOWN
    assert any("does not run on clc1" in p for p in doc["problems"])
    assert any("Primary here without the cluster" in p for p in doc["problems"])
    assert doc["drbd"]["connection"] == "StandAlone"
    assert "not running on this node" in pair_status.render(doc)


def test_unhealthy_clc_is_not_serving_and_drift_is_a_problem():
    fx = load(os.path.join(FIXTURES, "bookworm", "normal", sorted(os.listdir(os.path.join(FIXTURES, "bookworm", "normal")))[0]))
    c = config_for(fx["node"])
    sick = {"url": HEALTHY["url"], "healthy": False, "problem": f"{HEALTHY['url']} did not answer: timed out"}
    doc = pair_status.collect(c, fx["sources"], clc=sick, drift=[])
    assert doc["state"] == "not-serving" and "did not answer" in doc["problems"][0]
    doc = pair_status.collect(c, fx["sources"], clc=HEALTHY, drift=["/etc/corosync/corosync.conf"])
    assert doc["state"] == "degraded"
    assert any("/etc/corosync/corosync.conf" in p for p in doc["problems"])


def test_proc_drbd_resync_progress():
    text = ("version: 8.4.11 (api:1/proto:86-101)\n"
            " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n"
            "    ns:1 nr:0 dw:1 dr:1 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:108540\n"
            "\t[==>.................] sync'ed: 15.3% (108540/127960)K\n"
            "\tfinish: 0:00:10 speed: 1,940 (1,940) K/sec\n")
    d = pair_status.drbd_84(text, 0)
    assert d == {"connection": "SyncSource", "role": "Primary", "peer_role": "Secondary", "disk": "UpToDate",
                 "peer_disk": "Inconsistent", "sync_percent": 15.3, "io_suspended": False}
    assert pair_status.drbd_84(text, 1) is None


def test_drbd_io_held_by_the_fence_peer_handler_is_a_problem_named_with_the_quorum():
    # DRBD 8.4's /proc/drbd while resource-and-stonith holds the writes: the I/O flags begin with "s"
    held = (" 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C s---d-\n"
            "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:12\n")
    assert pair_status.drbd_84("version: 8.4.11\n" + held, 0)["io_suspended"] is True
    assert pair_status.drbd_84("version: 8.4.11\n" + held.replace(" s---d-", " r-----"), 0)["io_suspended"] is False
    fx = load(os.path.join(FIXTURES, "bookworm", "normal", sorted(os.listdir(os.path.join(FIXTURES, "bookworm", "normal")))[0]))
    sources = dict(fx["sources"], drbd=dict(fx["sources"]["drbd"], stdout="version: 8.4.11\n" + held))
    doc = pair_status.collect(config_for(fx["node"]), sources, clc=HEALTHY, drift=[])
    said = [p for p in doc["problems"] if "I/O is suspended" in p]
    assert said and ("without quorum" in said[0]) != doc["quorum"]["quorate"], said
    assert doc["state"] == "degraded" and "I/O suspended" in pair_status.render(doc)


def test_drbd9_status_json():
    doc = [{"name": "uec-clc", "node-id": 0, "role": "Primary",
            "devices": [{"volume": 0, "minor": 0, "disk-state": "UpToDate"}],
            "connections": [{"peer-node-id": 1, "name": "clc2", "connection-state": "Connected",
                             "peer-role": "Secondary",
                             "peer_devices": [{"volume": 0, "replication-state": "SyncSource",
                                               "peer-disk-state": "Inconsistent", "percent-in-sync": 42.5}]}]}]
    d = pair_status.drbd_9(json.dumps(doc), "uec-clc")
    assert d["connection"] == "Connected" and d["peer_disk"] == "Inconsistent" and d["sync_percent"] == 42.5
    assert d["io_suspended"] is False
    assert pair_status.drbd_9(json.dumps([dict(doc[0], suspended=True)]), "uec-clc")["io_suspended"] is True
    doc[0]["connections"][0]["peer_devices"][0].update({"peer-disk-state": "UpToDate", "percent-in-sync": 100})
    assert pair_status.drbd_9(json.dumps(doc), "uec-clc")["sync_percent"] is None
    assert pair_status.drbd_9(json.dumps(doc), "other") is None
    assert pair_status.drbd_9("not json", "uec-clc") is None


class Recorded(System):
    """A node whose tools answer with one recorded lab state."""

    def __init__(self, root, sources):
        super().__init__(root)
        self.sources = sources

    def run(self, argv, rcs=(0,), **kwargs):
        for s in self.sources.values():
            if s["argv"] == list(argv):
                return Completed(tuple(argv), s["rc"], s["stdout"], "")
        return Completed(tuple(argv), 0, "", "")


def test_status_command_json_and_exit_code(root, monkeypatch):
    fx = load(os.path.join(FIXTURES, "bookworm", "one-node-down", sorted(os.listdir(os.path.join(FIXTURES, "bookworm", "one-node-down")))[0]))
    write_settings(root, "corosync-drbd84", **{"Local-Node": fx["node"],
                                               "Peer-Node": "clc2" if fx["node"] == "clc1" else "clc1"})
    proc = fx["sources"]["drbd"]["stdout"]
    os.makedirs(root.path("/proc"), exist_ok=True)
    with open(root.path("/proc/drbd"), "w") as fh:
        fh.write(proc)
    monkeypatch.setattr(status_cmd.clc_health, "register_problem", lambda url, timeout: None)

    class Args:
        settings = None
        json = True
        no_clc_check = False
    out = io.StringIO()
    rc = status_cmd.run(Args, Recorded(root.root, fx["sources"]), out)
    doc = json.loads(out.getvalue())
    assert rc == pair_status.EXIT_DEGRADED and doc["state"] == "degraded"
    assert doc["clc"]["healthy"] is True and doc["clc"]["url"] == "https://198.51.100.100:8443/register"
    assert doc["drift"] is not None               # nothing rendered into this root: every file would be created


@pytest.mark.parametrize("state, cluster", [("running", "running"), ("shutting_down", "down"),
                                            ("starting_daemons", "down")])
def test_pacemakerd_state_of_pacemaker_2_1_6_and_later_is_read_from_the_summary(state, cluster):
    """From Pacemaker 2.1.6 (Debian 13: 3.0) one-shot crm_mon prints no <pacemakerd> element while
    pacemakerd runs or shuts down: the state is the summary's stack pacemakerd-state."""
    fx = load(os.path.join(FIXTURES, "bookworm", "normal", "clc1.json"))
    sources = json.loads(json.dumps(fx["sources"]))
    xml = sources["crm_mon"]["stdout"]
    start = xml.index("<pacemakerd ")
    xml = xml[:start] + xml[xml.index("/>", start) + 2:]
    sources["crm_mon"]["stdout"] = xml.replace('<stack type="corosync"/>',
                                               f'<stack type="corosync" pacemakerd-state="{state}"/>')
    doc = pair_status.collect(config_for("clc1"), sources, clc=HEALTHY, drift=[])
    assert doc["cluster"] == cluster
    assert (doc["state"] == "serving") == (state == "running")


def test_a_fencing_device_that_does_not_run_is_named():
    # a device whose start or monitor failed (a BMC that does not answer): the fencer does not use it
    fx = load(os.path.join(FIXTURES, "bookworm", "normal", "clc1.json"))
    sources = dict(fx["sources"])
    xml = sources["crm_mon"]["stdout"]
    device = '<resource id="st_sbd" resource_agent="stonith:fence_sbd" role="Started"'
    assert device in xml
    sources["crm_mon"] = dict(sources["crm_mon"], stdout=xml.replace(device, device.replace("Started", "Stopped")))
    doc = pair_status.collect(config_for("clc1"), sources, clc=HEALTHY, drift=[])
    assert doc["state"] == "degraded", doc["problems"]
    assert any(p.startswith("fencing device st_sbd does not run (Stopped)") and "doctor" in p
               for p in doc["problems"]), doc["problems"]
    # as recorded (started): nothing said
    assert pair_status.collect(config_for("clc1"), fx["sources"], clc=HEALTHY, drift=[])["problems"] == []


def test_a_failed_fencing_of_the_offline_peer_says_the_cloud_waits_and_how_to_go_on():
    fx = load(os.path.join(FIXTURES, "bookworm", "one-node-down", "clc1.json"))
    xml = fx["sources"]["crm_mon"]["stdout"]
    offline = next(n for n, v in pair_status.crm(xml)["nodes"].items() if not v["online"])
    failed = (f'<fence_history>\n    <fence_event action="reboot" target="{offline}" client="pacemaker-controld.344" '
              f'origin="clc1" status="failed" exit-reason="" delegate="clc1"/>\n')
    assert "<fence_history>\n" in xml
    sources = dict(fx["sources"], crm_mon=dict(fx["sources"]["crm_mon"],
                                               stdout=xml.replace("<fence_history>\n", failed, 1)))
    doc = pair_status.collect(config_for(fx["node"]), sources, clc=HEALTHY, drift=[])
    said = [p for p in doc["problems"] if p.startswith(f"fencing {offline} failed")]
    assert said and "the cloud waits" in said[0] and f"stonith_admin --confirm {offline}" in said[0], doc["problems"]
    # still trying (a device that does not answer: the fencer retries until its timeout)
    sources["crm_mon"]["stdout"] = sources["crm_mon"]["stdout"].replace('status="failed"', 'status="pending"')
    doc = pair_status.collect(config_for(fx["node"]), sources, clc=HEALTHY, drift=[])
    assert any(p.startswith(f"fencing {offline} is not done yet: the cloud waits") for p in doc["problems"]), \
        doc["problems"]
    # as recorded (its fencing succeeded): not said
    doc = pair_status.collect(config_for(fx["node"]), fx["sources"], clc=HEALTHY, drift=[])
    assert not any(p.startswith("fencing ") and " failed" in p for p in doc["problems"]), doc["problems"]


def arbiter_config(node="clc1"):
    return node_config(node, "corosync-arbiter")


def test_the_arbiter_is_read_from_corosync_qdevice_tool():
    assert pair_status.qdevice(QDEVICE_SV) == {"state": "Connected", "host": "198.51.100.13:5403",
                                              "heuristics": "Pass", "vote": True, "tls": True}
    failing = QDEVICE_SV.replace("Yes (cast vote)\nState", "Yes\nState").replace("result:\tPass", "result:\tFail")
    assert pair_status.qdevice(failing)["vote"] is False and pair_status.qdevice(failing)["heuristics"] == "Fail"
    assert pair_status.qdevice("Can't connect to QDevice socket (is QDevice running?): No such file\n") is None
    assert "qdevice" in pair_status.sources("8.4", arbiter=True) and "qdevice" not in pair_status.sources("8.4")


def test_status_shows_the_arbiter_and_names_a_lost_one():
    fx = load(os.path.join(FIXTURES, "trixie", "normal", "clc1.json"))
    outputs = dict(fx["sources"], qdevice={"rc": 0, "stdout": QDEVICE_SV})
    doc = pair_status.collect(arbiter_config(), outputs, clc=HEALTHY, drift=[])
    assert doc["arbiter"] == {"host": "198.51.100.13:5403", "state": "Connected", "connected": True,
                              "heuristics": "Pass", "vote": True, "tls": True}
    assert doc["state"] == "serving", doc["problems"]
    assert "arbiter    198.51.100.13:5403 Connected; heuristics Pass; vote cast; TLS" in pair_status.render(doc)
    lost = QDEVICE_SV.replace("State:\t\t\tConnected", "State:\t\t\tConnect failed")
    doc = pair_status.collect(arbiter_config(), dict(outputs, qdevice={"rc": 0, "stdout": lost}), clc=HEALTHY,
                              drift=[])
    assert doc["state"] == "degraded" and "the arbiter 198.51.100.13:5403 is not connected (Connect failed)" in \
        doc["problems"][0]
    doc = pair_status.collect(arbiter_config(), dict(outputs, qdevice={"rc": 1, "stdout": ""}), clc=HEALTHY,
                              drift=[])
    assert doc["arbiter"]["state"] == "not running" and doc["state"] == "degraded"
    assert pair_status.collect(config_for("clc1"), fx["sources"], clc=HEALTHY, drift=[])["arbiter"] is None


def _alone_with_the_arbiter_lost(node):
    """status of ``node`` on an arbiter pair (the trixie normal fixture) whose partition lost quorum and whose
    corosync-qdevice lost the arbiter."""
    fx = load(os.path.join(FIXTURES, "trixie", "normal", f"{node}.json"))
    crm = dict(fx["sources"]["crm_mon"], stdout=fx["sources"]["crm_mon"]["stdout"].replace(
        'with_quorum="true"', 'with_quorum="false"'))
    lost = QDEVICE_SV.replace("State:\t\t\tConnected", "State:\t\t\tConnect failed")
    return pair_status.collect(arbiter_config(node),
                               dict(fx["sources"], crm_mon=crm, qdevice={"rc": 0, "stdout": lost}), clc=HEALTHY,
                               drift=[])


def test_a_node_alone_with_an_arbiter_says_it_holds_rather_than_waits_for_two_node():
    doc = _alone_with_the_arbiter_lost("clc1")
    said = [p for p in doc["problems"] if p.startswith("this node's partition is not quorate")]
    assert said == ["this node's partition is not quorate: its peer or the arbiter's vote is missing; it starts, "
                    "promotes and fences nothing and holds DRBD's writes until it sees every vote again "
                    "(wait_for_all)"], said
    assert not any("two_node" in p or "stops the cloud" in p for p in doc["problems"]), doc["problems"]
    doc = _alone_with_the_arbiter_lost("clc2")                              # the passive node: no writes to hold
    said = [p for p in doc["problems"] if p.startswith("this node's partition is not quorate")]
    assert doc["drbd"]["role"] == "Secondary" and said and "keeps its DRBD copy as it is until" in said[0], said
