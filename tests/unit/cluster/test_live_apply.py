"""apply on a running cluster: which live steps follow which changed files (scripted tools, no cluster)."""

import pytest

from cib_model import Cib
from scenarios import LAB_CMAP, LAB_COROSYNC, SCENARIOS, full_raw
from uec_clc_ha.cluster import crm_mon, live_apply
from uec_clc_ha.config import keyring, pipeline, render, settings
from uec_clc_ha.config.render import RenderedFile
from uec_clc_ha.errors import Refused
from uec_clc_ha.host import applied, paths, unit_record
from uec_clc_ha.host.system import Completed, System

CRM_OLD = 'primitive res_uec ocf:ubuntu:eucaclc\nprimitive res_uec_image_store_proxy lsb:image-store-proxy\n' \
          'primitive st_ipmi_clc1 stonith:fence_ipmilan params password="old-secret"\n'
CRM_NEW = 'primitive res_uec ocf:ubuntu:eucaclc op monitor interval=45s\n' \
          'primitive st_ipmi_clc1 stonith:fence_ipmilan params password="new-secret"\n'
ADMINS = 'location cli-prefer-rg_uec rg_uec role=Started inf: clc1\nprimitive res_admin_extra ocf:heartbeat:Dummy\n'
DRBDSETUP_SHOW = 'resource uec-clc {{\n    _this_host {{\n        volume 0 {{\n            device minor {minor};\n' \
                 '            disk "{disk}";\n            meta-disk internal;\n        }}\n    }}\n}}\n'


class Running(System):
    """A node where pacemaker, corosync and DRBD run (or none of them), its CIB scripted (tests/support/cib_model)."""

    def __init__(self, root, running=True, loaded=CRM_OLD, disk="/dev/vdb1", minor=0, sbd=None):
        super().__init__(root)
        self.running, self.disk, self.minor = running, disk, minor
        self.sbd = sbd                 # None: not installed; else {"header", "active", "enabled", "peer"}
        self.fs_on = None              # the node crm_mon shows the cloud's filesystem mounted on
        self.probe = {"clc1": True, "clc2": True}     # the nodes' word on the fencing probe
        self.cib = Cib()
        if loaded:
            self.cib.load_text(loaded + ADMINS)
        self.calls = []

    def run(self, argv, rcs=(0,), **kwargs):
        self.calls.append(list(argv))
        rc, out = 0, ""
        if list(argv[:2]) == ["systemctl", f"--root={self.root}"]:         # offline: the same answer here
            argv = ["systemctl", *argv[2:]]
        cib = self.cib.answer(self, argv) if self.running else None
        if cib is not None:
            rc, out = cib
        elif argv[0] == "crm_mon":
            fs = (f'<group id="rg_uec"><resource id="res_fs_clc" resource_agent="ocf:heartbeat:Filesystem" '
                  f'role="Started"><node name="{self.fs_on}"/></resource></group>') if self.fs_on else ""
            for device in ("st_sbd", "st_sbd_probe"):
                if device in self.cib.objects:
                    fs += f'<resource id="{device}" resource_agent="stonith:x" role="Started"><node name="clc2"/>' \
                          '</resource>'

            out = ('<pacemaker-result api-version="2.25"><summary><cluster_options maintenance-mode="false"/>'
                   f'</summary><nodes/><resources>{fs}</resources></pacemaker-result>') if self.running else ""
            rc = 0 if self.running else 102
        elif argv[0] in ("corosync-cfgtool", "cibadmin"):
            rc = 0 if self.running else 1
        elif argv[:2] == ["drbdadm", "role"]:
            rc, out = (0, "Primary/Secondary") if self.running and argv[2] == "uec-clc" else (10, "")
        elif self.sbd is not None and argv[:2] == ["sbd", "-d"]:
            h = self.sbd["header"]
            rc, out = (0, f"Timeout (watchdog) : {h[0]}\nTimeout (msgwait)  : {h[1]}\n") if h else (1, "")
        elif self.sbd is not None and argv[:3] == ["systemctl", "is-active", "sbd.service"]:
            out = "active" if self.sbd["active"] else "inactive"
        elif self.sbd is not None and argv[:3] == ["systemctl", "is-enabled", "sbd.service"]:
            out = "enabled" if self.sbd["enabled"] else "disabled"
        elif argv[:3] == ["attrd_updater", "-Q", "-n"] and argv[3] == live_apply.PROBE_ATTRIBUTE:
            value = self.probe.get(argv[-1])
            rc, out = (0, f'name="{argv[3]}" host="{argv[-1]}" value="{int(value)}"') if value is not None \
                else (6, "")
        elif argv[:3] == ["attrd_updater", "-n", live_apply.PROBE_ATTRIBUTE]:
            self.probe["clc1"] = argv[-1] == "1"
        elif self.sbd is not None and argv[:2] == ["attrd_updater", "-Q"]:
            value = self.sbd["peer"] if argv[-1] != "clc1" else self.sbd.get("said")
            rc, out = (0, f'name="uec-clc-ha-sbd" host="{argv[-1]}" value="{int(value)}"') if value is not None \
                else (6, "")
        elif argv[:2] == ["drbdsetup", "show"]:
            rc, out = (0, DRBDSETUP_SHOW.format(minor=self.minor, disk=self.disk)) if self.running else (10, "")
        if rcs is not None and rc not in rcs:
            raise RuntimeError(f"{argv} failed")
        return Completed(tuple(argv), rc, out, "")

    def which(self, tool):
        # sbd installed or not as the test says, never as this host has it (Debian 13's Depends pull it in)
        if tool == "sbd":
            return "/usr/sbin/sbd" if self.sbd is not None else None
        return super().which(tool)


