"""Install the generated files: validate, render, verify, then write what changed.

`uec-clc-ha-ctl apply [--dry-run] [--force]`: each file is written with its
owner and mode, and only when its content or mode differs, so a second run
changes nothing.  Where the package is installed, every write goes through
the same installer as the postinst (uec_clc_ha.host.managed_files: ucf's registry
stays true, files the settings no longer call for are retired, and every
file is removed on purge); a hand-edited file apply replaces is kept in
/var/lib/uec-clc-ha/replaced/.  /etc/corosync/corosync.conf is a conffile
of the corosync package: on a root whose corosync package owns it, it is
written only when uec-clc-ha has diverted it, or with --force.  With an
Arbiter, this node is enrolled with it before anything is written (an
arbiter that does not answer, or not with this cluster's CA, is refused).
On a live cluster, once the running services took the files (and when
there was nothing to change), this node's facts are published for doctor
on the peer (uec_clc_ha.cluster.node_facts): a new settings digest after a
`set`, so the peer's doctor sees the change until it is made there too.
On a running pair, apply keeps the evidence that this node is one of it
(uec_clc_ha.cluster.pairing: the prerm refuses removal on it).
"""

from uec_clc_ha.cluster import arbiter, live_apply, node_facts, pairing
from uec_clc_ha.host import managed_files
from uec_clc_ha.config import pipeline
from uec_clc_ha.errors import VerifyError

NAME = "apply"
HELP = "write the generated files (atomically, only what changed)"


def arguments(p):
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.add_argument("--force", action="store_true",
                   help="also overwrite another package's conffile that uec-clc-ha has not diverted, and load "
                        "this node's cluster.crm over a CIB the peer loaded from a different one")


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    built = pipeline.build(system, raw)
    problems = pipeline.check(system, built)
    if problems:
        raise VerifyError(problems)
    changes = pipeline.plan(system, built.files)
    forced = pipeline.refuse_foreign_conffiles(system, changes, args.force)
    if system.is_live and built.config.cluster_stack == "corosync":
        arbiter.prepare(system, built.config, say=lambda message: print(message, file=out), dry_run=args.dry_run)
    pending = [c for c in changes if c.action != "unchanged"]
    steps, notes = live_apply.plan(system, built.config, changes, args.force) if system.is_live else ([], [])
    if args.dry_run:
        for c in changes:
            print(f"{'would ' + c.action if c.action != 'unchanged' else 'unchanged'}: {c.path}", file=out)
        live_apply.show(out, system, changes, steps, notes, dry_run=True)
        return 0
    verbs = {"create": "created", "update": "updated", "mode": "fixed owner/mode of"}
    installer = managed_files.Installer(system, lambda message: print(message, file=out), "admin")
    installer.install_generated(built.files)
    for c in pending:
        note = " (--force: not diverted)" if c.path in forced else ""
        print(f"{verbs[c.action]} {c.path}{note}", file=out)
    if not pending:
        print("nothing to change", file=out)
    live_apply.show(out, system, changes, steps, notes, dry_run=False)
    live_apply.run(system, steps)
    if system.is_live:
        node_facts.publish_here(system, lambda message: print(message, file=out), raw)
        pairing.note(system, built.config.local_node)      # the prerm refuses removal from a node of a pair
    return 0
