"""Print the join token of this pair: one line that makes the second node's settings.

`uec-clc-ha-ctl join-token`, on the first node once its settings are valid.
The line carries every shared setting (never a secret) and is authenticated
with a key derived from the cluster secret (uec_clc_ha.config.join_token);
`uec-clc-ha-ctl join TOKEN` on the second node, or the debconf question
uec-clc-ha/join-token, opens it with the same secret.
"""

from uec_clc_ha import __version__
from uec_clc_ha.config import join_token, pipeline

NAME = "join-token"
HELP = "print the one line that configures the second node (uec-clc-ha-ctl join TOKEN there)"


def arguments(p):
    pass


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    print(join_token.make(raw, __version__), file=out)
    return 0
