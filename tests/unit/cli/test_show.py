"""`uec-clc-ha-ctl show` (uec_clc_ha.cli.show) through main(argv), against temporary roots."""

from scenarios import write_settings
from uec_clc_ha.errors import EXIT_USAGE

SECRET = "correct-horse-battery-staple-for-tests"


def test_show_masks_secrets(ctl, root):
    write_settings(root, "corosync-drbd9-ipmi")
    r = ctl("--root", root.root, "show")
    assert r.rc == 0
    assert "Cluster-Secret: (set, hidden)" in r.out
    assert "IPMI-Password: (set, hidden)" in r.out
    assert SECRET not in r.out and "bmc-password" not in r.out
    assert "VIP: 198.51.100.100" in r.out


def test_show_one_key_and_unknown_key(ctl, root):
    write_settings(root, "corosync-drbd84")
    assert ctl("--root", root.root, "show", "vip").out == "VIP: 198.51.100.100\n"
    r = ctl("--root", root.root, "show", "Colour")
    assert r.rc == EXIT_USAGE and "Colour" in r.err
