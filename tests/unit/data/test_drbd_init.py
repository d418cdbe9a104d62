"""drbd-init's promote decision and its commands, against a scripted drbdadm (no real tools).

The destructive steps run for real in the two-node VM lab; here every
(connection, disk states) case after `up` is played through a System whose
run() answers like drbdadm and records what was run.  The journal is
seeded past create-md, so the preflight (real block devices) is not needed.
"""

import io
import json

import pytest

from scenarios import full_raw
from uec_clc_ha.data import drbd_init
from uec_clc_ha.config import settings
from uec_clc_ha.errors import Refused
from uec_clc_ha.host.system import Completed, System


class ScriptedDrbd(System):
    """drbdadm cstate/dstate answer from a list of states (the last repeats); every command is recorded."""

    def __init__(self, root, states):
        super().__init__(root)
        self.states = list(states)
        self.calls = []

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        out = ""
        if argv[:2] == ["drbdadm", "cstate"]:
            out = self.states[0][0]
        elif argv[:2] == ["drbdadm", "dstate"]:
            out = self.states[0][1]
            if len(self.states) > 1:
                self.states.pop(0)
        return Completed(tuple(argv), 0, out + "\n", "")

    def changes(self):
        return [c for c in self.calls if c[1:2] not in (["cstate"], ["dstate"])]


def config(local="clc1"):
    raw = full_raw("corosync-drbd84")
    if local != "clc1":
        raw.update({"Local-Node": "clc2", "Peer-Node": "clc1", "Local-Address": "198.51.100.12",
                    "Peer-Address": "198.51.100.11", "Replication-Local-Address": "203.0.113.2",
                    "Replication-Peer-Address": "203.0.113.1"})
    return settings.require_valid(raw)


def run_init(tmp_path, states, local="clc1", **kwargs):
    system = ScriptedDrbd(str(tmp_path), states)
    system.makedirs("/proc")
    system.write_atomic("/proc/drbd", "version: 8.4.11 (api:1/proto:86-101)\n")
    role = "primary" if local == "clc1" else "secondary"
    system.write_atomic(drbd_init.JOURNAL, json.dumps({"role": role, "done": ["create-md", "up"]}), mode=0o600)
    system.makedirs("/mnt/uecdata")
    out = io.StringIO()
    journal = drbd_init.init(system, config(local), out, yes=True, connect_wait=kwargs.pop("connect_wait", 0.1),
                             **kwargs)
    return system, journal, out.getvalue()


def test_both_new_disks_connected_skip_the_initial_sync(tmp_path):
    system, journal, out = run_init(tmp_path, [("Connected", "Inconsistent/Inconsistent")])
    assert system.changes()[:2] == [["drbdadm", "--", "--clear-bitmap", "new-current-uuid", "uec-clc"],
                                    ["drbdadm", "primary", "uec-clc"]]
    assert journal["promoted"] == "new disks, initial sync skipped" and journal["complete"]
    assert ["mkfs.ext4", "-q", "/dev/drbd0"] in system.changes()


def test_the_peer_not_up_yet_promotes_with_force(tmp_path):
    system, journal, out = run_init(tmp_path, [("WFConnection", "Inconsistent/DUnknown")])
    promote = [c for c in system.changes() if "primary" in c or "new-current-uuid" in c]
    assert promote == [["drbdadm", "primary", "--force", "uec-clc"]]
    assert "full initial sync runs when the peer is up" in out
    assert journal["promoted"] == "forced, full sync"


def test_a_peer_that_connects_while_waiting_is_used(tmp_path):
    states = [("WFConnection", "Inconsistent/DUnknown")] * 2 + [("Connected", "Inconsistent/Inconsistent")]
    system, journal, _ = run_init(tmp_path, states, connect_wait=10)
    assert journal["promoted"] == "new disks, initial sync skipped"


