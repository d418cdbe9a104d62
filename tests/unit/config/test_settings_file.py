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
        assert f"\n{fd.key}:" in text


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
