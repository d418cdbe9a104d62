"""uec-clc-ha-arbiter: the arbiter host's command.

Entry point: /usr/sbin/uec-clc-ha-arbiter calls main(); tests call
main(argv, ...).  It ends in the project's top-level error handler
(errors.guarded): every UecError becomes a message on stderr and its exit
code.  See uec-clc-ha-arbiter(8).

    init                    make corosync-qnetd's CA, unless it exists
    add CLUSTER             let CLUSTER's nodes enrol; its Cluster-Secret is read from standard input
    remove CLUSTER          stop enrolling CLUSTER
    list                    the clusters that may enrol
    answer                  answer one enrolment request on standard input (systemd's socket unit runs this)
"""

import argparse
import sys

from uec_clc_ha.arbiter import service
from uec_clc_ha.errors import EXIT_USAGE, UsageError, guarded
from uec_clc_ha.host.system import System

PROG = "uec-clc-ha-arbiter"


def _parser():
    parser = argparse.ArgumentParser(prog=PROG, description="The arbiter (corosync-qnetd) host of uec-clc-ha pairs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="make corosync-qnetd's certificate authority, unless it exists")
    add = sub.add_parser("add", help="let a cluster's nodes enrol (its Cluster-Secret on standard input)")
    add.add_argument("cluster")
    rm = sub.add_parser("remove", help="stop enrolling a cluster")
    rm.add_argument("cluster")
    sub.add_parser("list", help="the clusters that may enrol")
    sub.add_parser("answer", help="answer one enrolment request (standard input and output are the connection)")
    return parser


def run(args, system, stdin, stdout):
    if args.command == "init":
        service.init(system, say=lambda t: print(t, file=stdout))
    elif args.command == "add":
        secret = stdin.readline().rstrip("\n")
        service.add(system, args.cluster, secret)
        print(f"{PROG}: cluster {args.cluster} may enrol (its nodes: `uec-clc-ha-ctl apply` with Arbiter set)",
              file=stdout)
    elif args.command == "remove":
        service.remove(system, args.cluster)
    elif args.command == "list":
        for name in service.clusters(system):
            print(name, file=stdout)
    elif args.command == "answer":
        line = stdin.buffer.readline(service.protocol.MAX_LINE + 1) if hasattr(stdin, "buffer") else \
            stdin.readline().encode()
        out = service.answer_line(system, line)
        if hasattr(stdout, "buffer"):
            stdout.buffer.write(out)
        else:
            stdout.write(out.decode())
        stdout.flush()
    return 0


def main(argv=None, system=None, stdin=None, stdout=None, stderr=None):
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    system = system or System("/")

    def action():
        try:
            args = _parser().parse_args(argv)
        except SystemExit as e:
            if e.code in (0, None):
                return 0
            raise UsageError("see `uec-clc-ha-arbiter --help`") from None
        return run(args, system, stdin, stdout)
    rc = guarded(PROG, action, stderr)
    return EXIT_USAGE if rc == EXIT_USAGE else rc