@pytest.mark.parametrize("peer", ["UpToDate", "Consistent", "Outdated"])
def test_a_peer_holding_data_is_never_overwritten(tmp_path, peer):
    with pytest.raises(Refused) as e:
        run_init(tmp_path, [("SyncTarget", f"Inconsistent/{peer}")])
    assert "would overwrite it" in str(e.value)
    system = ScriptedDrbd(str(tmp_path), [])
    journal = json.loads(system.read(drbd_init.JOURNAL))
    assert "promote" not in journal["done"]


def test_connected_but_not_both_new_forces_and_syncs(tmp_path):
    system, journal, _ = run_init(tmp_path, [("Connected", "Inconsistent/Diskless")])
    assert ["drbdadm", "primary", "--force", "uec-clc"] in system.changes()


def test_the_postinst_secondary_does_not_wait_for_the_sync(tmp_path):
    system, journal, out = run_init(tmp_path, [("WFConnection", "Inconsistent/DUnknown")], local="clc2",
                                    wait=False)
    assert journal["complete"] and journal["sync"] == "waiting for the peer"
    assert "connects by itself" in out


def test_a_journal_of_0_1_0_is_finished_not_repeated(tmp_path):
    system = ScriptedDrbd(str(tmp_path), [("Connected", "UpToDate/Inconsistent")])
    system.makedirs("/proc")
    system.write_atomic("/proc/drbd", "version: 8.4.11\n")
    system.write_atomic(drbd_init.JOURNAL, json.dumps(
        {"role": "primary", "done": ["create-md", "up", "new-current-uuid", "primary"]}), mode=0o600)
    system.makedirs("/mnt/uecdata")
    drbd_init.init(system, config(), io.StringIO(), yes=True, connect_wait=0)
    assert [c[0] for c in system.changes()] == ["mkfs.ext4", "mount"]


def test_partitions_are_found_among_the_block_device_attributes(tmp_path):
    """/sys/dev/block/M:N holds attribute files beside the partitions' directories (seen in the VM lab)."""
    import os

    system = System(str(tmp_path))
    base = "/sys/dev/block/254:16"
    for attr in ("alignment_offset", "size", "dev"):
        system.write_atomic(f"{base}/{attr}", "0\n")
    system.write_atomic(f"{base}/vdb1/dev", "254:17\n")
    assert drbd_init._device_ids(system, os.makedev(254, 16)) == {"254:16", "254:17"}


# -- a former replica: the other node's disk already carries DRBD metadata (a purged node installed again) --
def test_only_the_other_nodes_disk_with_drbd_metadata_is_a_former_replica():
    assert drbd_init.former_replica(config("clc2"), {"drbd", "ext4"})
    assert drbd_init.former_replica(config("clc2"), {"drbd"})
    assert not drbd_init.former_replica(config("clc2"), {"ext4"})
    assert not drbd_init.former_replica(config("clc1"), {"drbd", "ext4"})     # Initial-Primary: never kept


def seeded(tmp_path, states, journal):
    system = ScriptedDrbd(str(tmp_path), states)
    system.makedirs("/proc")
    system.write_atomic("/proc/drbd", "version: 8.4.11 (api:1/proto:86-101)\n")
    system.write_atomic(drbd_init.JOURNAL, json.dumps(journal), mode=0o600)
    system.write_atomic("/etc/drbd.d/uec-clc.res", "resource uec-clc {}\n")     # what `up` records as applied
    return system


def test_a_former_replica_keeps_its_metadata_and_lets_drbd_resync(tmp_path):
    system = seeded(tmp_path, [("SyncTarget", "Inconsistent/UpToDate")],
                    {"role": "secondary", "done": [], "metadata": "kept"})
    out = io.StringIO()
    journal = drbd_init.init(system, config("clc2"), out, yes=True, wait=False, connect_wait=0.1)
    assert [c[:3] for c in system.changes()] == [["drbdadm", "adjust", "uec-clc"]]     # no create-md
    assert "already carries DRBD metadata (a former replica): kept" in out.getvalue()
    assert journal["complete"] and journal["sync"] == "connected" and journal["metadata"] == "kept"


