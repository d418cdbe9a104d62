"""After a second loss: let this node have quorum without the lost one, fence it and serve.

`uec-clc-ha-ctl unblock [--yes] [--wait SECONDS]`: for a node that waits
for every vote (votequorum's wait_for_all) after its peer was lost while
the arbiter was down.  Refused (exit 6, nothing changed)
unless this partition waits for the peer, the arbiter's vote is there
(with an arbiter) and this node's DRBD copy is UpToDate
(uec_clc_ha.cluster.unblock says every condition).  Asks on a terminal
(--yes otherwise): the peer must be off or cut off from the data.  Then it
lifts the wait, and waits until this node is quorate, the peer is fenced
and the cloud serves here; exit 9 when that has not happened within --wait
seconds (default 600).
"""

from uec_clc_ha.cluster import moves, unblock
from uec_clc_ha.config import pipeline
from uec_clc_ha.cli._confirm import confirm, confirmation_arguments

NAME = "unblock"
HELP = "after a second loss: quorum without the lost node, which is fenced, and the cloud here"


def arguments(p):
    confirmation_arguments(p)


def run(args, system, out):
    config = pipeline.build(system, pipeline.load_raw(system, args.settings)).config
    mover = moves.Mover(system, config, out)
    what = unblock.plan(config, mover.read())
    confirm(what, args.yes, out)
    unblock.unblock(mover, args.wait)
    return 0