def changes():
    files = [
        pipeline.Change("update", RenderedFile(paths.CRM_FILE, CRM_NEW.encode(), 0o600, "crm"), CRM_OLD.encode()),
        pipeline.Change("update", RenderedFile(paths.COROSYNC_CONF, b"totem {}\n", 0o644, "corosync"), b"x"),
        pipeline.Change("update", RenderedFile("/etc/drbd.d/uec-clc.res", b"resource {}\n", 0o600, "drbd"), b"x"),
        pipeline.Change("unchanged", RenderedFile("/etc/corosync/authkey", b"k", 0o400, "corosync-key"), b"k"),
    ]
    return files


def argvs(steps):
    return [s.argv[:4] if "--set-name" in s.argv else s.argv for s in steps]


STAMP = ("crm_attribute", "--type", "crm_config", "--set-name")


def test_each_changed_file_brings_its_running_service_in_line(tmp_path):
    config = settings.require_valid(full_raw("corosync-drbd84"))
    system = Running(str(tmp_path))
    system.write_atomic(paths.CRM_FILE, CRM_NEW)
    steps, notes = live_apply.plan(system, config, changes())
    # load first, delete after: a fencing change never leaves a moment without its device
    assert argvs(steps) == [
        ("crm", "configure", "load", "update", paths.CRM_FILE),
        STAMP,
        ("crm", "configure", "delete", "--force", "res_uec_image_store_proxy"),
        ("corosync-cfgtool", "-R"),
        ("drbdadm", "adjust", "uec-clc"),
    ]
    assert notes == []
    live_apply.run(system, steps)
    assert "res_uec_image_store_proxy" not in system.cib.objects
    assert {"res_admin_extra", "cli-prefer-rg_uec"} <= set(system.cib.objects)     # the admin's stay
    assert not [s for s in live_apply.plan(system, config, changes())[0] if s.argv[:1] == ("crm",)]


def test_nothing_runs_nothing_is_run_and_that_is_said(tmp_path):
    config = settings.require_valid(full_raw("corosync-drbd84"))
    steps, notes = live_apply.plan(Running(str(tmp_path), running=False), config, changes())
    assert steps == [] and len(notes) == 3


