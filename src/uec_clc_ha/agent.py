"""OCF resource agent logic of ocf:ubuntu:eucaclc.

Called only by the entry point src/ocf/eucaclc (installed as
/usr/lib/ocf/resource.d/ubuntu/eucaclc), which Pacemaker runs for every
action.  main() is the agent's top-level handler: it maps every UecError to
its OCF return code.  Nothing happens at import.
"""

import sys

from . import agent_meta
from .errors import OCF_ERR_UNIMPLEMENTED, OCF_SUCCESS

USAGE = "usage: eucaclc {start|stop|monitor|validate-all|reload|meta-data|usage|methods}\n"


def main(argv):
    action = argv[1] if len(argv) > 1 else ""
    if action == "meta-data":
        sys.stdout.write(agent_meta.metadata_xml())
        return OCF_SUCCESS
    if action in ("usage", "help"):
        sys.stdout.write(USAGE)
        return OCF_SUCCESS
    if action == "methods":
        sys.stdout.write("\n".join(a[0] for a in agent_meta.ACTIONS) + "\nusage\nmethods\n")
        return OCF_SUCCESS
    sys.stderr.write(USAGE)
    return OCF_ERR_UNIMPLEMENTED
