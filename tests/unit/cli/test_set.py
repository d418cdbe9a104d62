"""`uec-clc-ha-ctl set` (uec_clc_ha.cli.set) through main(argv), against temporary roots: values, rules, the secret."""

import os

import pytest

from scenarios import write_settings
from uec_clc_ha.config import settings, settings_file
from uec_clc_ha.errors import EXIT_INVALID, EXIT_REFUSED, EXIT_USAGE
from uec_clc_ha.host import paths

SECRET = "correct-horse-battery-staple-for-tests"


def test_set_writes_atomically_and_keeps_comments(ctl, root):
    write_settings(root, "corosync-drbd84")
    r = ctl("--root", root.root, "set", "VIP=198.51.100.101", "Monitor-Interval=25")
    assert r.rc == 0, r
    text = root.read(paths.SETTINGS_PATH)
    assert "VIP: 198.51.100.101" in text and "Monitor-Interval: 25" in text
    assert "# The virtual IP clients" in text
    assert root.stat(paths.SETTINGS_PATH).st_mode & 0o777 == 0o600
    assert [n for n in os.listdir(root.path("/etc/uec-clc-ha")) if n.startswith(".")] == []


def test_set_refuses_bad_values_and_writes_nothing(ctl, root):
    write_settings(root, "corosync-drbd84")
    before = root.read(paths.SETTINGS_PATH)
    r = ctl("--root", root.root, "set", "VIP=10.10.10.300", "DRBD-Port=70000")
    assert r.rc == EXIT_INVALID
    assert "VIP: must be an IPv4 address" in r.err and "DRBD-Port: must be from 1024 to 65535" in r.err
    assert "nothing was written" in r.err
    assert root.read(paths.SETTINGS_PATH) == before


def test_set_refuses_a_value_that_breaks_a_cross_rule(ctl, root):
    write_settings(root, "corosync-drbd84")
    r = ctl("--root", root.root, "set", "Peer-Address=198.51.100.11")
    assert r.rc == EXIT_INVALID and "Peer-Address: must differ from Local-Address" in r.err


def test_set_on_a_fresh_root_lists_what_is_still_missing(ctl, root):
    r = ctl("--root", root.root, "set", "Local-Node=clc1")
    assert r.rc == 0, r
    assert "Still to settle" in r.out and "VIP: is required" in r.out
    assert settings_file.load(root)["Local-Node"] == "clc1"


def test_set_unknown_key_and_malformed_assignment(ctl, root):
    assert ctl("--root", root.root, "set", "Colour=blue").rc == EXIT_USAGE
    assert ctl("--root", root.root, "set", "VIP").rc == EXIT_USAGE
    assert ctl("--root", root.root, "set").rc == EXIT_USAGE
    assert not root.exists(paths.SETTINGS_PATH)


def test_generate_secret_never_silently_replaces_the_secret(ctl, root):
    write_settings(root, "corosync-drbd84")
    before = root.read(paths.SETTINGS_PATH)
    r = ctl("--root", root.root, "set", "--generate-secret")
    assert r.rc == EXIT_REFUSED and "already set" in r.err and "--force" in r.err
    assert "other node" in r.err and "apply" in r.err
    assert root.read(paths.SETTINGS_PATH) == before


def test_generate_secret_is_shown_once_and_stored(ctl, root):
    write_settings(root, "corosync-drbd84", **{"Cluster-Secret": ""})
    r = ctl("--root", root.root, "set", "--generate-secret")
    assert r.rc == 0, r
    stored = settings_file.load(root)["Cluster-Secret"]
    assert stored != SECRET and len(stored) >= 40
    assert r.out.count(stored) == 1
    assert stored not in ctl("--root", root.root, "show").out


def test_replacing_the_secret_with_force_says_to_set_it_on_both_nodes(ctl, root):
    write_settings(root, "corosync-drbd84")
    r = ctl("--root", root.root, "set", "--generate-secret", "--force")
    assert r.rc == 0, r
    assert settings_file.load(root)["Cluster-Secret"] != SECRET
    assert "Set the same secret on the other node before running `uec-clc-ha-ctl apply`" in r.out


def test_secret_from_stdin(ctl, root, monkeypatch):
    import io
    write_settings(root, "corosync-drbd84", **{"Cluster-Secret": ""})
    monkeypatch.setattr("sys.stdin", io.StringIO("another-secret-of-enough-length\n"))
    r = ctl("--root", root.root, "set", "--secret-stdin")
    assert r.rc == 0 and "another-secret" not in r.out
    assert settings_file.load(root)["Cluster-Secret"] == "another-secret-of-enough-length"


@pytest.mark.parametrize("how", ["stdin", "argv"])
def test_a_passphrase_with_spaces_round_trips(ctl, root, monkeypatch, how):
    import io
    phrase = "correct horse  battery staple, twice"
    write_settings(root, "corosync-drbd84", **{"Cluster-Secret": ""})
    if how == "stdin":
        monkeypatch.setattr("sys.stdin", io.StringIO(phrase + "\n"))
        r = ctl("--root", root.root, "set", "--secret-stdin")
    else:
        r = ctl("--root", root.root, "set", f"Cluster-Secret={phrase}")
    assert r.rc == 0, r
    assert settings_file.load(root)["Cluster-Secret"] == phrase
    assert settings.validate(settings_file.load(root))[1] == []


@pytest.mark.parametrize("bad", [" leading space passphrase", "trailing space passphrase ", "tab\tinside the phrase"])
def test_a_passphrase_that_cannot_round_trip_is_refused(ctl, root, monkeypatch, bad):
    import io
    write_settings(root, "corosync-drbd84", **{"Cluster-Secret": ""})
    monkeypatch.setattr("sys.stdin", io.StringIO(bad + "\n"))
    r = ctl("--root", root.root, "set", "--secret-stdin")
    assert r.rc == EXIT_INVALID and "Cluster-Secret:" in r.err
    assert bad.strip() not in r.err


def test_a_setting_can_follow_the_default_again(ctl, root):
    write_settings(root, "corosync-drbd84")
    assert ctl("--root", root.root, "set", "Monitor-Interval=25").rc == 0
    r = ctl("--root", root.root, "set", "--default", "monitor-interval")
    assert r.rc == 0 and "Monitor-Interval: follows the default (10)" in r.out
    text = root.read(paths.SETTINGS_PATH)
    assert "\n#Monitor-Interval: 10\n" in text and "\nMonitor-Interval:" not in text
    assert ctl("--root", root.root, "set", "--default", "Local-Node").rc == EXIT_USAGE     # no default to follow


def test_an_optional_setting_follows_its_empty_default(ctl, root):
    """`set --default Arbiter` removes the arbiter: what the quorum change's messages tell the admin to run."""
    write_settings(root, "corosync-arbiter")
    r = ctl("--root", root.root, "set", "--default", "Arbiter")
    assert r.rc == 0 and "Arbiter: follows the default (empty: not used)" in r.out, r
    assert settings_file.load(root).get("Arbiter", "") == ""
    assert "\nArbiter:" not in root.read(paths.SETTINGS_PATH)
