"""Is the pair safe?  One line per check (ok, warn, fail) and, for each problem, the fix.

`uec-clc-ha-ctl doctor`: hostnames and names, both links, the DRBD backing
disk (and its size against the peer's), the drbd module (loaded, and at
boot), eucalyptus out of boot start-up, the data directories and the CLC's
.ssh on DRBD, time sync, fencing and its watchdog, two_node quorum, the
recipe's no-quorum-policy=ignore / stonith-enabled=false not in the live
CIB, the running cluster holding what the files say, the same settings on both nodes (a digest each node publishes as a node
attribute: never the secret), secret files 0600, no ucf leftovers
(uec_clc_ha.cluster.doctor).  Run it on both nodes.  Exit codes: 0 all ok,
1 warnings, 2 failures.
"""

from uec_clc_ha.cluster import doctor
from uec_clc_ha.config import keyring, pipeline

NAME = "doctor"
HELP = "check that the pair is safe: one line per finding, with the fix"


def arguments(p):
    pass


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    built = pipeline.build(system, raw)
    keys = keyring.derive(built.config.cluster_secret, built.config.cluster_name)
    findings = doctor.Doctor(system, raw, built.config, built.files, keys).check_all()
    out.write(doctor.render(findings))
    return doctor.EXIT[doctor.worst(findings)]
