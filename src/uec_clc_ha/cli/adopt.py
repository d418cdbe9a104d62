"""Take over a pair built by hand after the 2010 recipe, without re-initialising DRBD or moving data.

`uec-clc-ha-ctl adopt --yes [--wait SECONDS]` on both nodes of a running
hand-built pair (uec_clc_ha.cluster.adopt says how).  The node without the
cloud turns first; the node with the cloud waits for it and finishes.
Exit 9 when this node has done its part and waits for the other.
"""

from uec_clc_ha.cluster import adopt
from uec_clc_ha.cli._data_steps import config_of

NAME = "adopt"
HELP = "take over a running pair built by hand after the 2010 recipe (no data moved, the cloud keeps running)"


def arguments(p):
    p.add_argument("--yes", action="store_true",
                   help="go ahead: maintenance mode, this node's stack restarted under uec-clc-ha's configuration")
    p.add_argument("--force", action="store_true", help="write the SBD header over another signature")
    p.add_argument("--wait", type=int, default=900, metavar="SECONDS",
                   help="how long the node with the cloud waits for its peer to turn first (default 900)")


def run(args, system, out):
    adopt.adopt(system, config_of(args, system), out, args.yes, args.force, peer_wait=args.wait)
    return 0
