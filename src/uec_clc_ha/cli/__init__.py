"""uec-clc-ha-ctl: the admin's tool for every change after installation.

Entry point: /usr/sbin/uec-clc-ha-ctl calls main().  Tests call main(argv)
directly.  main() ends in the project's top-level error handler
(errors.guarded, shared with the maintainer helpers; the OCF agent has its
own): every UecError becomes a message on stderr and its exit code there,
and nowhere else.
"""

import argparse
import sys

from uec_clc_ha import __version__
from uec_clc_ha.errors import EXIT_USAGE, guarded
from uec_clc_ha.host.system import System
from uec_clc_ha.cli import (adopt, apply, check, cloud_ip, cluster_init, diff, doctor, drbd_init, failover, join, join_token,
                            migrate_data,
                            prepare_secondary, render, restore_data, set as set_cmd, show, standby, status,
                            unblock, unstandby)

COMMANDS = (show, set_cmd, check, render, diff, apply, join_token, join, drbd_init, migrate_data, prepare_secondary, restore_data,
            cluster_init, adopt, status, doctor, failover, standby, unstandby, unblock, cloud_ip)

EPILOG = """exit codes: 0 success (diff: no differences); 1 check found problems,
diff found differences, or a step failed; 2 usage; 3 invalid settings (nothing
written); 4 a rendered file was rejected by its checker (nothing written);
5 an external command failed; 6 refused by a safety rule (nothing changed);
7 a file or tool is missing; 8 permission denied; 9 done as far as it can be
now, it finishes when the peer arrives.  status: 0 serving, 1 degraded,
10 not serving, 11 the cluster does not run on this node.  doctor: 0 all
ok, 1 warnings, 2 failures.  See uec-clc-ha-ctl(8)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        raise _Usage(f"{self.prog}: {message}")


class _Usage(Exception):
    pass


def parser():
    top = _Parser(prog="uec-clc-ha-ctl", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                  description="Show, change, check and apply the settings of a uec-clc-ha "
                              "Cloud Controller pair (/etc/uec-clc-ha/uec-clc-ha.conf).")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument("--root", default="/", metavar="DIR",
                     help="operate on the tree under DIR instead of / (default: /)")
    top.add_argument("--settings", metavar="FILE",
                     help="read the settings from FILE instead of ROOT/etc/uec-clc-ha/uec-clc-ha.conf")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMANDS:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__.split("\n\n")[0],
                           epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        if module is not render:          # render's own --root is where it writes
            p.add_argument("--root", default=argparse.SUPPRESS, metavar="DIR",
                           help="operate on the tree under DIR instead of / (as the global option)")
        module.arguments(p)
        p.set_defaults(run=module.run)
    return top


def main(argv=None, stdout=None, stderr=None):
    """Run uec-clc-ha-ctl; returns the exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = parser().parse_args(argv)
    except _Usage as e:
        print(e, file=stderr)
        return EXIT_USAGE
    except SystemExit as e:          # --help and --version end here
        return int(e.code or 0)
    return guarded("uec-clc-ha-ctl", lambda: args.run(args, System(args.root), stdout), stderr)
