"""The confirmation of a planned move: a question on a terminal, --yes otherwise.

Used by the failover, standby, unstandby and unblock subcommands, which
share their options (confirmation_arguments).  Nothing is changed
before the answer: a "no", or no terminal and no --yes, raises Refused
(exit 6) with what would have happened.
"""

import sys

from uec_clc_ha.errors import Refused


def confirm(what, yes, out, stdin=None):
    stdin = stdin or sys.stdin
    if yes:
        return
    if hasattr(stdin, "isatty") and stdin.isatty():
        out.write(f"This will {what}.\nGo ahead? [y/N] ")
        out.flush()
        if stdin.readline().strip().lower() in ("y", "yes"):
            return
        raise Refused("not confirmed: nothing was changed")
    raise Refused(f"this would {what}. Run it again with --yes to go ahead.")


def confirmation_arguments(p):
    """--yes and --wait, the options of every command that asks and then waits for the cluster."""
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--wait", type=int, default=600, metavar="SECONDS", help="how long to wait (default 600)")
