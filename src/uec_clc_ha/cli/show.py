"""Print the settings, one "Key: value" line each, secrets masked.

`uec-clc-ha-ctl show [KEY ...]`: the values as the file holds them (defaults
filled in); secrets appear as "(set, hidden)" or "(not set)", never in clear.
"""

from uec_clc_ha.config import pipeline, settings
from uec_clc_ha.errors import UsageError

NAME = "show"
HELP = "print the settings (secrets masked)"


def arguments(p):
    p.add_argument("keys", nargs="*", metavar="KEY", help="only these settings")


def masked(fd, value):
    if fd.secret:
        return "(set, hidden)" if value else "(not set)"
    return value


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    wanted = [settings.field(k) for k in args.keys]
    unknown = [k for k, fd in zip(args.keys, wanted) if fd is None]
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(unknown)}")
    for fd in wanted or settings.FIELDS:
        print(f"{fd.key}: {masked(fd, raw[fd.key])}".rstrip(), file=out)
    return 0
