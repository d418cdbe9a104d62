"""cluster-init's stages against a scripted node (no real tools): the decisions, and the commands they run.

The whole path runs for real in the VM lab (tests/lab); here each decision
is played through a System whose run() answers like systemctl, sbd,
crm_node, cibadmin and drbdadm would, and records what was run.
"""

import io

import pytest

from cib_model import Cib
from fake_clock import Clock
from scenarios import write_settings
from uec_clc_ha.cluster import cluster_init, live_apply, node_facts, stored_cib
from uec_clc_ha.config import pipeline, settings, settings_file
from uec_clc_ha.errors import CommandFailure, Refused, Waiting
from uec_clc_ha.host import paths, unit_record
from uec_clc_ha.host.system import Completed, System

HEADER = "==Header on disk /dev/disk/by-id/virtio-sbdshared is dumped\nTimeout (watchdog)   : {w}\n" \
         "Timeout (msgwait)    : {m}\n==Header on disk is dumped\n"


class Node(System):
    def __init__(self, root, header=None, members=("clc1",), quorate=False, start_failures=0, readers=(),
                 role="Secondary", failing="sbd"):
        super().__init__(root)
        self.header, self.members, self.quorate = header, list(members), quorate
        self.readers, self.role = set(readers), role        # nodes whose sbd clears a ping; DRBD's role here
        self.slots = {"clc1": "clear", "clc2": "clear"}      # `sbd list`: each node's slot and its message
        self.start_failures, self.failing = start_failures, failing     # what fails a start: "sbd", "corosync", other
        self.sbd_failed = False
        self.corosync_result = "success"
        self.cluster_name = None        # what a running corosync's cmap says (totem.cluster_name)
        self.active = set()
        self.enabled = {"sbd.service"}
        self.calls = []
        self.cib = Cib()

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        rc, out = 0, ""
        cib = self.cib.answer(self, argv)
        if cib is not None:
            rc, out = cib
        elif argv[:2] == ["sbd", "-d"] and argv[-1] == "dump":
            rc, out = (0, HEADER.format(w=self.header[0], m=self.header[1])) if self.header else (1, "")
        elif argv[:2] == ["sbd", "-d"] and argv[-1] == "create":
            self.header = (int(argv[argv.index("-1") + 1]), int(argv[argv.index("-4") + 1]))
        elif argv[:2] == ["sbd", "-d"] and argv[-2] == "ping":
            self.slots[argv[-1]] = "clear" if argv[-1] in self.readers else "test"    # and exits 0 either way
        elif argv[:2] == ["sbd", "-d"] and argv[-1] == "list":
            out = "".join(f"{i}\t{n}\t{m}\tclc1\n" for i, (n, m) in enumerate(sorted(self.slots.items())))
        elif argv[0] == "systemctl":
            verb, units = (argv[2], argv[3:]) if argv[1] == f"--root={self.root}" else (argv[1], argv[2:])
            if verb == "is-enabled":
                out = "enabled" if units[0] in self.enabled else "disabled"
            elif verb == "is-active":
                rc, out = (0, "active") if units[0] in self.active else (3, "inactive")
            elif verb == "is-failed":
                out = "failed" if self.sbd_failed else "active"
            elif verb == "show" and units[-1] == "corosync.service":
                out = self.corosync_result
            elif verb == "reset-failed":
                self.sbd_failed = False
                self.corosync_result = "success"
            elif verb == "enable":
                self.enabled.update(units)
            elif verb == "disable":
                self.enabled.difference_update(units)
            elif verb == "stop":
                self.active.difference_update(units)
            elif verb == "start":
                if self.start_failures:
                    self.start_failures -= 1
                    self.sbd_failed = self.failing == "sbd"
                    self.corosync_result = "signal" if self.failing == "corosync" else "exit-code"
                    rc, out = 1, "A dependency job for pacemaker.service failed."
                else:
                    self.active.update(units)
        elif argv[:3] == ["corosync-cmapctl", "-g", "totem.cluster_name"]:
            running = "corosync.service" in self.active and self.cluster_name
            rc, out = (0, f"totem.cluster_name (str) = {self.cluster_name}") if running else (1, "")
        elif argv[0] == "service" and argv[-1] == "status":          # an init script's status, without systemd
            rc = 0 if f"{argv[1]}.service" in self.active else 3
        elif argv[:2] == ["crm_node", "-l"]:
            out = "".join(f"{i} {n} member\n" for i, n in enumerate(self.members, 1))
        elif argv[:2] == ["crm_node", "-q"]:
            out = "1" if self.quorate else "0"
        elif argv[:2] == ["drbdadm", "role"]:
            out = f"{self.role}/Unknown"
        elif argv[0] == "wipefs":
            out = ""
        elif argv[:2] == ["blockdev", "--getsize64"]:
            out = "134217728"
        elif argv[:2] == ["pacemakerd", "--version"]:
            out = "Pacemaker 2.1.5\nWritten by Andrew Beekhof and the Pacemaker project contributors"
        if rcs is not None and rc not in rcs:
            from uec_clc_ha.errors import CommandFailure
            raise CommandFailure(argv, rc, out)
        return Completed(tuple(argv), rc, out + "\n", "")

    def which(self, tool):
        return f"/usr/sbin/{tool}"


