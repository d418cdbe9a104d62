"""Take a node out of standby and wait until it is the cloud's standby node again (DRBD resynced).

`uec-clc-ha-ctl unstandby NODE [--yes] [--wait SECONDS]`: asks for
confirmation on a terminal (--yes otherwise), clears NODE's standby
attribute and prints each change until NODE is online, DRBD is Connected
and both disks are UpToDate (uec_clc_ha.cluster.moves).  The cloud does not move
back (stickiness).  A node not in standby: nothing to do.  Exit 9 when it
has not settled within --wait seconds (default 600).
"""

from uec_clc_ha.cluster import moves
from uec_clc_ha.config import pipeline
from uec_clc_ha.cli._confirm import confirm, confirmation_arguments

NAME = "unstandby"
HELP = "take a node out of standby (waits for DRBD's resync)"


def arguments(p):
    p.add_argument("node", metavar="NODE", help="Local-Node or Peer-Node")
    confirmation_arguments(p)


def run(args, system, out):
    config = pipeline.build(system, pipeline.load_raw(system, args.settings)).config
    mover = moves.Mover(system, config, out)
    what = mover.plan_unstandby(mover.read(), args.node)
    if what is None:
        out.write(f"unstandby: {args.node} is not in standby: nothing to do\n")
        return 0
    confirm(what, args.yes, out)
    mover.unstandby(args.node, args.wait)
    return 0
