"""adopt's stages against a scripted node of a hand-built pair (no real tools): what it refuses, in what order it turns.

The whole path runs for real in the VM lab (tests/lab/test_lab_adopt.py:
a pair built the 2010 recipe's way, then adopted while a client writes).
Here each decision is played through a System whose run() answers like
drbdsetup, drbdadm, crm_mon, crm_node, crm_attribute and systemctl would on
one node of such a pair, and records what was run.  crm_mon's answer is a
real one, recorded on the lab (tests/fixtures/status/bookworm/normal).
"""

import io
import json
import os

import pytest

from checkout import TOP
from fake_clock import Clock
from scenarios import write_settings
from uec_clc_ha.cluster import adopt, cluster_init, live_apply, node_facts
from uec_clc_ha.config import pipeline, settings, settings_file
from uec_clc_ha.errors import CommandFailure, NotRunningCleanly, Refused, Waiting
from uec_clc_ha.host import unit_record
from uec_clc_ha.host.system import Completed, System

FIXTURE = os.path.join(TOP, "tests", "fixtures", "status", "bookworm", "normal")
SBD_HEADER = "Timeout (watchdog)   : 5\nTimeout (msgwait)    : 10\n"
DRBDSETUP_SHOW = """resource uec-clc {{
    options {{
    }}
    net {{
    }}
    _remote_host {{
        address\t\t\tipv4 {peer}:7788;
    }}
    _this_host {{
        address\t\t\tipv4 {local}:7788;
        volume 0 {{
            device\t\t\tminor {minor};
            disk\t\t\t"{disk}";
            meta-disk\t\t\tinternal;
            disk {{
                resync-rate\t\t10240k; # bytes/second
            }}
        }}
    }}
}}
"""


def recorded_crm_mon():
    with open(os.path.join(FIXTURE, "clc1.json")) as fh:
        return json.load(fh)["sources"]["crm_mon"]["stdout"]


class Node(System):
    """One node of a running hand-built pair, as the tools would answer."""

    def __init__(self, root, role="Primary", disk="/dev/vdb", minor=0, members=("clc1", "clc2"),
                 leave_after=0, crm_mon="", header=True, drbd=("Connected", "UpToDate/UpToDate")):
        super().__init__(root)
        self.role, self.disk, self.minor = role, disk, minor
        self.members, self.leave_after = list(members), leave_after
        self.crm_mon, self.header, self.drbd = crm_mon, header, drbd
        self.maintenance = ""
        self.peer = "clc2"
        self.turned = False
        self.loaded = True                     # the peer has loaded uec-clc-ha's CIB (cibadmin finds res_uec)
        self.active = {"corosync.service", "pacemaker.service"}
        self.enabled = set()
        self.calls = []

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        rc, out = 0, ""
        if argv[:2] == ["drbdsetup", "show"]:
            here, there = ("203.0.113.2", "203.0.113.1") if self.peer == "clc1" else ("203.0.113.1", "203.0.113.2")
            out = DRBDSETUP_SHOW.format(local=here, peer=there, minor=self.minor, disk=self.disk)
        elif argv[:2] == ["drbdadm", "role"]:
            out = f"{self.role}/{'Secondary' if self.role == 'Primary' else 'Primary'}"
        elif argv[:2] == ["drbdadm", "cstate"]:
            out = self.drbd[0]
        elif argv[:2] == ["drbdadm", "dstate"]:
            out = self.drbd[1]
        elif argv[:2] == ["crm_mon", "-1"]:
            out = self.crm_mon
        elif argv[0] == "crm_attribute" and "maintenance-mode" in argv:
            if "--update" in argv:
                self.maintenance = argv[argv.index("--update") + 1]
            elif "--delete" in argv:
                self.maintenance = ""
            else:
                rc, out = (0, self.maintenance) if self.maintenance else (6, "")
        elif argv[:2] == ["crm_node", "-l"]:
            if self.leave_after <= 0 and self.peer in self.members and self.role == "Primary" \
                    and not self.turned:                      # the hand-built cluster: the peer leaves it
                self.members.remove(self.peer)
            self.leave_after -= 1
            out = "".join(f"{i} {n} member\n" for i, n in enumerate(self.members, 1))
        elif argv[:2] == ["crm_node", "-q"]:
            out = "1"
        elif argv[0] == "systemctl":
            verb, units = (argv[2], argv[3:]) if argv[1] == f"--root={self.root}" else (argv[1], argv[2:])
            if verb == "is-active":
                rc, out = (0, "active") if units[0] in self.active else (3, "inactive")
            elif verb == "is-enabled":
                out = "enabled" if units[0] in self.enabled else "disabled"
            elif verb == "stop":
                self.active.difference_update(units)
                self.turned = True
            elif verb == "start":
                self.active.update(units)
                if self.role == "Primary":               # the peer turned first: both members again
                    self.members = ["clc1", "clc2"]
            elif verb == "enable":
                self.enabled.update(units)
            elif verb == "disable":
                self.enabled.difference_update(units)
        elif argv[:2] == ["sbd", "-d"] and argv[-1] == "dump":
            rc, out = (0, SBD_HEADER) if self.header else (1, "")
        elif argv[:2] == ["sbd", "-d"] and argv[-1] == "create":
            self.header = True
        elif argv[:3] == ["cibadmin", "-Q", "-o"]:
            rc, out = (0, "<nodes/>") if self.loaded or "-A" not in argv else (6, "")
        elif argv[0] == "wipefs":
            out = ""
        if rcs is not None and rc not in rcs:
            raise CommandFailure(argv, rc, out)
        return Completed(tuple(argv), rc, out + "\n", "")

    def which(self, tool):
        return f"/usr/sbin/{tool}"

    def ran(self, *prefix):
        return [a for a in self.calls if a[:len(prefix)] == list(prefix)]


