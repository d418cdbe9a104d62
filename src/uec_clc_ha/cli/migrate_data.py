"""Move the data directories onto the DRBD filesystem: copy, verify, switch, journaled.

`uec-clc-ha-ctl migrate-data [--yes]` on the Primary, Eucalyptus stopped;
running it again finishes an interrupted run.  `--rollback` undoes an
unfinished migration; `--discard-backup --yes` deletes the kept originals
after checking them against the migration record.
"""

from uec_clc_ha.data import migration
from uec_clc_ha.cli._data_steps import context

NAME = "migrate-data"
HELP = "move the data directories onto DRBD (copy, verify, switch; resumable)"


def arguments(p):
    p.add_argument("--yes", action="store_true", help="go ahead")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--rollback", action="store_true", help="undo an unfinished migration")
    group.add_argument("--discard-backup", action="store_true",
                       help="delete the kept original directories (re-verified first; needs --yes)")


def run(args, system, out):
    ctx = context(args, system, out)
    if args.rollback:
        migration.rollback(ctx)
    elif args.discard_backup:
        migration.discard_backup(ctx, args.yes)
    else:
        migration.migrate(ctx, args.yes)
    return 0
