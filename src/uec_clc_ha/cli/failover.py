"""Move the cloud to the other node, checked first and waited for.

`uec-clc-ha-ctl failover [--yes] [--wait SECONDS]`: refused unless the
other node is online, not in standby, and DRBD is Connected with both disks
UpToDate (the peer holds every write); asks for confirmation on a terminal
(--yes otherwise); moves the group with crm_resource, prints each change
until the group, the VIP and an answering CLC are on the other node, then
clears the move constraint (uec_clc_ha.cluster.moves).  Exit 9 when it has not
settled within --wait seconds (default 600).
"""

from uec_clc_ha.cluster import moves
from uec_clc_ha.config import pipeline
from uec_clc_ha.cli._confirm import confirm, confirmation_arguments

NAME = "failover"
HELP = "move the cloud to the other node (checked, confirmed, waited for)"


def arguments(p):
    confirmation_arguments(p)


def run(args, system, out):
    config = pipeline.build(system, pipeline.load_raw(system, args.settings)).config
    mover = moves.Mover(system, config, out)
    source, target, what = mover.plan_failover(mover.read())
    confirm(what, args.yes, out)
    mover.failover(source, target, args.wait)
    return 0
