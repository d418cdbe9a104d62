"""Change settings: validate the result, then write the settings file atomically.

`uec-clc-ha-ctl set KEY=VALUE ...`, `set --default KEY`, `set
--generate-secret`, `set --secret-stdin`.  A value set is written out and
stays through upgrades; --default makes a setting follow the package's
default again (a comment in the file).  A change that breaks a rule is refused with every problem
it causes and nothing is written; settings still missing elsewhere are
listed as a reminder but do not block the change.  Comments and order of the
file are kept.
"""

import sys

from uec_clc_ha.config import changes as config_changes, keyring, pipeline, settings, settings_file
from uec_clc_ha.errors import Problem, UsageError, ValidationError
from uec_clc_ha.host import managed_files

NAME = "set"
HELP = "change settings (validated, written atomically)"


def arguments(p):
    p.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--generate-secret", action="store_true",
                       help="generate a new Cluster-Secret and show it once, to type on the other node")
    group.add_argument("--secret-stdin", action="store_true",
                       help="read Cluster-Secret from the first line of standard input (keeps it out of "
                            "the process list and shell history)")
    p.add_argument("--default", action="append", default=[], metavar="KEY",
                   help="let KEY follow the package's default again (also after an upgrade that changes it)")
    p.add_argument("--force", action="store_true",
                   help="replace a Cluster-Secret that is already set (then set the same secret on the other "
                        "node before `apply`)")


def parse_assignments(items):
    changes = {}
    for item in items:
        key, sep, value = item.partition("=")
        fd = settings.field(key.strip())
        if not sep:
            raise UsageError(f"{item!r}: expected KEY=VALUE")
        if fd is None:
            raise UsageError(f"unknown setting {key!r}; `uec-clc-ha-ctl show` lists them")
        if fd.key in changes:
            raise UsageError(f"{fd.key} is given twice")
        changes[fd.key] = value.strip()
    return changes


def run(args, system, out, stdin=None):
    changes = parse_assignments(args.assignments)
    generated = None
    if args.generate_secret or args.secret_stdin:
        if "Cluster-Secret" in changes:
            raise UsageError("give Cluster-Secret either as KEY=VALUE or with a --secret option, not both")
        if args.generate_secret:
            generated = keyring.generate_secret()
            changes["Cluster-Secret"] = generated
        else:
            changes["Cluster-Secret"] = (stdin or sys.stdin).readline().rstrip("\r\n")
    defaults = []
    for key in args.default:
        fd = settings.field(key)
        if fd is None:
            raise UsageError(f"unknown setting {key!r}; `uec-clc-ha-ctl show` lists them")
        if not fd.default and not getattr(fd.check, "optional", False):
            raise UsageError(f"{fd.key} has no default to follow: set it (KEY=VALUE)")
        if fd.key in changes or fd.key in defaults:
            raise UsageError(f"{fd.key} is given twice")
        defaults.append(fd.key)
    if not changes and not defaults:
        raise UsageError("nothing to set: give KEY=VALUE, --default KEY, --generate-secret or --secret-stdin")

    where, path = pipeline.settings_location(system, args.settings)
    text = settings_file.read_text(where, path)
    before = settings_file.parse(text, path)
    replaces_secret = config_changes.replaces_secret(before, changes, args.force)
    wanted = dict(changes, **{k: settings.field(k).default for k in defaults})
    caused, remaining = config_changes.problems_caused(before, wanted)
    if caused:
        raise ValidationError(caused)
    after = dict(before, **wanted)

    new_text = settings_file.updated_text(text, changes, path, defaults=defaults)
    if settings_file.parse(new_text, path) != after:        # parsed back before it is written
        raise ValidationError([Problem(path, "did not read back as written; nothing was written")])
    if args.settings:
        settings_file.save(where, new_text, path)
    else:                                   # the root's own settings file: the one writer keeps ucf true
        managed_files.Installer(where, lambda message: print(message, file=out), "admin").install(
            settings_file.as_rendered(new_text))
    for key in changes:
        fd = settings.field(key)
        shown = "(set, hidden)" if fd.secret else changes[key]
        print(f"set {key}: {shown}", file=out)
    for key in defaults:
        print(f"set {key}: follows the default ({settings.field(key).default or 'empty: not used'})", file=out)
    if generated:
        print("\nThe new cluster secret is shown this once. Set the same secret on the other node:\n"
              f"    {generated}\n"
              "(uec-clc-ha-ctl set --secret-stdin there, or answer the debconf question with it).", file=out)
    if replaces_secret:
        print("\nThe cluster secret was replaced. Set the same secret on the other node before running "
              "`uec-clc-ha-ctl apply` on either: until both hold it, DRBD and corosync refuse each other.",
              file=out)
    if remaining:
        print(f"\nStill to settle before `check` and `apply` pass ({len(remaining)}):", file=out)
        for p in remaining:
            print(f"  - {p}", file=out)
    return 0
