"""The survivor of a double loss takes the cloud: the arbiter host and the peer are both gone.

`uec-clc-ha-ctl take-over [--yes] [--wait SECONDS]`: with an Arbiter, a node
whose peer and arbiter are both lost has one vote of three and no quorum, so
it neither fences nor starts anything (the cloud never runs on both).  Once
the admin knows the peer is off, this tells corosync to expect one vote
(`corosync-quorumtool -e 1`): the node fences the peer and starts the cloud,
waited for like failover.  Refused while the node is quorate, the peer is
online or a corosync link to it is up, or the arbiter answers
(uec_clc_ha.cluster.moves).  Asks on a terminal, --yes otherwise.  Exit 9
when the cloud does not serve here within --wait seconds (default 600).
"""

from uec_clc_ha.cluster import moves
from uec_clc_ha.config import pipeline
from uec_clc_ha.cli._confirm import confirm, confirmation_arguments

NAME = "take-over"
HELP = "the arbiter and the peer both lost: serve alone (corosync-quorumtool -e 1; the peer must be off)"


def arguments(p):
    confirmation_arguments(p)


def run(args, system, out):
    config = pipeline.build(system, pipeline.load_raw(system, args.settings)).config
    mover = moves.Mover(system, config, out)
    what = mover.plan_take_over(mover.read())
    confirm(what, args.yes, out)
    mover.take_over(args.wait)
    return 0
