"""The deb822 settings file: strict reading, comment-keeping writing."""

import pytest

from uec_clc_ha.config import settings, settings_file
from uec_clc_ha.errors import SettingsFileError
from uec_clc_ha.host import paths


def test_pristine_lists_every_field_with_its_default():
    raw = settings_file.parse(settings_file.pristine_text())
    assert raw == settings.defaults()
    text = settings_file.pristine_text()
    for fd in settings.FIELDS:
        # a default is a comment (it follows the package), a setting without one is there to fill in
        assert (f"\n#{fd.key}: {fd.default}\n" if fd.default else f"\n{fd.key}:\n") in text


def test_update_keeps_comments_and_order():
    text = "# mine: keep this\nVIP: 198.51.100.100\n# and this\nDRBD-Port: 7788\n"
    new = settings_file.updated_text(text, {"drbd-port": "7789"})
    assert new == "# mine: keep this\nVIP: 198.51.100.100\n# and this\nDRBD-Port: 7789\n"


def test_update_adds_missing_key():
    new = settings_file.updated_text("VIP: 198.51.100.100\n", {"Fencing": "none"})
    assert settings_file.parse(new)["Fencing"] == "none"


@pytest.mark.parametrize("text,words", [
    ("VIP 198.51.100.100\n", "not a deb822 file"),
    ("VIP: 1\n\nDRBD-Port: 2\n", "one paragraph"),
    ("VIP: 1\nVip: 2\n", "Duplicate"),
    ("Colour: blue\n", "unknown setting(s) Colour"),
])
def test_malformed_files_are_refused(text, words):
    with pytest.raises(SettingsFileError) as e:
        settings_file.parse(text, "/etc/x.conf")
    assert words in str(e.value)


def test_missing_file_reads_as_defaults(root):
    assert settings_file.load(root) == settings.defaults()


def test_save_is_mode_0600(root):
    settings_file.save(root, "VIP: 198.51.100.100\n")
    st = root.stat(paths.SETTINGS_PATH)
    assert st.st_mode & 0o777 == 0o600


# -- defaults: what the admin never set follows the installed version's ------------------------------------
def test_a_set_value_replaces_its_comment_in_place_and_can_follow_the_default_again():
    text = settings_file.pristine_text()
    new = settings_file.updated_text(text, {"Monitor-Interval": "45"})
    assert "\n#Monitor-Interval:" not in new and "\nMonitor-Interval: 45\n" in new
    assert new.index("Monitor-Interval: 45") < new.index("#Deep-Monitor-Interval:")      # where it was
    assert settings_file.parse(new)["Monitor-Interval"] == "45"
    back = settings_file.updated_text(new, {}, defaults=["Monitor-Interval"])
    assert back == text


def test_an_older_file_follows_the_new_defaults_and_keeps_what_the_admin_set():
    # a 0.1.0/0.2.0 file: every value written out, monitor 20 s (that release's default), ping hosts the admin's
    old = ("# the admin's note\nCluster-Name: uec-clc\nLocal-Node: clc1\nMonitor-Interval: 20\n"
           "Deep-Monitor-Interval: 90\nMigration-Threshold: 3\nPing-Hosts: 198.51.100.1\n")
    text = settings_file.following_defaults(old)
    raw = settings_file.parse(text)
    assert raw["Monitor-Interval"] == settings.field("Monitor-Interval").default      # the new default
    assert raw["Deep-Monitor-Interval"] == "90"                                        # set by the admin
    assert raw["Ping-Hosts"] == "198.51.100.1" and raw["Local-Node"] == "clc1"
    assert "\n#Migration-Threshold: 3\n" in text and "\n#Cluster-Name: uec-clc\n" in text
    assert text.startswith("# the admin's note\n# " + settings_file.FORMAT_MARK)
    assert settings_file.following_defaults(text) == text                               # once only


def test_the_read_text_of_an_older_file_is_the_converted_one(root):
    root.write_atomic(paths.SETTINGS_PATH, "Local-Node: clc1\nMonitor-Interval: 20\n", mode=0o600)
    assert settings_file.load(root)["Monitor-Interval"] == settings.field("Monitor-Interval").default
