"""apply on a running cluster: which live steps follow which changed files (scripted tools, no cluster)."""

from scenarios import full_raw
from uec_clc_ha.cluster import live_apply
from uec_clc_ha.config import pipeline, settings
from uec_clc_ha.config.render import RenderedFile
from uec_clc_ha.host import applied, paths
from uec_clc_ha.host.system import Completed, System

CRM_OLD = 'primitive res_a ocf:heartbeat:Dummy\nprimitive res_gone ocf:heartbeat:Dummy\n' \
          'primitive st_ipmi stonith:fence_ipmilan params password="old-secret"\n'
CRM_NEW = 'primitive res_a ocf:heartbeat:Dummy op monitor interval=45s\n' \
          'primitive st_ipmi stonith:fence_ipmilan params password="new-secret"\n'


class Running(System):
    """A node where pacemaker, corosync and DRBD run (or none of them)."""

    def __init__(self, root, running=True):
        super().__init__(root)
        self.running = running

    def run(self, argv, rcs=(0,), **kwargs):
        rc, out = 0, ""
        if argv[0] == "crm_mon":
            out = '<pacemaker-result api-version="2.25"><summary/><nodes/><resources/></pacemaker-result>' \
                if self.running else ""
            rc = 0 if self.running else 102
        elif argv[0] == "corosync-cfgtool":
            rc = 0 if self.running else 1
        elif argv[:2] == ["drbdadm", "role"]:
            rc, out = (0, "Primary/Secondary") if self.running else (10, "")
        return Completed(tuple(argv), rc, out, "")


def changes():
    files = [
        pipeline.Change("update", RenderedFile(paths.CRM_FILE, CRM_NEW.encode(), 0o600, "crm"), CRM_OLD.encode()),
        pipeline.Change("update", RenderedFile(paths.COROSYNC_CONF, b"totem {}\n", 0o644, "corosync"), b"x"),
        pipeline.Change("update", RenderedFile("/etc/drbd.d/uec-clc.res", b"resource {}\n", 0o600, "drbd"), b"x"),
        pipeline.Change("unchanged", RenderedFile("/etc/corosync/authkey", b"k", 0o400, "corosync-key"), b"k"),
    ]
    return files


def test_each_changed_file_brings_its_running_service_in_line(tmp_path):
    config = settings.require_valid(full_raw("corosync-drbd84"))
    steps, notes = live_apply.plan(Running(str(tmp_path)), config, changes())
    assert [s.argv for s in steps] == [
        ("crm", "configure", "delete", "--force", "res_gone"),
        ("crm", "configure", "load", "update", paths.CRM_FILE),
        ("corosync-cfgtool", "-R"),
        ("drbdadm", "adjust", "uec-clc"),
    ]
    assert notes == []


def test_nothing_runs_nothing_is_run_and_that_is_said(tmp_path):
    config = settings.require_valid(full_raw("corosync-drbd84"))
    steps, notes = live_apply.plan(Running(str(tmp_path), running=False), config, changes())
    assert steps == [] and len(notes) == 3


def test_the_shown_change_masks_secrets():
    diff = live_apply.crm_diff(CRM_OLD, CRM_NEW)
    assert "interval=45s" in diff and "-primitive res_gone" in diff
    assert "secret" not in diff.replace("password=(hidden)", "") and "password=(hidden)" in diff


def _unchanged(content_by_path):
    return [pipeline.Change("unchanged", RenderedFile(p, c, 0o600, "x"), c) for p, c in content_by_path.items()]


def test_files_written_earlier_and_not_yet_taken_are_applied(tmp_path):
    # dpkg-reconfigure wrote the new files; `apply` finds them unchanged but the services never took them
    config = settings.require_valid(full_raw("corosync-drbd84"))
    system = Running(str(tmp_path))
    applied.record(system, paths.CRM_FILE, CRM_OLD.encode())
    applied.record(system, paths.COROSYNC_CONF, b"totem { token: 3000 }\n")
    files = {paths.CRM_FILE: CRM_NEW.encode(), paths.COROSYNC_CONF: b"totem {}\n",
             "/etc/drbd.d/uec-clc.res": b"resource {}\n"}
    steps, notes = live_apply.plan(system, config, _unchanged(files))
    assert [s.argv for s in steps] == [
        ("crm", "configure", "delete", "--force", "res_gone"),        # from the copy of what was loaded
        ("crm", "configure", "load", "update", paths.CRM_FILE),
        ("corosync-cfgtool", "-R"),
        ("drbdadm", "adjust", "uec-clc"),                            # no record: applied again (idempotent)
    ]
    live_apply.run(system, steps)
    assert live_apply.plan(system, config, _unchanged(files)) == ([], [])      # recorded: nothing left to do
    assert system.read_bytes(paths.CRM_LOADED) == CRM_NEW.encode()
    for path in (paths.APPLIED, paths.CRM_LOADED):
        assert oct(system.stat(path).st_mode & 0o777) == "0o600"


def test_a_failed_step_records_nothing_so_the_next_apply_tries_again(tmp_path):
    config = settings.require_valid(full_raw("corosync-drbd84"))

    class Failing(Running):
        def run(self, argv, rcs=(0,), **kwargs):
            if argv[0] == "corosync-cfgtool" and argv[1] == "-R":
                raise RuntimeError("reload refused")
            return super().run(argv, rcs, **kwargs)
    system = Failing(str(tmp_path))
    files = {paths.COROSYNC_CONF: b"totem {}\n"}
    steps, _ = live_apply.plan(system, config, _unchanged(files))
    try:
        live_apply.run(system, steps)
    except RuntimeError:
        pass
    assert [s.argv for s in live_apply.plan(system, config, _unchanged(files))[0]] == [("corosync-cfgtool", "-R")]
