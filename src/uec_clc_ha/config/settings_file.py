"""Reading and writing /etc/uec-clc-ha/uec-clc-ha.conf (deb822, python-debian).

Called by the CLI subcommands and the maintainer helpers.  Reading is strict
(one paragraph, known keys only, no malformed lines); writing changes only
the values asked for and keeps every comment and the order of the file, so a
hand-edited file stays the admin's.  A missing file reads as the defaults.
"""

from debian._deb822_repro import parse_deb822_file
from debian._deb822_repro.parsing import SyntaxOrParseError

from uec_clc_ha.config import jinja_env, settings
from uec_clc_ha.config.render import RenderedFile
from uec_clc_ha.errors import SettingsFileError
from uec_clc_ha.host.paths import SETTINGS_MODE, SETTINGS_PATH


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


def pristine_text():
    """The commented settings file with every default, as shipped (conf/uec-clc-ha.conf.j2)."""
    return jinja_env.render("uec-clc-ha.conf.j2", fields=settings.FIELDS)


def read_text(system, path=SETTINGS_PATH):
    """Text of the settings file, or the pristine text when there is none yet."""
    data = system.read_or_none(path)
    return pristine_text() if data is None else data.decode("utf-8")


def load(system, path=SETTINGS_PATH):
    return parse(read_text(system, path), system.path(path))



def updated_text(text, changes, source=SETTINGS_PATH):
    """Text with ``changes`` (key -> value) applied, comments and order kept."""
    parsed, paragraph = _parse(text, source)
    if paragraph is None:
        parsed, paragraph = _parse(pristine_text(), source)
    existing = {k.lower(): k for k in paragraph}
    for key, value in changes.items():
        fd = settings.field(key)
        if fd is None:
            raise SettingsFileError(f"unknown setting {key}")
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
