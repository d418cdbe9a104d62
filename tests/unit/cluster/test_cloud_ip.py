"""cloud-ip against a temporary controller tree: euca_conf used where it exists (a scripted one here: the real
tool is part of Eucalyptus, not installable on Debian 12), exact steps printed where it does not, nothing
edited by hand, and the recipe's step 6 always printed as a checklist."""

import io

import pytest

from scenarios import write_settings
from uec_clc_ha.cli import cloud_ip as cloud_ip_cmd
from uec_clc_ha.errors import UsageError
from uec_clc_ha.host.system import Completed, System

CONF = b'EUCALYPTUS="/"\nEUCA_USER="eucalyptus"\nVNET_CLOUDIP="192.0.2.9"\nVNET_MODE="MANAGED-NOVLAN"\n'


class Controller(System):
    def __init__(self, root, has_euca_conf):
        super().__init__(root)
        self.has_euca_conf, self.calls = has_euca_conf, []

    def which(self, tool):
        return "/usr/sbin/euca_conf" if tool == "euca_conf" and self.has_euca_conf else None

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        assert argv[:2] == ["euca_conf", "--import-conf"]
        imported = self.read(argv[2])                      # what euca_conf does: the VNET_ lines replace the old
        lines = [line for line in self.read("/etc/eucalyptus/eucalyptus.conf").splitlines()
                 if not line.startswith("VNET_CLOUDIP=")]
        self.write_atomic("/etc/eucalyptus/eucalyptus.conf", ("\n".join(lines) + "\n" + imported).encode())
        return Completed(tuple(argv), 0, "", "")


def run(system, **kw):
    class Args:
        settings = None
        vip = kw.get("vip")
        dry_run = kw.get("dry_run", False)
    out = io.StringIO()
    return cloud_ip_cmd.run(Args, system, out), out.getvalue()


@pytest.fixture
def controller(root):
    def make(has_euca_conf=True, conf=CONF):
        system = Controller(root.root, has_euca_conf)
        if conf is not None:
            system.write_atomic("/etc/eucalyptus/eucalyptus.conf", conf)
        return system
    return make


def test_on_a_clc_the_vip_comes_from_the_settings_and_euca_conf_imports_it(controller):
    system = controller()
    write_settings(system, "corosync-drbd84")
    rc, text = run(system)
    assert rc == 0, text
    assert system.calls == [["euca_conf", "--import-conf", "/run/uec-clc-ha-vnet.conf"]]
    conf = system.read("/etc/eucalyptus/eucalyptus.conf")
    assert 'VNET_CLOUDIP="198.51.100.100"' in conf and "192.0.2.9" not in conf and 'VNET_MODE=' in conf
    assert not system.exists("/run/uec-clc-ha-vnet.conf")
    assert "Cloud Host = 198.51.100.100" in text and "[ ]" in text
    rc, text = run(system)
    assert rc == 0 and "already" in text and len(system.calls) == 1


def test_without_euca_conf_nothing_is_edited_and_the_steps_are_printed(controller):
    system = controller(has_euca_conf=False)
    rc, text = run(system, vip="198.51.100.100")
    assert rc == 1
    assert system.read("/etc/eucalyptus/eucalyptus.conf").encode() == CONF and system.calls == []
    assert 'VNET_CLOUDIP="198.51.100.100"' in text and "euca_conf --import-conf" in text


def test_dry_run_and_bad_input_change_nothing(controller):
    system = controller()
    rc, text = run(system, vip="198.51.100.100", dry_run=True)
    assert rc == 0 and "would set VNET_CLOUDIP=198.51.100.100 (now 192.0.2.9)" in text and system.calls == []
    with pytest.raises(UsageError, match="--vip 198.51.100.300: must be an IPv4 address"):
        run(system, vip="198.51.100.300")
    assert system.read("/etc/eucalyptus/eucalyptus.conf").encode() == CONF


def test_a_host_without_eucalyptus(controller):
    rc, text = run(controller(conf=None), vip="198.51.100.100")
    assert rc == 1 and "Eucalyptus is not installed here" in text