class Stages(adopt.Adoption):
    def __init__(self, system, config, out, yes=False, force=False):
        clock = Clock()
        super().__init__(system, config, out, yes, force, clock=clock, sleep=clock.sleep)

    def serving(self, seconds):                          # the lab checks the VIP for real
        return self.c.local_node


def hand_built(tmp_path, local="clc1", links=True, **kwargs):
    """A node of the recipe's pair with uec-clc-ha installed (settings and files staged, not yet taken over)."""
    node = Node(str(tmp_path / "root"), crm_mon=recorded_crm_mon(), **kwargs)
    node.peer = "clc1" if local == "clc2" else "clc2"
    node.makedirs("/run/systemd/system")
    node.write_atomic("/dev/watchdog", "")
    node.write_atomic("/dev/disk/by-id/virtio-sbdshared", "")
    node.write_atomic("/dev/vdb", "")
    overrides = {"DRBD-Disk": "/dev/vdb"}
    if local == "clc2":
        overrides.update({"Local-Node": "clc2", "Peer-Node": "clc1", "Local-Address": "198.51.100.12",
                          "Peer-Address": "198.51.100.11", "Replication-Local-Address": "203.0.113.2",
                          "Replication-Peer-Address": "203.0.113.1"})
    write_settings(node, "corosync-drbd84", **overrides)
    built = pipeline.build(node, settings_file.load(node))
    pipeline.apply(node, pipeline.plan(node, built.files))
    node.write_atomic("/etc/drbd.d/uec-clc.res", "resource uec-clc { }  # the recipe's, by hand\n")
    c = settings.require_valid(settings_file.load(node))
    node.makedirs(c.mount_point)
    for d in c.data_directories:
        node.makedirs(os.path.dirname(d))
        if links:
            os.symlink(f"{c.mount_point}/{os.path.basename(d)}/", node.path(d))   # the recipe's trailing slash
    return node, c


@pytest.fixture(autouse=True)
def _checks_pass(monkeypatch):
    monkeypatch.setattr(pipeline, "check", lambda system, built, warn=None: [])
    monkeypatch.setattr(adopt.drbd_state, "mounted_from", lambda system, mount, device: True)