def test_the_shown_change_masks_secrets():
    diff = live_apply.crm_diff(CRM_OLD, CRM_NEW)
    assert "interval=45s" in diff and "-primitive res_uec_image_store_proxy" in diff
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
    for path, content in files.items():
        system.write_atomic(path, content)
    steps, notes = live_apply.plan(system, config, _unchanged(files))
    assert argvs(steps) == [
        ("crm", "configure", "load", "update", paths.CRM_FILE),
        STAMP,
        ("crm", "configure", "delete", "--force", "res_uec_image_store_proxy"),    # found in the live CIB
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
    system = Failing(str(tmp_path), loaded="")
    files = {paths.COROSYNC_CONF: b"totem {}\n"}
    steps, _ = live_apply.plan(system, config, _unchanged(files))
    with pytest.raises(RuntimeError):
        live_apply.run(system, steps)
    assert [s.argv for s in live_apply.plan(system, config, _unchanged(files))[0]] == [("corosync-cfgtool", "-R")]


@pytest.mark.parametrize("failures, passes", [(2, True), (3, False)])
def test_a_load_the_cib_changed_under_is_tried_again(failures, passes):
    """crmsh's `load update` fails when the CIB changed between its read and its patch (the peer loading, a node
    attribute published): the load is idempotent and tried again, at most LOAD_ATTEMPTS times."""
    from uec_clc_ha.errors import CommandFailure

    class Patched(System):
        calls = []

        def run(self, argv, rcs=(0,), **kwargs):
            self.calls.append(list(argv))
            if argv[:4] == list(live_apply.LOAD) and self.calls.count(list(argv)) <= failures:
                raise CommandFailure(list(argv), 1, "ERROR: could not patch cib (rc=205): Update was older than "
                                                    "existing configuration")
            return Completed(tuple(argv), 0, "", "")
    system = Patched("/nonexistent")
    steps = [live_apply.Step("load", live_apply.LOAD + ("/etc/uec-clc-ha/cluster.crm",)),
             live_apply.Step("after", ("true",))]
    waits = []
    if passes:
        live_apply.run(system, steps, sleep=waits.append)
        assert system.calls[-1] == ["true"]
    else:
        with pytest.raises(CommandFailure):
            live_apply.run(system, steps, sleep=waits.append)
        assert ["true"] not in system.calls
    assert waits == [live_apply.LOAD_RETRY_WAIT] * min(failures, live_apply.LOAD_ATTEMPTS - 1)


# -- the CIB as a whole: what cluster-init or another version left, the peer's load ------------------------
def rendered(name="corosync-drbd84", **overrides):
    c = settings.require_valid(dict(full_raw(name), **overrides))
    c = settings.resolve(c, FACTS) if "auto" in (c.image_store_proxy, c.source_address_route) else c
    return c, render.render_all(c, keyring.derive(c.cluster_secret, c.cluster_name))[paths.CRM_FILE].content


FACTS = type("Facts", (), {"drbd_version": "8.4", "image_store_proxy": "lsb", "source_address_route": "default",
                           "network_config": "ifupdown"})()


def live_pair(tmp_path, name="corosync-drbd84", **overrides):
    """A node whose CIB was loaded from these settings' cluster.crm by cluster-init (recorded, not stamped)."""
    config, crm = rendered(name, **overrides)
    system = Running(str(tmp_path), loaded=crm.decode())
    system.write_atomic(paths.CRM_FILE, crm)
    applied.record(system, paths.CRM_FILE, crm)
    return system, config, crm


def test_a_fencing_change_made_through_the_postinst_leaves_no_device_behind(tmp_path):
    # cluster-init (run by the postinst of dpkg-reconfigure) loaded the ipmilan file and recorded it; the CIB
    # still held st_sbd: apply must find it in the CIB itself, though cluster.crm counts as applied
    system, _, _ = live_pair(tmp_path)
    config, crm = rendered("corosync-drbd9-ipmi", **{"DRBD-Version": "8.4"})
    system.cib.load_text(crm.decode())
    system.write_atomic(paths.CRM_FILE, crm)
    applied.record(system, paths.CRM_FILE, crm)
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    # (seen with the goldens: st_sbd beside both st_ipmi_*, image-store-proxy a free primitive)
    assert argvs(steps) == [STAMP, ("crm", "configure", "delete", "--force", "c_st_sbd_away_from_uec",
                                    "c_st_sbd_probe_away_from_uec", "fencing_topology",
                                    "res_uec_image_store_proxy", "st_sbd", "st_sbd_probe")]
    live_apply.run(system, steps)
    assert [o for o in system.cib.objects if o.startswith("st_")] == ["st_ipmi_clc1", "st_ipmi_clc2"]
    assert "res_uec_image_store_proxy" not in system.cib.objects


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_object_the_package_renders_is_its_own_to_delete(name):
    overrides = {"DRBD-Version": "8.4"}
    if name == "heartbeat-legacy":
        overrides = {}
    _, crm = rendered(name, **overrides)
    for oid in live_apply.object_ids(crm.decode()):
        assert live_apply.OWNED_RE.match(oid), f"{oid} is rendered but apply would never delete it"
    assert not live_apply.OWNED_RE.match("cli-prefer-rg_uec") and not live_apply.OWNED_RE.match("res_admin_extra")


def test_the_probe_and_its_topology_are_the_packages_to_delete():
    _, crm = rendered(**{"Fencing-Probe-Window": "3"})
    ids = live_apply.object_ids(crm.decode())
    assert {"st_sbd_probe", "fencing_topology", "st_sbd"} <= ids
    assert all(live_apply.OWNED_RE.match(i) for i in ids)


SBD_RUNS = {"header": (5, 10), "active": True, "enabled": True, "peer": True, "said": True}


def _crm_change(crm, old):
    return [pipeline.Change("update", RenderedFile(paths.CRM_FILE, crm, 0o600, "crm"), old)]


def test_the_probe_is_loaded_once_both_nodes_said_they_have_it_and_goes_with_it(tmp_path):
    system, _, old = live_pair(tmp_path, **{"Fencing-Probe-Window": "0"})      # loaded by an earlier version
    system.sbd = dict(SBD_RUNS)
    system.probe = {}
    config, crm = rendered(**{"Fencing-Probe-Window": "3"})
    system.write_atomic(paths.CRM_FILE, crm)
    steps, notes = live_apply.plan(system, config, _crm_change(crm, old))
    # a rolling upgrade: the peer may not have the agent yet, so nothing is loaded; this node says it has it
    assert argvs(steps) == [("attrd_updater", "-n", live_apply.PROBE_ATTRIBUTE, "-U", "1")]
    assert len(notes) == 1 and "clc2 has not said that it has it" in notes[0]
    live_apply.run(system, steps)
    assert "st_sbd_probe" not in system.cib.objects
    system.probe["clc2"] = True
    steps, notes = live_apply.plan(system, config, _crm_change(crm, old))
    assert argvs(steps)[:2] == [("crm", "configure", "load", "update", paths.CRM_FILE), STAMP] and notes == []
    live_apply.run(system, steps)
    assert {"st_sbd_probe", "fencing_topology"} <= set(system.cib.objects)
    assert "fencing-level" in system.cib.xml()
    # the probe turned off: its device and the topology go, st_sbd stays
    config, plain = rendered(**{"Fencing-Probe-Window": "0"})
    system.write_atomic(paths.CRM_FILE, plain)
    steps, _ = live_apply.plan(system, config, _crm_change(plain, crm))
    assert argvs(steps)[-1] == ("crm", "configure", "delete", "--force", "c_st_sbd_probe_away_from_uec",
                                "fencing_topology", "st_sbd_probe")
    live_apply.run(system, steps)
    assert {"st_sbd", "c_st_sbd_away_from_uec"} <= set(system.cib.objects)
    assert not {"st_sbd_probe", "fencing_topology", "c_st_sbd_probe_away_from_uec"} & set(system.cib.objects)


def test_an_admins_own_fencing_topology_is_never_deleted(tmp_path):
    system, config, crm = live_pair(tmp_path)
    system.cib.load_text("primitive st_admin stonith:fence_dummy\nfencing_topology \\\n\tclc1: st_admin st_sbd\n")
    cib = live_apply.live_cib(system)
    assert "fencing_topology" not in cib.parents
    assert "fencing_topology" not in cib.leftovers(crm.decode())


def test_the_cib_the_peer_loaded_from_another_file_is_not_undone(tmp_path):
    # the peer resolved Image-Store-Proxy=auto to systemd and loaded its file; ours says lsb
    system, config, crm = live_pair(tmp_path)
    peer_config, peer_crm = rendered(**{"Image-Store-Proxy": "systemd"})
    system.cib.load_text(peer_crm.decode())
    system.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: f"{applied.digest(peer_crm)} node=clc2 "
                                                "image-store-proxy=systemd source-address-route=default"}}
    with pytest.raises(Refused) as e:
        live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert "loaded on clc2" in str(e.value) and "Image-Store-Proxy resolves to systemd on clc2 and to lsb here" \
        in str(e.value) and "Nothing was written" in str(e.value)
    assert not [c for c in system.calls if c[:2] in (["crm", "configure"], ["crm_attribute", "--type"])]
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}), force=True)
    assert argvs(steps)[:2] == [("crm", "configure", "load", "update", paths.CRM_FILE), STAMP]


