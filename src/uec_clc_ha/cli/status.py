"""One screen of the pair's state: which node is active, DRBD, resources, VIP, CLC health, fencing, quorum, drift.

`uec-clc-ha-ctl status [--json] [--no-clc-check]`: read on this node from
crm_mon's XML, /proc/drbd (8.4) or `drbdsetup status --json` (9) and
corosync-cmapctl (uec_clc_ha.cluster.pair_status); the CLC is checked on the VIP's
register page (depth 10: it must answer with CloudVersion).  Colour on a
terminal (not with NO_COLOR), plain otherwise; --json prints the documented
document instead.  Works where the cluster is down (says so).
Exit codes: 0 serving, 1 serving but degraded, 10 not serving, 11 the
cluster does not run on this node.
"""

import json
import os

from uec_clc_ha.agent import clc_health
from uec_clc_ha.cluster import pair_status
from uec_clc_ha.config import pipeline
from uec_clc_ha.errors import UecError

NAME = "status"
HELP = "the pair's state on one screen (--json for scripts)"
CLC_PORT = 8443
CLC_TIMEOUT = 5


def arguments(p):
    p.add_argument("--json", action="store_true", help="print the status document (schema 1) as JSON")
    p.add_argument("--no-clc-check", action="store_true", help="do not request the CLC's register page")


def drift(system, built):
    return [c.new.path for c in pipeline.plan(system, built.files) if c.action != "unchanged"]


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    built = pipeline.build(system, raw)
    config = built.config
    outputs = pair_status.gather(system, config.drbd_version, arbiter=bool(config.arbiter_host))
    try:
        changed = drift(system, built)
    except UecError:
        changed = None
    clc = None
    crm_ok = outputs["crm_mon"]["rc"] == 0
    if crm_ok and not args.no_clc_check:
        url = f"https://{config.vip}:{CLC_PORT}/register"
        problem = clc_health.register_problem(url, CLC_TIMEOUT)
        clc = {"url": url, "healthy": problem is None, "problem": problem}
    doc = pair_status.collect(config, outputs, clc=clc, drift=changed)
    if args.json:
        json.dump(doc, out, indent=1, sort_keys=True)
        out.write("\n")
    else:
        colour = hasattr(out, "isatty") and out.isatty() and not os.environ.get("NO_COLOR")
        out.write(pair_status.render(doc, colour=colour))
    return pair_status.exit_code(doc)
