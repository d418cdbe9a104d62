"""Undo the migration: the data back into real directories, verified, symlinks removed.

`uec-clc-ha-ctl restore-data [--yes] [--from-backup]`: copies from the DRBD
filesystem (the current data); --from-backup instead puts the kept original
back (discarding what was written on DRBD since).  Resumable like
migrate-data.
"""

from uec_clc_ha.data import migration
from uec_clc_ha.cli._data_steps import context

NAME = "restore-data"
HELP = "undo migrate-data: copy the data back (or take the kept backup), remove the symlinks"


def arguments(p):
    p.add_argument("--yes", action="store_true", help="go ahead")
    p.add_argument("--from-backup", action="store_true",
                   help="restore the kept original instead of the current data on DRBD")


def run(args, system, out):
    migration.restore(context(args, system, out), args.yes, args.from_backup)
    return 0
