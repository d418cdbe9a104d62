"""Reading and writing /etc/uec-clc-ha/uec-clc-ha.conf (deb822, python-debian).

Called by the CLI subcommands and the maintainer helpers.  Reading is strict
(one paragraph, known keys only, no malformed lines); writing changes only
the values asked for and keeps every comment and the order of the file, so a
hand-edited file stays the admin's.  A missing file reads as the defaults.

A setting the admin never set is a comment ("#Monitor-Interval: 10") and
follows the default of the installed version; one written out stays.  Files
written before this rule (every value written out, no FORMAT_MARK) are read
as if every value that equals a default some release shipped had been left
to the default (SHIPPED_DEFAULTS), and are written back that way.
"""

import re

from debian._deb822_repro import parse_deb822_file
from debian._deb822_repro.parsing import SyntaxOrParseError

from uec_clc_ha.config import jinja_env, settings
from uec_clc_ha.config.render import RenderedFile
from uec_clc_ha.errors import SettingsFileError
from uec_clc_ha.host.paths import SETTINGS_MODE, SETTINGS_PATH


FORMAT_MARK = "uec-clc-ha settings format 2: commented settings follow the package's defaults"
# Defaults earlier releases shipped that differ from today's: a file of those releases holds them written
# out although nobody chose them.  (0.1.0 and the first 0.2.0: monitor 20 s, health check 60 s.)
SHIPPED_DEFAULTS = {"Monitor-Interval": ("20",), "Deep-Monitor-Interval": ("60",)}


def _parse(text, source):
    try:
        parsed = parse_deb822_file(text.splitlines(keepends=True))
        paragraphs = list(parsed)
    except SyntaxOrParseError as e:
        raise SettingsFileError(f"{source}: not a deb822 file: {e}") from None
    except ValueError as e:
        raise SettingsFileError(f"{source}: {e}") from None
    if len(paragraphs) > 1:
        raise SettingsFileError(f"{source}: must hold one paragraph; found {len(paragraphs)} "
                                "(remove the blank line between fields)")
    return parsed, (paragraphs[0] if paragraphs else None)


def parse(text, source=SETTINGS_PATH):
    """Raw values of a settings text, with every missing key at its default."""
    _, paragraph = _parse(text, source)
    raw = settings.defaults()
    unknown = []
    for key in (paragraph or ()):
        fd = settings.field(key)
        if fd is None:
            unknown.append(key)
            continue
        raw[fd.key] = paragraph[key].strip()
    if unknown:
        known = ", ".join(fd.key for fd in settings.FIELDS)
        raise SettingsFileError(f"{source}: unknown setting(s) {', '.join(unknown)}; known settings are: {known}")
    return raw


def explicit_keys(text, source=SETTINGS_PATH):
    """The keys a settings text writes out (the others are comments: they follow the defaults)."""
    _, paragraph = _parse(text, source)
    return {settings.field(k).key for k in (paragraph or ()) if settings.field(k) is not None}


def pristine_text():
    """The commented settings file with every default, as shipped (conf/uec-clc-ha.conf.j2)."""
    return jinja_env.render("uec-clc-ha.conf.j2", fields=settings.FIELDS, format_mark=FORMAT_MARK)


def read_text(system, path=SETTINGS_PATH):
    """Text of the settings file (an older file's defaults left to follow), or the pristine text."""
    data = system.read_or_none(path)
    return pristine_text() if data is None else following_defaults(data.decode("utf-8"), path)


def following_defaults(text, source=SETTINGS_PATH):
    """An older file's text with every value that equals a shipped default turned into a comment."""
    if FORMAT_MARK in text:
        return text
    _, paragraph = _parse(text, source)
    keys = []
    for key in (paragraph or ()):
        fd = settings.field(key)
        if fd is not None and fd.default and not fd.secret and \
                paragraph[key].strip() in (fd.default,) + SHIPPED_DEFAULTS.get(fd.key, ()):
            keys.append(fd.key)
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return updated_text("".join(lines[:at] + [f"# {FORMAT_MARK}\n"] + lines[at:]), {}, source, defaults=keys)


def load(system, path=SETTINGS_PATH):
    return parse(read_text(system, path), system.path(path))



def _key_line(key):
    return re.compile(rf"^(#\s*)?{re.escape(key)}\s*:.*$", re.M | re.I)


def updated_text(text, changes, source=SETTINGS_PATH, defaults=()):
    """Text with ``changes`` (key -> value) applied and ``defaults`` (keys) left to follow the default.

    A changed key that is a comment is written out in the comment's place; a
    key that follows the default again becomes "#Key: default".  Other
    comments and the order of the file are kept.
    """
    _, paragraph = _parse(text, source)
    if paragraph is None:
        text = pristine_text()
        _, paragraph = _parse(text, source)
    present = {k.lower() for k in paragraph}
    for key, value in changes.items():
        fd = settings.field(key)
        if fd is None:
            raise SettingsFileError(f"unknown setting {key}")
        if "\n" in value or "\r" in value:
            raise SettingsFileError(f"{fd.key}: a value is one line")
        if fd.key.lower() not in present:
            line = _key_line(fd.key)
            if line.search(text):
                text = line.sub(lambda m: f"{fd.key}: {value}".rstrip(), text, count=1)
                present.add(fd.key.lower())
    for key in defaults:
        fd = settings.field(key)
        if fd is None:
            raise SettingsFileError(f"unknown setting {key}")
        if fd.key.lower() in present:
            text = _key_line(fd.key).sub(lambda m: f"#{fd.key}: {fd.default}".rstrip(), text, count=1)
            present.discard(fd.key.lower())
    parsed, paragraph = _parse(text, source)
    existing = {k.lower(): k for k in paragraph}
    for key, value in changes.items():
        fd = settings.field(key)
        paragraph[existing.get(fd.key.lower(), fd.key)] = value
    return parsed.dump()


def as_rendered(text):
    """The settings text as a managed file (uec_clc_ha.host.managed_files installs it, mode 0600)."""
    return RenderedFile(SETTINGS_PATH, text.encode("utf-8"), SETTINGS_MODE, "settings")


def save(system, text, path=SETTINGS_PATH):
    """Write the settings file atomically, mode 0600 (it holds the cluster secret)."""
    system.write_atomic(path, text, mode=SETTINGS_MODE)


def without_secrets(text):
    """The settings text less the lines of secret fields (what the postinst records as last written)."""
    secret_keys = {fd.key.lower() for fd in settings.FIELDS if fd.secret}
    return "".join(line for line in text.splitlines(keepends=True)
                   if line.split(":", 1)[0].lower() not in secret_keys)