def run_adopt(node, c, **kwargs):
    out = io.StringIO()
    kwargs.setdefault("peer_wait", 60)
    kwargs.setdefault("membership_wait", 30)
    try:
        return adopt.adopt(node, c, out, yes=True, stages_class=Stages, **kwargs), out.getvalue()
    finally:
        node.last_out = out.getvalue()


CHANGES = (("crm_attribute",), ("systemctl", "stop"), ("drbdadm", "adjust"), ("crm", "configure"))


def changed_nothing(node):
    return not any(node.ran(*p) for p in CHANGES) and not node.exists(adopt.JOURNAL.replace("adopt", "x")) \
        and not any("--update" in a for a in node.calls)


def test_without_yes_nothing_is_read_or_changed(tmp_path):
    node, c = hand_built(tmp_path)
    with pytest.raises(Refused) as e:
        adopt.adopt(node, c, io.StringIO(), yes=False, stages_class=Stages)
    assert "--yes" in str(e.value) and "replaced/" in str(e.value)
    assert node.calls == []


@pytest.mark.parametrize("kwargs, field", [
    ({"disk": "/dev/vdc"}, "DRBD-Disk=/dev/vdc"),
    ({"minor": 3}, "DRBD-Device=/dev/drbd3"),
])
def test_settings_that_differ_from_the_running_resource_are_refused_by_name(tmp_path, kwargs, field):
    node, c = hand_built(tmp_path, **kwargs)
    with pytest.raises(Refused) as e:
        run_adopt(node, c)
    assert field in str(e.value)
    assert changed_nothing(node)


def test_another_name_of_the_running_disk_is_refused_since_adjust_would_detach_it(tmp_path):
    # drbdadm adjust compares disk paths as strings (drbd-utils' disk_equal): a by-id name of the
    # running /dev/vdb would detach the Primary's disk and attach it again
    node, c = hand_built(tmp_path)
    node.makedirs("/dev/disk/by-id")
    os.symlink("../../vdb", node.path("/dev/disk/by-id/virtio-drbddisk"))
    write_settings(node, "corosync-drbd84", **{"DRBD-Disk": "/dev/disk/by-id/virtio-drbddisk"})
    c = settings.require_valid(settings_file.load(node))
    with pytest.raises(Refused) as e:
        run_adopt(node, c)
    assert "DRBD-Disk=/dev/vdb" in str(e.value) and "another name" in str(e.value)
    assert changed_nothing(node)


def test_data_not_on_drbd_yet_is_refused_with_the_other_way(tmp_path):
    node, c = hand_built(tmp_path, links=False)
    node.makedirs("/var/lib/eucalyptus")
    with pytest.raises(Refused) as e:
        run_adopt(node, c)
    assert "/var/lib/eucalyptus is a real directory" in str(e.value) and "migrate-data" in str(e.value)
    assert changed_nothing(node)


def test_a_second_definition_of_the_resource_is_refused(tmp_path):
    node, c = hand_built(tmp_path)
    node.write_atomic("/etc/drbd.d/r0.res", "resource uec-clc {\n}\n")
    with pytest.raises(Refused) as e:
        run_adopt(node, c)
    assert "/etc/drbd.d/r0.res also defines the DRBD resource uec-clc" in str(e.value)
    assert changed_nothing(node)


def test_no_running_cluster_is_refused(tmp_path):
    node, c = hand_built(tmp_path)
    node.crm_mon = ""
    with pytest.raises(Refused) as e:
        run_adopt(node, c)
    assert "cluster-init" in str(e.value)
    assert changed_nothing(node)


