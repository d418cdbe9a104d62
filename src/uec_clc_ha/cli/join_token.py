"""Print the join token of this pair: one line that makes the second node's settings.

`uec-clc-ha-ctl join-token`, on the first node once its settings are valid.
The line carries every shared setting (never a secret) and is authenticated
with a key derived from the cluster secret (uec_clc_ha.config.join_token);
`uec-clc-ha-ctl join TOKEN` on the second node, or the debconf question
uec-clc-ha/join-token, opens it with the same secret.
"""

from uec_clc_ha import __version__
from uec_clc_ha.config import join_token, pipeline, settings
from uec_clc_ha.data import drbd_state
from uec_clc_ha.errors import Refused

NAME = "join-token"
HELP = "print the one line that configures the second node (uec-clc-ha-ctl join TOKEN there)"


def arguments(p):
    pass


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    token = join_token.make(raw, __version__)
    if system.is_live:          # a --root tree has no DRBD of its own to ask
        not_to_the_data_node(system, settings.require_valid(raw))
    print(token, file=out)
    return 0


def not_to_the_data_node(system, config, role=drbd_state.role):
    """Refused when Initial-Primary names the node the token joins while DRBD is Primary here (a pair that
    serves: after a failover, or a node joining again after its purge).

    The joining node's install would initialise DRBD as the data's node: create its metadata, then try to
    promote over this node's data (drbd-init refuses that, and the install ends NOT DONE)."""
    joining, here = config.peer_node, config.local_node
    if (config.initial_primary or "").lower() != joining.lower():
        return
    if role(system, config.drbd_resource) != "Primary":
        return
    raise Refused(f"Initial-Primary is {joining}, the node this token joins, but the data is here: {here} is DRBD "
                  f"Primary of {config.drbd_resource}. {joining}'s install would initialise DRBD as the data's "
                  f"node and be refused. Make this node the initial primary first (`uec-clc-ha-ctl set "
                  f"Initial-Primary={here}`: it only tells drbd-init, migrate-data and sbd create which node holds "
                  "the data), then make the token again; nothing was printed")
