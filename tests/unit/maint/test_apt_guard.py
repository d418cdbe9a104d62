"""apt's hook: an upgrade of the cluster stack is stopped on the node that runs the cloud, let through elsewhere.

crm_mon's answer is the lab's, recorded (tests/fixtures/status/bookworm/normal: the
cloud on clc1); apt's side is its hook protocol version 2, as apt writes it.
"""

import io
import json
import os

import pytest

from checkout import TOP
from uec_clc_ha.host import paths
from uec_clc_ha.host.system import Completed, System
from uec_clc_ha.maint import __main__ as maint_main, apt_guard

CRM_MON = json.load(open(os.path.join(TOP, "tests", "fixtures", "status", "bookworm", "normal", "clc1.json")))[
    "sources"]["crm_mon"]["stdout"]


def apt_says(*packages, **options):
    """What apt writes to a Version 2 hook: its configuration, a blank line, one line per package."""
    config = "".join(f"{k}={v}\n" for k, v in dict({"APT::Architecture": "amd64"}, **options).items())
    return io.StringIO("VERSION 2\n" + config + "\n" + "".join(f"{p}\n" for p in packages))


UPGRADE_PACEMAKER = "pacemaker 2.1.5-1+deb12u1 < 2.1.5-1+deb12u2 /var/cache/apt/archives/pacemaker.deb"
REINSTALL_COROSYNC = "corosync 3.1.7-1 = 3.1.7-1 /var/cache/apt/archives/corosync.deb"
UPGRADE_OTHER = "tzdata 2024a-0 < 2024b-0 /var/cache/apt/archives/tzdata.deb"
NEW_SBD = "sbd - < 1.5.1-1 /var/cache/apt/archives/sbd.deb"


class Node(System):
    """A node whose cluster stack runs when crm_mon answers (and is stopped when it does not)."""

    def __init__(self, root, name="clc1", crm_mon=CRM_MON):
        super().__init__(root)
        self.name, self.crm_mon = name, crm_mon
        self.masked = set()

    def run(self, argv, rcs=(0,), **kwargs):
        if argv[:3] == ["systemctl", "is-active", "--quiet"]:
            return Completed(tuple(argv), 0 if self.crm_mon else 3, "", "")
        if argv[:3] in (["systemctl", "mask", "--runtime"], ["systemctl", "unmask", "--runtime"]):
            units = set(argv[4:])
            self.masked = self.masked | units if argv[1] == "mask" else self.masked - units
            return Completed(tuple(argv), 0, "", "")
        if argv[0] == "crm_mon":
            return Completed(tuple(argv), 0 if self.crm_mon else 102, self.crm_mon or "", "")
        if argv[:2] == ["crm_node", "-n"]:
            return Completed(tuple(argv), 0, self.name + "\n", "")
        raise AssertionError(f"unexpected {argv}")


def guard(node, stream):
    err = io.StringIO()
    return apt_guard.check(node, stream, err), err.getvalue()


def test_the_stack_is_not_upgraded_under_the_cloud(tmp_path):
    rc, said = guard(Node(str(tmp_path)), apt_says(UPGRADE_OTHER, UPGRADE_PACEMAKER, REINSTALL_COROSYNC))
    assert rc == 1
    assert "NOT RUN" in said and "corosync, pacemaker" in said and "clc1 runs the cloud" in said
    assert "`uec-clc-ha-ctl standby clc1`" in said and "`uec-clc-ha-ctl unstandby clc1`" in said
    assert f"-o {apt_guard.ALLOW}=true" in said


@pytest.mark.parametrize("node, packages, options", [
    ("clc2", (UPGRADE_PACEMAKER,), {}),                                  # the standby node
    ("clc1", (UPGRADE_OTHER, NEW_SBD), {}),                              # nothing that restarts the stack
    ("clc1", (UPGRADE_PACEMAKER,), {apt_guard.ALLOW: "true"}),           # the admin said so
])
def test_elsewhere_apt_goes_on(tmp_path, node, packages, options):
    assert guard(Node(str(tmp_path), node), apt_says(*packages, **options)) == (0, "")


def test_maintenance_mode_or_no_cluster_lets_apt_go_on(tmp_path):
    maintained = CRM_MON.replace('maintenance-mode="false"', 'maintenance-mode="true"')
    assert maintained != CRM_MON
    assert guard(Node(str(tmp_path), crm_mon=maintained), apt_says(UPGRADE_PACEMAKER))[0] == 0
    assert guard(Node(str(tmp_path), crm_mon=""), apt_says(UPGRADE_PACEMAKER))[0] == 0


