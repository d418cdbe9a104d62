"""Throwaway Cloud Controllers for the package tests: stand-in Eucalyptus services, debconf preseeds, the install.

Used by tests/integration/test_maintainer_scripts.py and
test_debconf_interactive.py on lablib.chroot's roots: the stand-ins are the
Eucalyptus services that boot start-up is about (LSB init scripts enabled
with update-rc.d, a systemd unit enabled with systemctl, an upstart job
file); preseed() answers the package's questions with a scenario of
tests/support/scenarios.py; install() is `apt-get install` of the .deb
inside the root.
"""

import os

from lablib import packages
from scenarios import SCENARIOS

SERVICES = ("eucalyptus-cloud", "eucalyptus", "eucalyptus-network", "image-store-proxy")
LSB = """#!/bin/sh
### BEGIN INIT INFO
# Provides:          {name}
# Required-Start:    $remote_fs $network
# Required-Stop:     $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: {name} (test stand-in)
### END INIT INFO
exit 0
"""
UNIT = "[Unit]\nDescription=Eucalyptus Cloud Controller (test stand-in)\n\n[Service]\nExecStart=/bin/true\n\n" \
       "[Install]\nWantedBy=multi-user.target\n"
UPSTART_JOB = "description \"Eucalyptus (test stand-in)\"\nstart on runlevel [2345]\nexec /bin/true\n"

QUESTIONS = {      # settings key -> (question, type)
    "Local-Node": ("local-node", "string"), "Peer-Node": ("peer-node", "string"),
    "Local-Address": ("local-address", "string"), "Peer-Address": ("peer-address", "string"),
    "VIP": ("vip", "string"), "VIP-Prefix": ("vip-prefix", "string"),
    "VIP-Interface": ("vip-interface", "string"), "Replication-Interface": ("replication-interface", "string"),
    "Replication-Local-Address": ("replication-local-address", "string"),
    "Replication-Peer-Address": ("replication-peer-address", "string"),
    "Replication-Prefix": ("replication-prefix", "string"), "DRBD-Disk": ("drbd-disk", "string"),
    "Cluster-Stack": ("cluster-stack", "select"), "Fencing": ("fencing", "select"),
    "SBD-Device": ("sbd-device", "string"), "Ping-Hosts": ("ping-hosts", "string"),
    "Cluster-Secret": ("cluster-secret", "password"),
}
# start-cluster is left to the lab (the VMs run the cluster for real); here it is answered no,
# except in the test that shows a chroot's refusal leaves the package configured.
ANSWERS = {"uec-clc-ha/initial-primary": ("boolean", "true"), "uec-clc-ha/start-cluster": ("boolean", "false")}


def stand_in_services(root):
    for name in SERVICES:
        root.write(f"/etc/init.d/{name}", LSB.format(name=name), mode=0o755)
        root.run(["update-rc.d", name, "defaults"])
    root.write("/lib/systemd/system/eucalyptus-cloud.service", UNIT)
    root.run(["systemctl", "enable", "eucalyptus-cloud.service"])
    os.makedirs(root.host_path("/etc/init"), exist_ok=True)
    root.write("/etc/init/eucalyptus.conf", UPSTART_JOB)


def preseed(root, name="corosync-drbd84", **overrides):
    values = dict(SCENARIOS[name], **overrides)
    lines = [f"uec-clc-ha uec-clc-ha/{q} {t} {values[key]}"
             for key, (q, t) in QUESTIONS.items() if key in values]
    lines += [f"uec-clc-ha {q} {t} {v}" for q, (t, v) in ANSWERS.items()]
    root.write("/tmp/preseed", "\n".join(lines) + "\n")
    root.run(["debconf-set-selections", "/tmp/preseed"])


def install(root, deb, check=True):
    """apt-get install of ``deb`` and, since 0.6.0, the python3-uec-clc-ha .deb built with it."""
    inside = [root.copy_in(each, "/tmp") for each in packages.with_library(deb)]
    return root.run(["apt-get", "install", "-y", "--no-install-recommends", *inside], check=check)
