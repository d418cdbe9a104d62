"""Initialise DRBD on this node: metadata, up, and on Initial-Primary the filesystem.

`uec-clc-ha-ctl drbd-init [--yes] [--force]`: refuses without --yes and
explains what would be destroyed; refuses a disk that holds a filesystem,
RAID, LVM or partition-table signature unless --force (on the other node, a
former replica's DRBD metadata is kept instead, and --force discards that
copy); a run after success does nothing and says so.
"""

from uec_clc_ha.data import drbd_init
from uec_clc_ha.cli._data_steps import config_of

NAME = "drbd-init"
HELP = "initialise DRBD on this node (destroys what the backing disk holds)"


def arguments(p):
    p.add_argument("--yes", action="store_true", help="really write DRBD metadata (and the filesystem)")
    p.add_argument("--force", action="store_true", help="even over an existing signature on the disk; discard a former replica's copy (full sync)")


def run(args, system, out):
    drbd_init.init(system, config_of(args, system), out, args.yes, args.force)
    return 0