def test_a_cib_holding_this_file_already_is_only_noted(tmp_path):
    # the peer applied the same settings first: nothing is loaded again, nothing restarts
    system, config, crm = live_pair(tmp_path)
    applied.record(system, paths.CRM_FILE, b"an older file")
    system.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: f"{applied.digest(crm)} node=clc2"}}
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert [s.argv for s in steps] == [()] and "loaded on clc2" in steps[0].what
    live_apply.run(system, steps)
    assert live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm})) == ([], [])


def test_a_new_cluster_key_is_refused_while_corosync_runs(tmp_path):
    system, config, crm = live_pair(tmp_path)
    applied.record(system, paths.COROSYNC_AUTHKEY, b"the key corosync runs with")
    with pytest.raises(Refused) as e:
        live_apply.plan(system, config, _unchanged({paths.COROSYNC_AUTHKEY: b"a new key"}))
    assert "cannot take a new key live" in str(e.value) and "maintenance-mode=true" in str(e.value)


@pytest.mark.parametrize("kernel, words", [
    ({"disk": "/dev/disk/by-id/virtio-drbddisk"}, "DRBD-Disk=/dev/disk/by-id/virtio-drbddisk"),
    ({"minor": 3}, "DRBD-Device=/dev/drbd3"),
])
def test_what_would_detach_the_running_disk_is_refused(tmp_path, kernel, words):
    system, config, crm = live_pair(tmp_path)
    system.disk, system.minor = kernel.get("disk", "/dev/vdb1"), kernel.get("minor", 0)
    with pytest.raises(Refused) as e:
        live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert words in str(e.value)


def test_a_renamed_drbd_resource_is_refused_while_the_old_one_runs(tmp_path):
    system, _, crm = live_pair(tmp_path)
    applied.record(system, "/etc/drbd.d/uec-clc.res", b"resource uec-clc {}")
    config, new = rendered(**{"DRBD-Resource": "clcdata"})
    system.disk = None
    with pytest.raises(Refused) as e:
        live_apply.plan(system, config, _unchanged({paths.CRM_FILE: new}))
    assert "ms_drbd_uec-clc" in str(e.value) or "DRBD-Resource=uec-clc" in str(e.value)


@pytest.mark.parametrize("key, value", [("Mount-Point", "/srv/uecdata"), ("Filesystem", "xfs")])
def test_the_mounted_filesystem_keeps_its_place_and_type(tmp_path, key, value):
    system, _, _ = live_pair(tmp_path)
    config, new = rendered(**{key: value})
    with pytest.raises(Refused) as e:
        live_apply.plan(system, config, _unchanged({paths.CRM_FILE: new}))
    assert f"{key} is {value}" in str(e.value)


# -- Fencing changes on a live pair: sbd's service, and st_sbd only once sbd runs on both nodes ---------------
SBD_UP = {"header": (5, 10), "active": True, "enabled": True, "peer": True, "said": True}


