"""Put a node in standby: it runs nothing; the cloud leaves it first when it ran there (checked, waited for).

`uec-clc-ha-ctl standby NODE [--yes] [--wait SECONDS]`: when NODE runs the
cloud, refused unless the other node can take it without losing a write
(online, DRBD Connected, both disks UpToDate); asks for confirmation on a
terminal (--yes otherwise); sets NODE's standby attribute and prints each
change until NODE runs nothing and the cloud answers on the other node
(uec_clc_ha.cluster.moves).  A node already in standby: nothing to do.  Exit 9 when
it has not settled within --wait seconds (default 600).
"""

from uec_clc_ha.cluster import moves
from uec_clc_ha.config import pipeline
from uec_clc_ha.cli._confirm import confirm, confirmation_arguments

NAME = "standby"
HELP = "put a node in standby (the cloud leaves it first; checked, confirmed, waited for)"


def arguments(p):
    p.add_argument("node", metavar="NODE", help="Local-Node or Peer-Node")
    confirmation_arguments(p)


def run(args, system, out):
    config = pipeline.build(system, pipeline.load_raw(system, args.settings)).config
    mover = moves.Mover(system, config, out)
    doc = mover.read()
    what = mover.plan_standby(doc, args.node)
    if what is None:
        out.write(f"standby: {args.node} is in standby already: nothing to do\n")
        return 0
    confirm(what, args.yes, out)
    mover.standby(args.node, args.wait, cloud_moves=doc["active"] == args.node)
    return 0
