"""The record of the cluster stack's units before uec-clc-ha changed them, on temporary roots with scripted tools.

The words are what systemctl and the init scripts say; here a System
answers as they do (systemctl's is-enabled also offline, with --root).
debian/postrm reads the file in sh: the package tests
(tests/integration/test_maintainer_scripts.py) run it for real in a chroot.
"""

import os
import re

from checkout import TOP
from uec_clc_ha.host import paths, unit_record
from uec_clc_ha.host.system import Completed, System


class Host(System):
    """Units with an enabled word and a running state, as systemctl or the init scripts report them."""

    def __init__(self, root, enabled=None, active=(), systemd=True, systemctl=True):
        super().__init__(root)
        self.enabled = dict(enabled or {})        # unit -> is-enabled word
        self.active = set(active)
        self.systemctl = systemctl
        self.calls = []
        if systemd:
            self.makedirs("/run/systemd/system")

    def which(self, tool):
        return f"/usr/bin/{tool}" if tool != "systemctl" or self.systemctl else None

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        if argv[:3] == ["systemctl", f"--root={self.root}", "is-enabled"]:
            word = self.enabled.get(argv[3])
            return Completed(tuple(argv), 0 if word == "enabled" else 1, f"{word}\n" if word else "", "")
        if argv[:2] == ["systemctl", "is-active"]:
            up = argv[2] in self.active
            return Completed(tuple(argv), 0 if up else 3, "active\n" if up else "inactive\n", "")
        if argv[0] == "service" and argv[2] == "status":
            return Completed(tuple(argv), 0 if f"{argv[1]}.service" in self.active else 3, "", "")
        raise AssertionError(f"unexpected {argv}")


def test_each_unit_is_recorded_once_as_it_was_before_the_first_change(root):
    host = Host(root.root, {"corosync.service": "disabled", "sbd.service": "enabled"}, active={"sbd.service"})
    assert unit_record.note(host, "corosync.service", "sbd.service") == [
        ("corosync.service", "disabled", "inactive"), ("sbd.service", "enabled", "active")]
    host.enabled["corosync.service"] = "enabled"              # what cluster-init then did
    host.active.add("corosync.service")
    assert unit_record.note(host, "corosync.service", "pacemaker.service") == [
        ("pacemaker.service", "unknown", "inactive")]        # no such unit: is-enabled says nothing
    assert unit_record.recorded(host) == {"corosync.service": ("disabled", "inactive"),
                                          "sbd.service": ("enabled", "active"),
                                          "pacemaker.service": ("unknown", "inactive")}
    lines = host.read(paths.CLUSTER_UNITS).splitlines()
    assert lines[:2] == unit_record.HEADER.splitlines()
    assert lines[2:] == ["corosync.service disabled inactive", "sbd.service enabled active",
                         "pacemaker.service unknown inactive"]
    assert os.stat(host.path(paths.CLUSTER_UNITS)).st_mode & 0o777 == 0o644
    calls = len(host.calls)
    assert unit_record.note(host, "sbd.service", "corosync.service") == []       # nothing asked again
    assert len(host.calls) == calls


def test_a_unit_named_twice_in_one_call_is_recorded_once(root):
    host = Host(root.root, {"corosync.service": "enabled"})
    unit_record.note(host, "corosync.service", "corosync.service")
    assert host.read(paths.CLUSTER_UNITS).count("corosync.service") == 1


def test_without_a_running_systemd_the_init_script_says_whether_it_runs(root):
    host = Host(root.root, {"corosync.service": "enabled"}, active={"corosync.service"}, systemd=False)
    host.write_atomic("/etc/init.d/corosync", "#!/bin/sh\n", mode=0o755)
    assert unit_record.note(host, "corosync.service", "corosync-qdevice.service") == [
        ("corosync.service", "enabled", "active"), ("corosync-qdevice.service", "unknown", "inactive")]
    assert ["service", "corosync", "status"] in host.calls
    assert not [c for c in host.calls if c[:2] == ["systemctl", "is-active"]]


def test_without_systemctl_the_init_scripts_links_say_whether_it_starts_at_boot(root):
    host = Host(root.root, systemd=False, systemctl=False)
    for name in ("corosync", "pacemaker"):
        host.write_atomic(f"/etc/init.d/{name}", "#!/bin/sh\n", mode=0o755)
    host.makedirs("/etc/rc2.d")
    os.symlink("../init.d/corosync", host.path("/etc/rc2.d/S01corosync"))
    os.symlink("../init.d/pacemaker", host.path("/etc/rc2.d/K01pacemaker"))
    unit_record.note(host, "corosync.service", "pacemaker.service", "sbd.service")
    assert unit_record.recorded(host) == {"corosync.service": ("enabled", "inactive"),
                                          "pacemaker.service": ("disabled", "inactive"),
                                          "sbd.service": ("unknown", "inactive")}


def test_an_answer_that_is_not_a_word_is_recorded_as_unknown(root):
    host = Host(root.root, {"sbd.service": "Failed to get unit file state: Access denied"})
    assert unit_record.note(host, "sbd.service") == [("sbd.service", "unknown", "inactive")]
    assert len(host.read(paths.CLUSTER_UNITS).splitlines()[-1].split()) == 3      # three words for sh's read


def test_a_record_someone_edited_keeps_its_first_line_per_unit(root):
    host = Host(root.root)
    host.write_atomic(paths.CLUSTER_UNITS, "# comment\ncorosync.service disabled inactive\n"
                                           "corosync.service enabled active\nbroken line\n")
    assert unit_record.recorded(host) == {"corosync.service": ("disabled", "inactive")}


def test_the_postrm_reads_the_record_where_the_package_writes_it():
    # debian/postrm repeats the path (the package's Python is gone at purge) and reads three words a line
    text = open(os.path.join(TOP, "debian", "postrm"), encoding="utf-8").read()
    assert re.search(r"^STATE=(\S+)$", text, re.M).group(1) == paths.STATE_DIR
    assert re.search(r"^UNITS=\$STATE/(\S+)$", text, re.M).group(1) == os.path.basename(paths.CLUSTER_UNITS)
    assert text.count("while read -r unit enabled active; do") == 2
    # the stops in the order the stack needs: pacemaker first, corosync (and sbd with it) last
    assert "for unit in pacemaker.service corosync-qdevice.service corosync.service; do" in text
    purge = text[text.index("\npurge)"):]
    assert purge.index("stop_started") < purge.index("put_back_enablement") < purge.index('rm -rf "$STATE"')