def prepared(tmp_path, local="clc1", **kwargs):
    node = Node(str(tmp_path / "root"), **kwargs)
    node.makedirs("/run/systemd/system")
    node.write_atomic("/dev/watchdog", "")
    node.write_atomic("/dev/disk/by-id/virtio-sbdshared", "")
    node.write_atomic("/dev/vdb1", "")
    node.write_atomic("/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\n')
    overrides = {} if local == "clc1" else {
        "Local-Node": "clc2", "Peer-Node": "clc1", "Local-Address": "198.51.100.12", "Peer-Address": "198.51.100.11",
        "Replication-Local-Address": "203.0.113.2", "Replication-Peer-Address": "203.0.113.1"}
    write_settings(node, "corosync-drbd84", **overrides)
    built = pipeline.build(node, settings_file.load(node))
    pipeline.apply(node, pipeline.plan(node, built.files))
    return node, settings.require_valid(settings_file.load(node))


def stages(node, config, yes=True, force=False):
    clock = Clock()
    return cluster_init.Stages(node, config, io.StringIO(), yes, force, clock=clock, sleep=clock.sleep)


def test_no_watchdog_is_refused_loudly_with_the_way_out(tmp_path):
    node, c = prepared(tmp_path)
    node.remove("/dev/watchdog")
    with pytest.raises(Refused) as e:
        stages(node, c).sbd()
    assert "WARNING: there is no watchdog /dev/watchdog" in str(e.value)
    assert "modprobe softdog" in str(e.value) and "not one that hangs hard" in str(e.value)
    assert not [a for a in node.calls if a[-1] == "create"]


def test_the_initial_primary_writes_the_header_with_the_settings_timeouts(tmp_path):
    node, c = prepared(tmp_path)
    s = stages(node, c)
    s.sbd()
    assert ["sbd", "-d", "/dev/disk/by-id/virtio-sbdshared", "-1", "5", "-4", "10", "create"] in node.calls
    assert "sbd.service" in node.enabled


def test_writing_the_header_needs_yes(tmp_path):
    node, c = prepared(tmp_path)
    with pytest.raises(Refused) as e:
        stages(node, c, yes=False).sbd()
    assert "whatever the device holds is lost" in str(e.value) and node.header is None


def test_the_other_node_never_writes_the_header_and_waits_for_it(tmp_path):
    node, c = prepared(tmp_path, local="clc2")
    with pytest.raises(Waiting) as e:
        stages(node, c).sbd()
    assert "the initial primary (clc1) writes it" in str(e.value)
    assert not [a for a in node.calls if a[-1] == "create"]


def test_a_header_with_other_timeouts_is_refused_without_force(tmp_path):
    node, c = prepared(tmp_path, header=(15, 30))
    with pytest.raises(Refused) as e:
        stages(node, c).sbd()
    assert "watchdog 15 s and msgwait 30 s" in str(e.value) and "--force" in str(e.value)
    stages(node, c, force=True).sbd()
    assert node.header == (5, 10)
    assert [a[-2:] for a in node.calls if a[-2:-1] == ["ping"]] == [["ping", "clc1"], ["ping", "clc2"]]


@pytest.mark.parametrize("readers", [("clc2",), ("clc1", "clc2")])
def test_a_new_header_is_refused_while_an_sbd_still_reads_the_device(tmp_path, readers):
    node, c = prepared(tmp_path, header=(15, 30), readers=readers)
    with pytest.raises(Refused) as e:
        stages(node, c, force=True).sbd()
    assert f"sbd still reads /dev/disk/by-id/virtio-sbdshared on {' and '.join(readers)}" in str(e.value)
    assert "maintenance-mode=true" in str(e.value) and "Nothing was written" in str(e.value)
    assert node.header == (15, 30) and not [a for a in node.calls if a[-1] == "create"]


def test_a_node_without_a_slot_has_no_sbd_reading_it_and_a_message_other_than_test_counts_as_read(tmp_path):
    node, c = prepared(tmp_path, header=(15, 30))
    node.slots = {"clc1": "clear"}                  # clc2's sbd never ran: `sbd ping clc2` finds no slot
    stages(node, c, force=True).sbd()
    assert node.header == (5, 10)
    node, c = prepared(tmp_path / "again", header=(15, 30))

    def reset_written(argv, rcs=(0,), run=node.run, **kwargs):   # a fencing's reset lands in clc2's slot
        done = run(argv, rcs, **kwargs)
        if list(argv[-2:]) == ["ping", "clc2"]:
            node.slots["clc2"] = "reset"
        return done
    node.run = reset_written
    with pytest.raises(Refused) as e:
        stages(node, c, force=True).sbd()
    assert "sbd still reads /dev/disk/by-id/virtio-sbdshared on clc2" in str(e.value) and node.header == (15, 30)


CIB_MAINTENANCE = """<cib><configuration><crm_config><cluster_property_set id="cib-bootstrap-options">
<nvpair id="o-mm" name="maintenance-mode" value="{}"/></cluster_property_set></crm_config></configuration></cib>"""


def test_a_primary_drbd_is_left_as_it_is_when_the_stored_cib_is_in_maintenance(tmp_path):
    node, c = prepared(tmp_path, role="Primary")
    node.write_atomic("/var/lib/pacemaker/cib/cib.xml", CIB_MAINTENANCE.format("true"))
    stages(node, c).drbd()
    assert not [a for a in node.calls if a[:2] in (["drbdadm", "secondary"], ["umount"])]
    node.write_atomic("/var/lib/pacemaker/cib/cib.xml", CIB_MAINTENANCE.format("false"))
    stages(node, c).drbd()
    assert ["drbdadm", "secondary", "uec-clc"] in node.calls          # no maintenance: handed to Pacemaker


def test_the_stored_cib_is_read_for_maintenance_mode_only_as_pacemaker_would(tmp_path):
    node, _ = prepared(tmp_path)
    assert not stored_cib.in_maintenance(node)                   # no CIB yet
    for value, expected in (("true", True), ("on", True), ("false", False)):
        node.write_atomic("/var/lib/pacemaker/cib/cib.xml", CIB_MAINTENANCE.format(value))
        assert stored_cib.in_maintenance(node) is expected
    node.write_atomic("/var/lib/pacemaker/cib/cib.xml", "<cib><configuration")
    assert not stored_cib.in_maintenance(node)                   # torn: Pacemaker would not start from it


def test_other_fencing_disables_sbd(tmp_path):
    node, c = prepared(tmp_path)
    c = settings.require_valid(dict(settings_file.load(node), **{"Fencing": "none"}))
    stages(node, c).sbd()
    assert "sbd.service" not in node.enabled


def staged(system, config, out, yes, force):
    clock = Clock()
    return cluster_init.Stages(system, config, out, yes, force, clock=clock, sleep=clock.sleep)


def test_alone_it_loads_the_cib_and_says_it_waits_for_the_peer(tmp_path, monkeypatch):
    node, c = prepared(tmp_path, header=(5, 10))
    with pytest.raises(Waiting) as e:
        cluster_init.init(node, c, io.StringIO(), yes=True, stages_class=staged)
    assert "waits for clc2" in str(e.value) and "wait_for_all" in str(e.value)
    assert ["crm", "configure", "load", "update", "/etc/uec-clc-ha/cluster.crm"] in node.calls
    assert {"corosync.service", "pacemaker.service"} <= node.enabled


def test_once_the_cib_answers_it_publishes_this_nodes_facts_for_doctor_also_while_it_waits(tmp_path, monkeypatch):
    # the first node waits for its peer: the peer's doctor must find what this node's doctor would publish
    monkeypatch.setattr(node_facts, "is_block_device", lambda system, path: system.exists(path))
    node, c = prepared(tmp_path, header=(5, 10))
    out = io.StringIO()
    with pytest.raises(Waiting):
        cluster_init.init(node, c, out, yes=True, stages_class=staged)
    raw = pipeline.load_raw(node)
    facts = node_facts.compute(node, raw, c)
    assert node.cib.node_attrs["clc1"] == facts.attributes() == {
        node_facts.DIGEST_ATTR: facts.digest, node_facts.DISK_ATTR: "134217728",
        node_facts.RELEASE_ATTR: "debian=12 pacemaker=2.1.5"}
    loaded = node.calls.index(["crm", "configure", "load", "update", "/etc/uec-clc-ha/cluster.crm"])
    first_write = next(i for i, a in enumerate(node.calls) if a[:3] == ["crm_attribute", "--type", "nodes"]
                       and "--update" in a)
    assert loaded < first_write                                   # after the CIB stage: the CIB answers
    assert "cluster-init: published for doctor on clc2: uec-clc-ha-settings, uec-clc-ha-disk-bytes, " \
        "uec-clc-ha-release (node attributes of clc1)" in out.getvalue()


def test_a_cib_that_does_not_take_the_facts_does_not_fail_cluster_init(tmp_path, monkeypatch):
    class Refusing(Node):
        def run(self, argv, rcs=(0,), **kwargs):
            if list(argv[:3]) == ["crm_attribute", "--type", "nodes"] and "--update" in argv:
                self.calls.append(list(argv))
                raise CommandFailure(list(argv), 13, "Error performing operation: Permission denied")
            return super().run(argv, rcs, **kwargs)
    node, c = prepared(tmp_path, header=(5, 10))
    refusing = Refusing(node.root, header=(5, 10), members=("clc1", "clc2"), quorate=True)
    refusing.makedirs("/run/systemd/system")
    out = io.StringIO()

    class Serving(cluster_init.Stages):
        def serving(self, seconds):
            return "clc1"
    clock = Clock()
    where = cluster_init.init(refusing, c, out, yes=True, stages_class=lambda *a: Serving(*a, clock=clock,
                                                                                         sleep=clock.sleep))
    assert where == "clc1"
    lines = [line for line in out.getvalue().splitlines() if "published" in line]
    assert len(lines) == 1 and lines[0].startswith("cluster-init: not published for doctor on clc2: "
                                                   "uec-clc-ha-settings: command crm_attribute"), out.getvalue()


class RacedNode(Node):
    """The peer's cluster-init loads the same cluster.crm between this node's read of the CIB and its patch:
    crmsh's load fails ("could not patch cib"), and the CIB holds the file, stamped by the peer."""

    def run(self, argv, rcs=(0,), **kwargs):
        if list(argv[:4]) == ["crm", "configure", "load", "update"] and not getattr(self, "raced", False):
            self.raced = True
            self.calls.append(list(argv))
            content = self.read_bytes(argv[4])
            self.cib.load_text(content.decode())
            peer = type("Peer", (), {"local_node": "clc2", "image_store_proxy": self.config.image_store_proxy,
                                     "source_address_route": self.config.source_address_route})
            self.cib.answer(self, list(live_apply.stamp_argv(peer, content)))
            raise CommandFailure(list(argv), 1, "ERROR: could not patch cib (rc=78)")
        return super().run(argv, rcs, **kwargs)


def test_a_load_the_peers_load_overtook_is_read_again_and_not_repeated(tmp_path):
    node, c = prepared(tmp_path, header=(5, 10))
    raced = RacedNode(node.root, header=(5, 10))
    raced.config = c
    s = stages(raced, c)
    s.cib()
    loads = [a for a in raced.calls if a[:4] == ["crm", "configure", "load", "update"]]
    assert len(loads) == 1                        # the peer's load stands: noted, not loaded again
    assert "the CIB changed under the load" in s.out.getvalue() and "could not patch cib" in s.out.getvalue()
    assert live_apply.applied(raced).get("/etc/uec-clc-ha/cluster.crm") == live_apply.digest(
        raced.read_bytes("/etc/uec-clc-ha/cluster.crm"))


def test_a_load_that_keeps_failing_fails_after_three_attempts(tmp_path):
    class Broken(Node):
        def run(self, argv, rcs=(0,), **kwargs):
            if list(argv[:4]) == ["crm", "configure", "load", "update"]:
                self.calls.append(list(argv))
                raise CommandFailure(list(argv), 1, "ERROR: bad")
            return super().run(argv, rcs, **kwargs)
    node, c = prepared(tmp_path, header=(5, 10))
    broken = Broken(node.root, header=(5, 10))
    with pytest.raises(CommandFailure):
        stages(broken, c).cib()
    assert len([a for a in broken.calls if a[:4] == ["crm", "configure", "load", "update"]]) == 3


def test_sbd_giving_up_its_start_up_is_retried(tmp_path):
    node, c = prepared(tmp_path, header=(5, 10), start_failures=1)
    s = stages(node, c)
    s.stack()
    starts = [a for a in node.calls if a[:2] == ["systemctl", "start"]]
    assert len(starts) == 2 and "pacemaker.service" in node.active
    assert ["systemctl", "reset-failed", "sbd.service", "corosync.service", "pacemaker.service"] in node.calls


def test_corosync_dying_on_a_signal_while_joining_is_retried(tmp_path):
    # corosync 3.1.9 aborted (SIGABRT) when the peer's quorum device registered in the middle of the join (lab)
    node, c = prepared(tmp_path, header=(5, 10), start_failures=1, failing="corosync")
    stages(node, c).stack()
    assert len([a for a in node.calls if a[:2] == ["systemctl", "start"]]) == 2 and "pacemaker.service" in node.active


def test_a_start_that_fails_otherwise_is_not_retried(tmp_path):
    node, c = prepared(tmp_path, header=(5, 10), start_failures=1, failing="config")
    with pytest.raises(CommandFailure):
        stages(node, c).stack()
    assert len([a for a in node.calls if a[:2] == ["systemctl", "start"]]) == 1


def test_the_heartbeat_stack_is_not_brought_up_here(tmp_path):
    node, c = prepared(tmp_path)
    c = settings.require_valid(dict(settings_file.load(node), **{"Cluster-Stack": "heartbeat", "Fencing": "none",
                                                                  "Fencing-Delay": "0"}))
    with pytest.raises(Refused) as e:
        stages(node, c).files()
    assert "legacy Pacemaker 1.x" in str(e.value)


def record(node):
    return unit_record.recorded(node)


def test_the_units_are_recorded_as_they_were_before_the_stack_is_enabled_and_started(tmp_path):
    node, c = prepared(tmp_path, header=(5, 10))        # sbd enabled already (Debian enables it), nothing runs
    s = stages(node, c)
    s.sbd()
    assert record(node) == {}                           # sbd needed no change
    s.stack()
    assert record(node) == {"corosync.service": ("disabled", "inactive"), "pacemaker.service": ("disabled", "inactive"),
                            "sbd.service": ("enabled", "inactive")}
    assert {"corosync.service", "pacemaker.service"} <= node.enabled and "pacemaker.service" in node.active
    first = node.read(paths.CLUSTER_UNITS)
    node.enabled.discard("corosync.service")            # the admin's change since; cluster-init again
    node.active.clear()
    stages(node, c).stack()
    assert node.read(paths.CLUSTER_UNITS) == first       # the first record stays


def test_a_unit_disabled_for_the_settings_is_recorded_first(tmp_path):
    node, c = prepared(tmp_path)
    c = settings.require_valid(dict(settings_file.load(node), **{"Fencing": "none"}))
    node.enabled.add("drbd.service")
    s = stages(node, c)
    s.sbd()
    s.drbd()
    assert record(node) == {"sbd.service": ("enabled", "inactive"), "drbd.service": ("enabled", "inactive")}
    assert not {"sbd.service", "drbd.service"} & node.enabled


def test_nothing_is_recorded_for_a_unit_left_as_it_is(tmp_path):
    node, c = prepared(tmp_path, header=(5, 10))
    node.enabled |= {"corosync.service", "pacemaker.service"}
    node.active |= {"corosync.service", "pacemaker.service"}
    s = stages(node, c)
    s.drbd()                                            # drbd.service is disabled already
    s.stack()                                           # everything enabled and running
    assert not node.exists(paths.CLUSTER_UNITS)


def test_without_systemd_the_init_scripts_are_recorded_before_update_rc_d(tmp_path):
    node, c = prepared(tmp_path, header=(5, 10))
    node.remove_tree("/run/systemd")
    node.write_atomic("/etc/init.d/corosync", "#!/bin/sh\n", mode=0o755)
    stages(node, c).enable("corosync.service")
    assert record(node) == {"corosync.service": ("disabled", "inactive")}
    assert node.calls[-1] == ["update-rc.d", "corosync", "enable"]


def test_the_pair_formed_is_kept_as_evidence_and_a_lone_node_keeps_none(tmp_path):
    node, c = prepared(tmp_path, header=(5, 10))
    with pytest.raises(Waiting):
        cluster_init.init(node, c, io.StringIO(), yes=True, membership_wait=10, stages_class=lambda *a: stages(*a[:2]))
    assert not node.exists(paths.PAIRED) and paths.PAIRED_ATTR not in node.cib.node_attrs.get("clc1", {})
    assert record(node)["corosync.service"] == ("disabled", "inactive")
    node.members, node.quorate = ["clc1", "clc2"], True
    assert stages(node, c).membership(10) is True
    assert node.read(paths.PAIRED).rstrip().endswith(": clc1 with clc2")
    assert node.cib.node_attrs["clc1"][paths.PAIRED_ATTR] == "clc2"


@pytest.mark.parametrize("running, restarted", [("debian", True), ("uec-clc", False)])
def test_a_corosync_running_another_cluster_is_restarted_with_the_generated_files(tmp_path, running, restarted):
    """Debian's corosync and pacemaker start at their own install with corosync's corosync.conf (cluster "debian",
    one node on localhost): stopped and started again with the pair's.  The pair's own cluster is left running."""
    node, c = prepared(tmp_path, header=(5, 10))
    node.active.update({"corosync.service", "pacemaker.service", "sbd.service"})     # Debian's sbd: watchdog only
    node.cluster_name = running
    s = stages(node, c)
    s.stack()
    stops = [a for a in node.calls if a[:2] == ["systemctl", "stop"]]
    starts = [a for a in node.calls if a[:2] == ["systemctl", "start"]]
    if restarted:
        assert stops == [["systemctl", "stop", "pacemaker.service", "corosync.service"]]
        assert node.calls.index(stops[0]) < node.calls.index(starts[0])
        assert "corosync runs the cluster 'debian'" in s.out.getvalue()
        assert record(node)["corosync.service"][1] == "active"        # purge leaves Debian's stack as it found it
        assert record(node)["sbd.service"][1] == "active"             # recorded before corosync's stop took it
    else:
        assert stops == [] and starts == []
    assert {"corosync.service", "pacemaker.service"} <= node.active


def test_the_cib_debians_cluster_left_is_set_aside_before_pacemaker_starts_the_pairs(tmp_path):
    """Debian's Pacemaker ran corosync's own cluster and kept its CIB (node1, cluster-name debian): the pair's
    cluster starts from an empty CIB, the old one is kept for purge to put back."""
    node, c = prepared(tmp_path, header=(5, 10))
    node.active.update({"corosync.service", "pacemaker.service"})
    node.cluster_name = "debian"
    debians = ('<cib><configuration><crm_config><cluster_property_set id="o"><nvpair id="n" name="cluster-name" '
               'value="debian"/></cluster_property_set></crm_config><nodes><node id="1" uname="node1"/></nodes>'
               '<resources/></configuration></cib>')
    node.write_atomic(paths.PACEMAKER_CIB, debians)
    seen = {}
    real_run = node.run

    def run(argv, **kwargs):
        if argv[:2] == ["systemctl", "start"]:
            seen.setdefault("cib at start", node.listdir("/var/lib/pacemaker/cib"))
        return real_run(argv, **kwargs)
    node.run = run
    s = stages(node, c)
    s.stack()
    assert seen == {"cib at start": []}
    assert node.read(paths.SAVED_CIB + "/cib.xml") == debians
    said = s.out.getvalue()
    assert "it is the CIB of the cluster 'debian'" in said and paths.SAVED_CIB in said


def test_a_stored_cib_with_the_pairs_resources_is_never_set_aside(tmp_path):
    """The pair's own CIB (a stack stopped for new SBD timeouts, a reboot) is where Pacemaker starts from."""
    node, c = prepared(tmp_path, header=(5, 10))
    ours = ('<cib><configuration><crm_config/><nodes><node id="1" uname="clc1"/></nodes><resources><primitive '
            'id="res_uec" class="ocf" provider="ubuntu" type="eucaclc"/></resources></configuration></cib>')
    node.write_atomic(paths.PACEMAKER_CIB, ours)
    stages(node, c).stack()
    assert node.read(paths.PACEMAKER_CIB) == ours and not node.exists(paths.SAVED_CIB)
