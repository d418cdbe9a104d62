"""On the other node: move the local data directories aside and create the same symlinks.

`uec-clc-ha-ctl prepare-secondary [--yes]`: the recipe's step 4.7 without
its `rm -fr`: the directories become dated backups, never deleted.
"""

from uec_clc_ha.data import migration
from uec_clc_ha.cli._data_steps import context

NAME = "prepare-secondary"
HELP = "on the other node: data directories aside (kept), symlinks into the DRBD mount"


def arguments(p):
    p.add_argument("--yes", action="store_true", help="go ahead")


def run(args, system, out):
    migration.prepare_secondary(context(args, system, out), args.yes)
    return 0
