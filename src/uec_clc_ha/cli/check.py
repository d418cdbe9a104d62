"""Validate the settings, render every file and verify it with the real checkers.

`uec-clc-ha-ctl check`: exit 0 when everything passes, 1 with every problem
listed (settings rules first; the checkers run only on valid settings).
Nothing is written.
"""

from uec_clc_ha.config import pipeline
from uec_clc_ha.errors import CheckFailed, ValidationError

# Which real tool judged each kind of file (see uec_clc_ha.config.pipeline.check).
CHECKERS = {
    "drbd": "drbdadm dump as each node",
    "corosync": "corosync -t as each node",
    "corosync-key": "corosync -t as each node",
    "crm": "crm configure load + crm_verify",
    "ha.cf": "heartbeat start-up in a sandbox",
    "authkeys": "heartbeat start-up in a sandbox",
}

NAME = "check"
HELP = "validate, render and verify; list every problem"


def arguments(p):
    pass


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    try:
        built = pipeline.build(system, raw)
    except ValidationError as e:
        raise CheckFailed("settings", e.problems) from None
    problems = pipeline.check(system, built)
    if problems:
        raise CheckFailed("verification", problems)
    c, facts = built.config, built.facts
    print(f"settings valid; DRBD {c.drbd_version} syntax ({facts.drbd_version_source}); "
          f"stack {c.cluster_stack}; fencing {c.fencing}", file=out)
    for path, f in sorted(built.files.items()):
        checker = CHECKERS.get(f.kind)
        if path in problems.unverified:
            print(f"NOT VERIFIED {path} (see the warning above)", file=out)
        else:
            print(f"verified {path} ({checker})" if checker else
                  f"rendered {path} (no checker: it only holds validated settings)", file=out)
    if c.fencing == "none":
        print("WARNING: Fencing is none: a split between the nodes can corrupt the cloud's data.", file=out)
    return 0
