"""`uec-clc-ha-ctl diff` (uec_clc_ha.cli.diff) through main(argv), against temporary roots."""

from scenarios import write_settings


def test_diff_shows_changes_hides_secrets(ctl, root):
    write_settings(root, "corosync-drbd84")
    r = ctl("--root", root.root, "diff")
    assert r.rc == 1
    assert "+++ " + root.path("/etc/corosync/corosync.conf") in r.out
    assert "/etc/drbd.d/uec-clc.res: would be created (holds secrets: content not shown" in r.out
    assert "shared-secret" not in r.out