def test_the_node_without_the_cloud_turns_first_and_writes_the_sbd_header(tmp_path):
    node, c = hand_built(tmp_path, local="clc2", role="Secondary", header=False)
    where, out = run_adopt(node, c)
    assert where is None
    assert node.maintenance == "true"
    order = [a[:2] for a in node.calls if a[:2] in (["systemctl", "stop"], ["drbdadm", "adjust"],
                                                     ["sbd", "-d"], ["systemctl", "start"])]
    assert order[0] == ["systemctl", "stop"] and ["drbdadm", "adjust"] in order
    assert order.index(["drbdadm", "adjust"]) < order.index(["systemctl", "start"])
    # the hand-built stack as the admin ran it, recorded before adopt stopped it (purge leaves it running)
    assert unit_record.recorded(node)["corosync.service"] == ("disabled", "active")
    assert unit_record.recorded(node)["pacemaker.service"] == ("disabled", "active")
    assert [a for a in node.ran("sbd", "-d") if a[-1] == "create"], "the first node to turn writes the header"
    assert "resource uec-clc {" in node.read("/etc/drbd.d/uec-clc.res") and "shared-secret" in \
        node.read("/etc/drbd.d/uec-clc.res")
    assert not node.ran("crm", "configure")                     # the node with the cloud loads the CIB
    assert json.loads(node.read(adopt.JOURNAL))["turned"] is True
    applied = json.loads(node.read("/var/lib/uec-clc-ha/applied.json"))
    assert "/etc/drbd.d/uec-clc.res" in applied          # a later apply does not adjust DRBD again
    assert "which finishes the adoption" in out
    assert "/etc/uec-clc-ha/cluster.crm" in applied       # once the peer loaded it (cibadmin finds the agent)


def test_the_node_without_the_cloud_waits_for_the_configuration_before_noting_it(tmp_path):
    node, c = hand_built(tmp_path, local="clc2", role="Secondary")
    node.loaded = False
    with pytest.raises(Waiting) as e:
        run_adopt(node, c, probe_wait=30)
    assert "clc1 has not loaded" in str(e.value)
    applied = json.loads(node.read("/var/lib/uec-clc-ha/applied.json"))
    assert "/etc/uec-clc-ha/cluster.crm" not in applied


def test_the_node_with_the_cloud_waits_for_its_peer_to_turn_first(tmp_path):
    node, c = hand_built(tmp_path, leave_after=1000)
    with pytest.raises(Waiting) as e:
        run_adopt(node, c, peer_wait=30)
    assert "on clc2 first" in str(e.value)
    assert not node.ran("systemctl", "stop") and not node.ran("drbdadm", "adjust")
    assert node.maintenance == "true"                            # the only change: the cloud keeps running


def test_the_node_with_the_cloud_loads_the_cib_in_maintenance_and_releases_once_in_sync(tmp_path):
    node, c = hand_built(tmp_path, leave_after=2)
    where, out = run_adopt(node, c)
    assert where == "clc1"
    load = node.ran("crm", "configure", "load", "replace")
    assert len(load) == 1
    refresh = node.calls.index(["crm_resource", "--refresh"])
    assert node.calls.index(load[0]) < refresh
    # stamped as apply stamps a load: `apply` afterwards finds nothing to do
    stamp = list(live_apply.stamp_argv(c, node.read_bytes(cluster_init.CRM_FILE)))
    assert node.calls.index(load[0]) < node.calls.index(stamp) < refresh
    delete = [i for i, a in enumerate(node.calls) if a[0] == "crm_attribute" and "--delete" in a]
    assert delete and delete[0] > refresh and node.maintenance == ""
    assert not node.exists(f"{adopt.STATE_DIR}/adopt.crm")      # the staged CIB text is not left behind
    assert not [a for a in node.ran("sbd", "-d") if a[-1] == "create"]
    assert json.loads(node.read(adopt.JOURNAL)) == {"has_cloud": True, "turning": True, "turned": True,
                                                     "cib": True, "released": True, "done": True}
    assert "waiting for clc2 to turn first" in out


@pytest.mark.parametrize("local, role", [("clc1", "Primary"), ("clc2", "Secondary")])
def test_each_node_ends_by_publishing_its_facts_for_doctor(tmp_path, local, role):
    node, c = hand_built(tmp_path, local=local, role=role, leave_after=2)
    run_adopt(node, c)
    facts = node_facts.compute(node, pipeline.load_raw(node), c)
    digest = ["crm_attribute", "--type", "nodes", "--node", local, "--name", node_facts.DIGEST_ATTR, "--update",
              facts.digest]
    assert digest in node.calls
    configured = node.ran("crm", "configure", "load", "replace") or \
        node.ran("cibadmin", "-Q", "-o", "resources")            # loaded here, or found loaded by the peer
    assert node.calls.index(configured[-1]) < node.calls.index(digest)
    assert f"adopt: published for doctor on {c.peer_node}: " in node.last_out