def test_ipmilan_to_sbd_waits_until_sbd_runs_on_both_nodes(tmp_path):
    system, _, _ = live_pair(tmp_path, "corosync-drbd9-ipmi", **{"DRBD-Version": "8.4"})
    config, crm = rendered()                                        # back to sbd
    system.sbd = dict(SBD_UP, active=False, enabled=False, peer=False, said=None)
    steps, notes = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert [s.argv for s in steps] == [("attrd_updater", "-n", "uec-clc-ha-sbd", "-U", "0"),   # words first
                                       ("systemctl", "enable", "sbd.service")]
    assert "not loaded yet" in notes[0] and "sbd does not run on clc1" in notes[0]
    assert "clc2 has not said that sbd runs there" in notes[0] and "systemctl restart corosync" in notes[0]
    # both nodes restarted their stacks: sbd runs, the peer said so: the CIB is loaded, st_ipmi_* go
    system.sbd = dict(SBD_UP, said=None)
    steps, notes = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert argvs(steps)[:3] == [("attrd_updater", "-n", "uec-clc-ha-sbd", "-U", "1"),
                                ("crm", "configure", "load", "update", paths.CRM_FILE), STAMP]
    assert steps[-1].argv[-2:] == ("st_ipmi_clc1", "st_ipmi_clc2") and notes == []


def test_sbd_to_ipmilan_loads_at_once_and_disables_sbd(tmp_path):
    system, _, _ = live_pair(tmp_path)
    system.sbd = dict(SBD_UP)
    config, crm = rendered("corosync-drbd9-ipmi", **{"DRBD-Version": "8.4"})
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert argvs(steps)[:2] == [("systemctl", "disable", "sbd.service"),
                                ("crm", "configure", "load", "update", paths.CRM_FILE)]
    assert "st_sbd" in steps[-1].argv


def test_a_step_that_changes_a_unit_records_it_first_as_it_was(tmp_path):
    system, _, _ = live_pair(tmp_path)
    system.makedirs("/run/systemd/system")                 # systemd runs here
    system.sbd = dict(SBD_UP)
    config, crm = rendered("corosync-drbd9-ipmi", **{"DRBD-Version": "8.4"})
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert not system.exists(paths.CLUSTER_UNITS)          # planning (and --dry-run) records nothing
    live_apply.run(system, steps)
    assert unit_record.recorded(system) == {"sbd.service": ("enabled", "active")}
    i = system.calls.index(["systemctl", "disable", "sbd.service"])
    assert ["systemctl", f"--root={system.root}", "is-enabled", "sbd.service"] in system.calls[:i]
    assert live_apply.changed_units(("systemctl", "disable", "--now", "corosync-qdevice.service")) == (
        "corosync-qdevice.service",)
    assert live_apply.changed_units(("systemctl", "is-active", "sbd.service")) == ()
    assert live_apply.changed_units(("crm", "configure", "load", "update", paths.CRM_FILE)) == ()


def test_new_sbd_timeouts_are_refused_with_the_way_to_write_the_header(tmp_path):
    system, _, _ = live_pair(tmp_path)
    system.sbd = dict(SBD_UP)
    config, crm = rendered(**{"SBD-Watchdog-Timeout": "15", "SBD-Msgwait-Timeout": "30"})
    with pytest.raises(Refused) as e:
        live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert "watchdog 5 s and msgwait 10 s" in str(e.value) and "maintenance-mode=true" in str(e.value)
    assert "cluster-init --yes --force" in str(e.value)


# -- new Mount-Options reach the mounted filesystem in place ------------------------------------------------
def test_added_mount_options_are_remounted_in_place_and_taken_in_maintenance(tmp_path):
    system, _, _ = live_pair(tmp_path)
    system.fs_on = "clc1"
    config, crm = rendered(**{"Mount-Options": "noatime,nodiratime"})
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert argvs(steps)[:2] == [("mount", "-o", "remount,noatime,nodiratime", "/mnt/uecdata"),
                                live_apply.MAINTENANCE + ("--update", "true")]
    assert argvs(steps)[2:4] == [("crm", "configure", "load", "update", paths.CRM_FILE), STAMP]
    assert argvs(steps)[-3:] == [("crm_resource", "--refresh", "--resource", "res_fs_clc"),
                                 ("crm_resource", "--wait", "--timeout=120s"), live_apply.MAINTENANCE + ("--delete",)]


def test_maintenance_mode_goes_off_even_when_the_load_fails(tmp_path):
    system, _, _ = live_pair(tmp_path)
    system.fs_on = "clc1"
    config, crm = rendered(**{"Mount-Options": "noatime,nodiratime"})
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))

    class LoadFails(type(system)):
        def run(self, argv, rcs=(0,), **kwargs):
            if list(argv[:4]) == list(live_apply.LOAD):
                raise RuntimeError("crmsh said no")
            return super().run(argv, rcs, **kwargs)
    system.__class__ = LoadFails
    with pytest.raises(RuntimeError):
        live_apply.run(system, steps)
    assert system.calls[-1] == list(live_apply.MAINTENANCE + ("--delete",))
    assert not [c for c in system.calls if c[:2] == ["crm_resource", "--refresh"]]


