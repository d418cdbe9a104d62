"""uec-clc-ha-ctl's main(argv) (uec_clc_ha.cli): usage, version, the global options, and settings it cannot read, against temporary roots (no real tools)."""

import pytest

from scenarios import write_settings
from uec_clc_ha.errors import EXIT_INVALID, EXIT_USAGE
from uec_clc_ha.host import paths


def test_help_and_version(ctl):
    r = ctl("--help")
    assert r.rc == 0
    for sub in ("show", "set", "check", "render", "diff", "apply"):
        assert ctl(sub, "--help").rc == 0
    assert ctl("--version").rc == 0


def test_unknown_command_is_usage(ctl):
    r = ctl("frobnicate")
    assert r.rc == EXIT_USAGE and "invalid choice" in r.err


def test_settings_option_reads_and_writes_a_real_path(ctl, tmp_path):
    path = tmp_path / "alt.conf"
    path.write_text("VIP: 198.51.100.100\n")
    assert ctl("--settings", str(path), "set", "VIP-Prefix=25").rc == 0
    assert "VIP-Prefix: 25" in path.read_text()
    assert ctl("--settings", str(path), "show", "VIP-Prefix").out == "VIP-Prefix: 25\n"


def test_malformed_settings_file_is_reported(ctl, root):
    root.write_atomic(paths.SETTINGS_PATH, "VIP 1\n")
    r = ctl("--root", root.root, "show")
    assert r.rc == EXIT_INVALID and "not a deb822 file" in r.err


@pytest.mark.parametrize("argv", [["check"], ["apply"], ["diff"]])
def test_fresh_root_is_invalid_not_a_crash(ctl, root, argv):
    r = ctl("--root", root.root, *argv)
    assert r.rc in (1, EXIT_INVALID)
    assert "Cluster-Secret: is required" in r.err


def test_root_may_follow_the_subcommand(ctl, root):
    write_settings(root, "corosync-drbd84")
    assert ctl("show", "--root", root.root, "VIP").out == "VIP: 198.51.100.100\n"
    assert ctl("diff", "--root", root.root).rc == 1