def test_the_cib_text_keeps_maintenance_on_inside_the_one_property_block(tmp_path):
    node, c = hand_built(tmp_path, leave_after=0)
    staged = {}
    real_run = node.run

    def run(argv, rcs=(0,), **kwargs):
        if list(argv[:4]) == ["crm", "configure", "load", "replace"]:
            staged["text"] = node.read(argv[4])
        return real_run(argv, rcs, **kwargs)
    node.run = run
    run_adopt(node, c)
    text = staged["text"]
    assert text.count("property cib-bootstrap-options:") == 1
    block = text.split("property cib-bootstrap-options: \\\n", 1)[1]
    assert block.startswith("\tmaintenance-mode=true \\\n") and "stonith-enabled=true" in block
    assert text.replace("\tmaintenance-mode=true \\\n", "") == node.read(cluster_init.CRM_FILE)


def test_probes_that_find_the_cloud_elsewhere_leave_maintenance_on(tmp_path):
    node, c = hand_built(tmp_path, local="clc2", role="Primary", leave_after=0)
    # the recorded view has the group on clc1: probes run on clc2 must not call that "in place"
    with pytest.raises(NotRunningCleanly) as e:
        run_adopt(node, c, probe_wait=30)
    assert "Maintenance mode stays on" in str(e.value)
    assert node.maintenance == "true"
    assert not [a for a in node.calls if a[0] == "crm_attribute" and "--delete" in a]


def test_release_waits_for_drbd_in_sync(tmp_path):
    node, c = hand_built(tmp_path, leave_after=0, drbd=("SyncSource", "UpToDate/Inconsistent"))
    with pytest.raises(NotRunningCleanly) as e:
        run_adopt(node, c, sync_wait=30)
    assert "SyncSource UpToDate/Inconsistent" in str(e.value) and node.maintenance == "true"
    node.drbd = ("Connected", "UpToDate/UpToDate")
    stops = len(node.ran("systemctl", "stop"))
    where, out = run_adopt(node, c)                               # run again: it goes on where it stopped
    assert where == "clc1" and node.maintenance == ""
    assert len(node.ran("systemctl", "stop")) == stops and len(node.ran("crm", "configure", "load")) == 1


def test_a_run_killed_after_stopping_the_old_stack_goes_on_when_run_again(tmp_path):
    node, c = hand_built(tmp_path, local="clc2", role="Secondary")
    real_run = node.run

    def killed_at_adjust(argv, rcs=(0,), **kwargs):
        if list(argv[:2]) == ["drbdadm", "adjust"]:
            raise KeyboardInterrupt("killed")
        return real_run(argv, rcs, **kwargs)
    node.run = killed_at_adjust
    with pytest.raises(KeyboardInterrupt):
        run_adopt(node, c)
    assert "pacemaker.service" not in node.active
    node.run = real_run
    node.crm_mon = ""                                       # no cluster answers here any more
    where, out = run_adopt(node, c)
    assert where is None and json.loads(node.read(adopt.JOURNAL))["turned"] is True
    assert node.ran("drbdadm", "adjust") and "pacemaker.service" in node.active


def test_cluster_init_refuses_a_hand_built_cluster_and_names_adopt(tmp_path):
    node, c = hand_built(tmp_path)
    recipe = recorded_crm_mon().replace("ocf:ubuntu:eucaclc", "systemd:eucalyptus-cloud")
    node.crm_mon = recipe
    with pytest.raises(Refused) as e:
        cluster_init.Stages(node, c, io.StringIO()).foreign()
    assert "uec-clc-ha-ctl adopt --yes" in str(e.value)
    node.crm_mon = recorded_crm_mon()
    cluster_init.Stages(node, c, io.StringIO()).foreign()       # our own cluster: no objection
