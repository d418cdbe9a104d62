"""Bring the cluster up on this node: SBD, corosync, Pacemaker, DRBD handed over, the CIB loaded.

`uec-clc-ha-ctl cluster-init [--yes] [--force]` on each node (the postinst
runs it when uec-clc-ha/start-cluster is answered yes).  Idempotent: on a
pair that is up it changes nothing and says so.  Exit 9 when it has done
what it can and waits for the peer (two_node's wait_for_all), with what will
happen when the peer arrives.  --yes allows writing the SBD header on the
initial primary; --force allows it over another header or a signature.
"""

from uec_clc_ha.cluster import cluster_init
from uec_clc_ha.cli._data_steps import config_of

NAME = "cluster-init"
HELP = "bring the cluster up on this node (SBD, corosync, Pacemaker, CIB), wait until the cloud serves"


def arguments(p):
    p.add_argument("--yes", action="store_true", help="allow writing the SBD header (initial primary)")
    p.add_argument("--force", action="store_true",
                   help="re-create an SBD header with other timeouts, or write one over another signature")
    p.add_argument("--wait", type=int, default=900, metavar="SECONDS",
                   help="how long to wait for the cloud to serve (default 900)")


def run(args, system, out):
    cluster_init.init(system, config_of(args, system), out, args.yes, args.force, serving_wait=args.wait)
    return 0