def test_mount_options_wait_for_the_node_where_the_filesystem_is_mounted(tmp_path):
    system, _, _ = live_pair(tmp_path)
    system.fs_on = "clc2"
    config, crm = rendered(**{"Mount-Options": "noatime,nodiratime"})
    steps, notes = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert steps == [] and "run `uec-clc-ha-ctl apply` on clc2 first" in notes[0]


def test_dropping_a_mount_option_is_refused_unless_the_restart_is_accepted(tmp_path):
    system, _, _ = live_pair(tmp_path, **{"Mount-Options": "noatime,nodiratime"})
    system.fs_on = "clc1"
    config, crm = rendered()
    with pytest.raises(Refused) as e:
        live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))
    assert "drops nodiratime" in str(e.value) and "apply --force" in str(e.value)
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}), force=True)
    assert argvs(steps)[0] == ("crm", "configure", "load", "update", paths.CRM_FILE)


@pytest.mark.parametrize("said", [True, None])
def test_a_pair_in_line_has_nothing_to_apply_even_with_sbd(tmp_path, said):
    # st_sbd loaded: nothing to run, whether or not this node said its sbd runs (a node that rebooted, after
    # a fencing, has said nothing since; doctor and the postinst would otherwise see work left)
    system, config, crm = live_pair(tmp_path)
    system.sbd = dict(SBD_UP, said=said)
    system.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: live_apply.stamp_value(config, crm)}}
    system.cib.load_text('primitive st_sbd stonith:fence_sbd\n')
    assert live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm})) == ([], [])


def schemas(system, *names):
    for name in names:
        system.write_atomic(f"{paths.PACEMAKER_SCHEMAS}/{name}.rng", b"<grammar/>\n")


def test_the_cib_schema_is_raised_once_every_node_runs_the_newer_pacemaker(tmp_path):
    """After Debian 12 -> 13 the CIB keeps 2.1.5's pacemaker-3.9; apply raises it to 3.0's pacemaker-4.0."""
    system = Running(str(tmp_path))
    schemas(system, "pacemaker-3.9", "pacemaker-4.0", "pacemaker-next", "pacemaker-1.0")
    steps = live_apply.schema_steps(system, crm_mon.View())
    assert argvs(steps) == [("cibadmin", "--upgrade", "--force")]
    assert "pacemaker-3.9 raised to pacemaker-4.0" in steps[0].what
    live_apply.run(system, steps)
    assert live_apply.schema_steps(system, crm_mon.View()) == []


def test_the_cib_schema_stays_while_the_nodes_run_different_pacemakers(tmp_path):
    """Mid-upgrade (crm_mon's mixed_version) the node still on 2.1.5 could not read pacemaker-4.0."""
    system = Running(str(tmp_path))
    schemas(system, "pacemaker-3.9", "pacemaker-4.0")
    assert live_apply.schema_steps(system, crm_mon.View(mixed=True)) == []


def test_a_cib_on_the_newest_schema_this_pacemaker_knows_is_left_alone(tmp_path):
    system = Running(str(tmp_path))
    schemas(system, "pacemaker-3.8", "pacemaker-3.9")
    assert live_apply.schema_steps(system, crm_mon.View()) == []


def test_crm_mon_says_when_the_nodes_run_different_feature_sets():
    xml = ('<pacemaker-result><summary><current_dc present="true" name="clc1" with_quorum="true" '
           'mixed_version="{}"/></summary><nodes/></pacemaker-result>')
    assert crm_mon.parse(xml.format("true")).mixed and not crm_mon.parse(xml.format("false")).mixed


class Addresses(Running):
    """A node whose eth0 carries ``addresses``; `ip addr del` takes one off (exit 2 when it is not there)."""

    def __init__(self, root, addresses, **kwargs):
        super().__init__(root, **kwargs)
        self.addresses = set(addresses)

    def run(self, argv, rcs=(0,), **kwargs):
        if argv[:5] == ["ip", "-4", "-o", "addr", "show"]:
            return Completed(tuple(argv), 0, "".join(f"2: eth0    inet {a}/24 scope global eth0\n"
                                                     for a in sorted(self.addresses)), "")
        if argv[:3] == ["ip", "addr", "del"]:
            address = argv[3].split("/")[0]
            rc = 0 if address in self.addresses else 2
            self.addresses.discard(address)
            self.calls.append(list(argv))
            if rcs is not None and rc not in rcs:
                raise RuntimeError(f"{argv} failed")
            return Completed(tuple(argv), rc, "", "")
        return super().run(argv, rcs, **kwargs)


