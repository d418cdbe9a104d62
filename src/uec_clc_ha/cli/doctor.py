"""Is the pair safe?  One line per check (ok, warn, fail) and, for each problem, the fix.

`uec-clc-ha-ctl doctor`: hostnames and names, both links, the DRBD backing
disk (and its size against the peer's), the drbd module (loaded, and at
boot), eucalyptus out of boot start-up, the data directories and the CLC's
.ssh on DRBD, time sync, fencing and its watchdog, the agents' CPU weight,
quorum (two_node, or the arbiter connected), the recipe's
no-quorum-policy=ignore / stonith-enabled=false not in the live CIB, the
running cluster holding what the files say, the same settings and the same
Debian release on both nodes, secret files 0600, no ucf leftovers
(uec_clc_ha.cluster.doctor).  What it compares with the peer (the
settings' digest, never the secret; the disk's size; the release) each
node publishes as node attributes when cluster-init, apply or the postinst
runs there with the cluster up (uec_clc_ha.cluster.node_facts), and doctor
on every run: one run on either node compares the pair.  Exit codes: 0 all
ok, 1 warnings, 2 failures.
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