def test_a_stopped_stack_is_held_stopped_while_dpkg_upgrades_it_and_released_after(tmp_path):
    node = Node(str(tmp_path), crm_mon="")
    node.write_atomic(paths.SETTINGS_PATH, "Local-Node: clc1\n", mode=0o600)       # a node of the pair
    rc, said = guard(node, apt_says(UPGRADE_OTHER, UPGRADE_PACEMAKER, REINSTALL_COROSYNC))
    assert rc == 0
    assert node.masked == set(apt_guard.HELD) == {"corosync.service", "pacemaker.service", "sbd.service"}
    assert "held stopped while dpkg upgrades corosync, pacemaker" in said and "next boot" in said
    assert node.read(paths.APT_HELD).split() == list(apt_guard.HELD)
    err = io.StringIO()
    assert apt_guard.release(node, err) == 0 and err.getvalue() == ""
    assert node.masked == set() and not node.exists(paths.APT_HELD)
    assert apt_guard.release(node, err) == 0 and node.masked == set()      # nothing held: nothing to do


@pytest.mark.parametrize("packages, settings", [
    ((UPGRADE_PACEMAKER,), False),          # not a node of a pair (no settings): nothing of ours to protect
    ((UPGRADE_OTHER, NEW_SBD), True),       # nothing a stack maintainer script would start
])
def test_nothing_is_held_otherwise(tmp_path, packages, settings):
    node = Node(str(tmp_path), crm_mon="")
    if settings:
        node.write_atomic(paths.SETTINGS_PATH, "Local-Node: clc1\n", mode=0o600)
    assert guard(node, apt_says(*packages)) == (0, "")
    assert node.masked == set() and not node.exists(paths.APT_HELD)


def test_a_running_stack_is_never_held(tmp_path):
    node = Node(str(tmp_path), "clc2")                  # the standby node: its stack restarts, as it should
    node.write_atomic(paths.SETTINGS_PATH, "Local-Node: clc2\n", mode=0o600)
    assert guard(node, apt_says(UPGRADE_PACEMAKER)) == (0, "")
    assert node.masked == set()


def test_a_hold_that_fails_is_said_and_apt_goes_on(tmp_path):
    class NoSystemd(Node):
        def run(self, argv, rcs=(0,), **kwargs):
            if argv[:2] == ["systemctl", "mask"]:
                return Completed(tuple(argv), 1, "", "System has not been booted with systemd")
            return super().run(argv, rcs, **kwargs)
    node = NoSystemd(str(tmp_path), crm_mon="")
    node.write_atomic(paths.SETTINGS_PATH, "Local-Node: clc1\n", mode=0o600)
    rc, said = guard(node, apt_says(UPGRADE_PACEMAKER))
    assert rc == 0 and "could not hold" in said and "not been booted with systemd" in said
    assert not node.exists(paths.APT_HELD)


def test_a_release_that_fails_never_stops_apt(tmp_path):
    class Stuck(Node):
        def run(self, argv, rcs=(0,), **kwargs):
            raise OSError("systemctl exploded")
    node = Stuck(str(tmp_path))
    node.write_atomic(paths.APT_HELD, "corosync.service\n")
    err = io.StringIO()
    assert apt_guard.release(node, err) == 0
    assert "systemctl unmask --runtime corosync.service" in err.getvalue()


def test_removing_the_stack_counts_too():
    _, packages = apt_guard.parse(apt_says("drbd-utils 9.22.0-1 < - **REMOVE**"))
    assert apt_guard.touched(packages) == ["drbd-utils"]


def test_a_broken_guard_never_stops_apt(tmp_path):
    class Broken(Node):
        def run(self, argv, rcs=(0,), **kwargs):
            raise OSError("crm_mon exploded")
    err = io.StringIO()
    assert apt_guard.guarded_check(Broken(str(tmp_path)), apt_says(UPGRADE_PACEMAKER), err) == 0
    assert "letting apt go on" in err.getvalue()


def test_the_hook_is_written_by_the_postinst_and_goes_with_the_package(root):
    apt_guard.install_hook(root)
    text = root.read(paths.APT_HOOK_CONF)
    assert f'DPkg::Pre-Install-Pkgs {{ "{paths.APT_GUARD}"; }};' in text
    assert f'DPkg::Tools::Options::{paths.APT_GUARD}::Version "2";' in text     # apt keys it by the first word
    assert f'DPkg::Post-Invoke {{ "if [ -e {paths.APT_HELD} ] && [ -x {paths.APT_GUARD} ]; then ' \
           f'{paths.APT_GUARD} release; fi"; }};' in text
    apt_guard.remove_hook(root)
    assert not root.exists(paths.APT_HOOK_CONF)


def test_the_hook_script_runs_the_guard():
    with open(os.path.join(TOP, "src", "lib", "apt-guard")) as fh:
        script = fh.read()
    assert "python3 -m uec_clc_ha.maint apt-guard" in script and "python3 -m uec_clc_ha.maint apt-release" in script
    assert {"apt-guard", "apt-release"} <= set(maint_main.ACTIONS)