@pytest.mark.parametrize("pacemaker_knew", [False, True])
def test_a_new_vip_takes_the_old_one_off_the_interface_once_the_cluster_settled(tmp_path, pacemaker_knew):
    """After a stack restart under the running cloud Pacemaker stops IPaddr2 with the new parameters and the
    old address stays (Debian 13's lab); when it knew the old ones, `ip addr del` finds nothing (exit 2)."""
    _, old = rendered()
    config, new = rendered(**{"VIP": "198.51.100.101"})
    system = Addresses(str(tmp_path), {"198.51.100.11", "198.51.100.100"}, loaded=old.decode())
    applied.record(system, paths.CRM_FILE, old)
    system.write_atomic(paths.CRM_FILE, new)
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: new}))
    order = argvs(steps)
    assert order.index(("crm", "configure", "load", "update", paths.CRM_FILE)) < order.index(live_apply.SETTLE) \
        < order.index(("ip", "addr", "del", "198.51.100.100/24", "dev", "eth0"))
    if pacemaker_knew:
        system.addresses.discard("198.51.100.100")
    live_apply.run(system, steps)
    assert system.addresses == {"198.51.100.11"}


def test_the_second_node_takes_an_old_vip_off_too_and_an_unchanged_vip_is_left_alone(tmp_path):
    _, old = rendered()
    config, new = rendered(**{"VIP": "198.51.100.101"})
    # the peer loaded the new file; this node's kept copy is the old one, and it held the address
    system = Addresses(str(tmp_path), {"198.51.100.12", "198.51.100.100"}, loaded=new.decode())
    applied.record(system, paths.CRM_FILE, old)
    system.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: live_apply.stamp_value(config, new)}}
    system.write_atomic(paths.CRM_FILE, new)
    steps, _ = live_apply.plan(system, config, _unchanged({paths.CRM_FILE: new}))
    assert ("ip", "addr", "del", "198.51.100.100/24", "dev", "eth0") in argvs(steps)
    # nothing to take off where the old address is not, nor when the VIP did not change
    elsewhere = Addresses(str(tmp_path / "b"), {"198.51.100.12"}, loaded=new.decode())
    applied.record(elsewhere, paths.CRM_FILE, old)
    elsewhere.write_atomic(paths.CRM_FILE, new)
    assert not [s for s in live_apply.plan(elsewhere, config, _unchanged({paths.CRM_FILE: new}))[0]
                if s.argv[:2] == ("ip", "addr")]
    same_config, same = rendered(**{"Monitor-Interval": "45"})
    same_node = Addresses(str(tmp_path / "c"), {"198.51.100.11", "198.51.100.100"}, loaded=old.decode())
    applied.record(same_node, paths.CRM_FILE, old)
    same_node.write_atomic(paths.CRM_FILE, same)
    assert not [s for s in live_apply.plan(same_node, same_config, _unchanged({paths.CRM_FILE: same}))[0]
                if s.argv[:2] == ("ip", "addr")]


# -- corosync.conf that a reload on the peer made live ------------------------------------------------------
def test_a_corosync_conf_corosync_holds_already_is_recorded_without_a_reload(tmp_path):
    # the first node wrote the file in an earlier apply; the second node's apply reloaded both (corosync-cfgtool
    # -R makes every node re-read its own file); the first node's record is still the old file's
    config = settings.require_valid(dict(full_raw("corosync-drbd84"), **LAB_COROSYNC))
    conf = render.render_all(config, keyring.derive(config.cluster_secret, config.cluster_name))[
        paths.COROSYNC_CONF].content

    class Reloaded(Running):
        cmap = LAB_CMAP

        def run(self, argv, rcs=(0,), **kwargs):
            if argv[0] == "corosync-cmapctl":
                self.calls.append(list(argv))
                return Completed(tuple(argv), 0, "".join(
                    line + "\n" for line in self.cmap.splitlines() if line.startswith(argv[1])), "")
            return super().run(argv, rcs, **kwargs)
    system = Reloaded(str(tmp_path), loaded="")
    applied.record(system, paths.COROSYNC_CONF, b"totem { token: 3000 }\n")
    system.write_atomic(paths.COROSYNC_CONF, conf)
    steps, notes = live_apply.plan(system, config, _unchanged({paths.COROSYNC_CONF: conf}))
    assert [(s.argv, s.applies) for s in steps] == [((), (paths.COROSYNC_CONF, conf))] and notes == []
    live_apply.run(system, steps)
    assert ["corosync-cfgtool", "-R"] not in system.calls
    assert live_apply.plan(system, config, _unchanged({paths.COROSYNC_CONF: conf})) == ([], [])
    # a file corosync does not hold (another token) is reloaded
    Reloaded.cmap = LAB_CMAP.replace("totem.token (u32) = 1000", "totem.token (u32) = 3000")
    applied.record(system, paths.COROSYNC_CONF, b"totem { token: 3000 }\n")
    steps, _ = live_apply.plan(system, config, _unchanged({paths.COROSYNC_CONF: conf}))
    assert argvs(steps) == [("corosync-cfgtool", "-R")]
    # and so is a file recorded as taken that corosync no longer runs with (a value changed by hand with
    # corosync-cmapctl; here: the token): the file is what counts
    applied.record(system, paths.COROSYNC_CONF, conf)
    steps, _ = live_apply.plan(system, config, _unchanged({paths.COROSYNC_CONF: conf}))
    assert [(s.argv, s.applies) for s in steps] == [(("corosync-cfgtool", "-R"), (paths.COROSYNC_CONF, conf))]
    assert "totem.token: file 1000, corosync 3000" in steps[0].what
    Reloaded.cmap = LAB_CMAP
    assert live_apply.plan(system, config, _unchanged({paths.COROSYNC_CONF: conf})) == ([], [])