def test_drbd_refusing_the_peer_is_reported_with_the_way_out(tmp_path):
    system = seeded(tmp_path, [("StandAlone", "UpToDate/DUnknown")],
                    {"role": "secondary", "done": ["create-md", "up"], "metadata": "kept"})
    with pytest.raises(Refused) as e:
        drbd_init.init(system, config("clc2"), io.StringIO(), yes=True, wait=False, connect_wait=0.1)
    assert "stays StandAlone" in str(e.value) and "drbd-init --yes --force" in str(e.value)
    journal = json.loads(system.read(drbd_init.JOURNAL))
    assert "sync" not in journal["done"] and not journal.get("complete")


def test_the_watch_of_the_sync_reports_standalone_once_it_lasts(tmp_path, monkeypatch):
    monkeypatch.setattr(drbd_init, "STANDALONE_WAIT", 0)
    monkeypatch.setattr(drbd_init.time, "sleep", lambda s: None)
    states = [("WFConnection", "UpToDate/DUnknown"), ("StandAlone", "UpToDate/DUnknown")]
    system = seeded(tmp_path, states, {"role": "secondary", "done": ["create-md", "up"], "metadata": "kept"})
    with pytest.raises(Refused) as e:
        drbd_init.init(system, config("clc2"), io.StringIO(), yes=True, wait=True, sync_timeout=60)
    assert "stays StandAlone" in str(e.value)


def test_a_passing_standalone_is_not_a_refusal(tmp_path, monkeypatch):
    monkeypatch.setattr(drbd_init.time, "sleep", lambda s: None)
    states = [("StandAlone", "UpToDate/DUnknown"), ("SyncTarget", "Inconsistent/UpToDate"),
              ("Connected", "UpToDate/UpToDate")]
    system = seeded(tmp_path, states, {"role": "secondary", "done": ["create-md", "up"], "metadata": "kept"})
    assert drbd_init.init(system, config("clc2"), io.StringIO(), yes=True, wait=True, sync_timeout=60)["complete"]


def test_force_discards_the_kept_copy_of_an_unfinished_run(tmp_path, monkeypatch):
    monkeypatch.setattr(drbd_init, "preflight", lambda system, config, found: [])
    system = seeded(tmp_path, [("SyncTarget", "Inconsistent/UpToDate")],
                    {"role": "secondary", "done": ["create-md", "up"], "metadata": "kept"})
    out = io.StringIO()
    journal = drbd_init.init(system, config("clc2"), out, yes=True, force=True, wait=False, connect_wait=0.1)
    assert [c[:4] for c in system.changes()] == [["drbdadm", "down", "uec-clc"],
                                                 ["drbdadm", "--", "--force", "create-md"],
                                                 ["drbdadm", "adjust", "uec-clc"]]
    assert "the former copy on /dev/vdb1 is discarded" in out.getvalue()
    assert "metadata" not in journal and journal["complete"]


def test_an_interrupted_discard_resumes_at_new_metadata(tmp_path, monkeypatch):
    monkeypatch.setattr(drbd_init, "preflight", lambda system, config, found: [])
    system = seeded(tmp_path, [("StandAlone", "UpToDate/DUnknown")],
                    {"role": "secondary", "done": ["create-md", "up"], "metadata": "kept"})

    def killed(argv, rcs=(0,), **kwargs):
        if "create-md" in argv:
            raise KeyboardInterrupt
        return ScriptedDrbd.run(system, argv, rcs, **kwargs)
    monkeypatch.setattr(system, "run", killed)
    with pytest.raises(KeyboardInterrupt):
        drbd_init.init(system, config("clc2"), io.StringIO(), yes=True, force=True, wait=False, connect_wait=0.1)
    assert json.loads(system.read(drbd_init.JOURNAL)) == {"role": "secondary", "done": []}