def test_the_peer_loaded_what_this_node_had_before_this_apply_so_ours_is_loaded(tmp_path):
    # the arbiter added with two applies: clc1 wrote the arbiter's cluster.crm and held the CIB, clc2 loaded the
    # same file (stamp: clc2); clc1's record is still the file before. Removing the arbiter, clc1's apply replaces
    # the arbiter's file (`before`) with the one without: the peer loaded what this node had, not other settings
    system, config, crm = live_pair(tmp_path)
    _, with_arbiter = rendered(Arbiter="198.51.100.13")
    applied.record(system, paths.CRM_FILE, crm)                   # clc1's last load: before the arbiter
    system.cib.load_text(with_arbiter.decode())
    system.cib.stamp = {live_apply.STAMP_SET: {live_apply.STAMP: f"{applied.digest(with_arbiter)} node=clc2"}}
    update = [pipeline.Change("update", RenderedFile(paths.CRM_FILE, crm, 0o600, "x"), with_arbiter)]
    steps, _ = live_apply.plan(system, config, update)
    assert argvs(steps)[:2] == [("crm", "configure", "load", "update", paths.CRM_FILE), STAMP]
    # without that `before`, a stamp from another file is still refused
    with pytest.raises(Refused, match="loaded on clc2"):
        live_apply.plan(system, config, _unchanged({paths.CRM_FILE: crm}))


def test_the_first_nodes_apply_of_a_quorum_change_still_tells_its_words(tmp_path):
    # removing the arbiter, after this node rejoined (its transient words gone): the quorum change holds this
    # node's CIB load and reload, but its word that it has the fencing probe is told, or the peer's apply (the
    # second, which loads the CIB with the probe) would wait for it
    system, config, crm = live_pair(tmp_path)
    system.probe = {"clc1": None, "clc2": True}

    class Voting(Running):
        def run(self, argv, rcs=(0,), **kwargs):
            if list(argv[:2]) == ["corosync-cmapctl", "-g"]:
                value = {"quorum.device.net.host": "198.51.100.13", "quorum.device.net.port": "5403"}.get(argv[2])
                return Completed(tuple(argv), 0 if value else 1, f"{argv[2]} (str) = {value}\n" if value else "", "")
            return super().run(argv, rcs, **kwargs)
    voting = Voting(str(tmp_path), loaded=rendered(Arbiter="198.51.100.13")[1].decode())   # no probe there
    voting.probe = system.probe
    steps, notes = live_apply.plan(voting, config, _unchanged({paths.CRM_FILE: crm}))
    assert ("attrd_updater", "-n", live_apply.PROBE_ATTRIBUTE, "-U", "1") in argvs(steps), argvs(steps)
    assert not [s for s in argvs(steps) if s[:2] == ("crm", "configure")]          # the CIB waits
    assert any("run `uec-clc-ha-ctl apply` on clc2" in n for n in notes), notes


def test_the_arbiters_freeze_goes_back_to_pacemakers_default_when_it_is_removed(tmp_path):
    # `load update` merges the property set: the option the new file no longer names would stay
    system, _, arbiter_crm = live_pair(tmp_path, "corosync-arbiter")
    assert "no-quorum-policy=freeze" in arbiter_crm.decode()
    assert system.cib.stamp["cib-bootstrap-options"]["no-quorum-policy"] == "freeze"
    config, crm = rendered("corosync-arbiter", Arbiter="")
    assert "no-quorum-policy" not in "".join(l for l in crm.decode().splitlines() if not l.startswith("#"))
    steps = live_apply.crm_steps(system, config, crm)
    assert argvs(steps) == [("crm", "configure", "load", "update", paths.CRM_FILE), STAMP,
                            ("crm_attribute", "--type", "crm_config", "--name", "no-quorum-policy", "--delete")]
    system.write_atomic(paths.CRM_FILE, crm)
    live_apply.run(system, steps)
    assert "no-quorum-policy" not in system.cib.stamp["cib-bootstrap-options"]
    assert live_apply.crm_steps(system, config, crm) == []


def test_an_admins_own_no_quorum_policy_stays(tmp_path):
    system, config, crm = live_pair(tmp_path)
    system.cib.stamp.setdefault("cib-bootstrap-options", {})["no-quorum-policy"] = "stop"
    assert live_apply.live_cib(system).leftover_options(crm.decode()) == []
    # and the arbiter's file names the option: it is never deleted there
    arbiter = live_pair(tmp_path / "arbiter", "corosync-arbiter")
    assert live_apply.live_cib(arbiter[0]).leftover_options(arbiter[2].decode()) == []
