"""A scripted node that stands for the running host, for the live paths of `apply` and the postinst.

Used by tests/unit/cli/test_apply.py, tests/unit/maint/test_configure.py and
tests/unit/cluster/test_node_facts.py.
The code under test takes its live path only on the running host
(System.is_live: a tree under --root has no cluster of its own), so this
node says it is live; every file still lives under a temporary root (path()
maps it there as for any other root), and nothing of the real host is read
or written.  Where it differs from the running host: is_live with files
under a root (the one thing no real node can be); the tools answer from a
table (the lab's crm_mon XML, the pair's node attributes in a scripted Cib,
tests/support/cib_model), and any command not in it fails the test.

``cluster``: False for a node where Pacemaker does not run (crm_mon,
cibadmin and crm_attribute exit 102, as they do without a CIB to connect
to); ``refuse_writes``: crm_attribute's writes fail as on a CIB that does
not take them (exit 13, the error on stderr); ``pacemaker`` None: no
pacemakerd installed.
"""

import json
import os

from checkout import TOP
from cib_model import Cib
from uec_clc_ha.errors import CommandFailure, ToolMissing
from uec_clc_ha.host.system import Completed, System

CRM_MON = os.path.join(TOP, "tests", "fixtures", "status", "bookworm", "normal", "clc1.json")
OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\n'


class LiveNode(System):
    def __init__(self, root, cib=None, cluster=True, refuse_writes=False, disk_bytes="134217728",
                 pacemaker="2.1.5", cluster_name=None):
        super().__init__(root)
        self.cluster_name = cluster_name          # what corosync runs; None: the settings' Cluster-Name
        self.cib = cib if cib is not None else Cib()
        self.cluster, self.refuse_writes = cluster, refuse_writes
        self.disk_bytes, self.pacemaker = disk_bytes, pacemaker
        self.attrd = {}                           # the transient attributes this node set (attrd_updater -U)
        self.calls = []
        with open(CRM_MON) as fh:
            self.crm_xml = json.load(fh)["sources"]["crm_mon"]["stdout"]
        self.write_atomic("/etc/os-release", OS_RELEASE)

    @property
    def is_live(self):
        return True

    def path(self, host_path):
        if not host_path.startswith("/"):
            raise ValueError(f"not an absolute path: {host_path}")
        return os.path.join(self.root, host_path.lstrip("/"))

    def which(self, tool):
        return None if tool in ("sbd", "ucf") else f"/usr/sbin/{tool}"

    def _refused(self, argv):
        return argv[0] == "crm_attribute" and self.refuse_writes and ("--update" in argv or "--delete" in argv)

    def run(self, argv, rcs=(0,), **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        rc, out, err = 0, "", ""
        cib = self.cib.answer(self, argv) if self.cluster and not self._refused(argv) else None
        if argv[0] in ("crm_mon", "cibadmin", "crm_attribute", "crm", "crm_node") and not self.cluster:
            rc, err = 102, "Could not connect to the CIB: Transport endpoint is not connected\n"
        elif self._refused(argv):
            rc, err = 13, "Error performing operation: Permission denied\n"
        elif cib is not None:
            rc, out = cib
        elif argv[0] == "crm_mon":
            out = self.crm_xml
        elif argv[:2] == ["crm_node", "-l"]:
            out = "1 clc1 member\n2 clc2 member\n"          # the lab's pair, both members (crm_mon's fixture too)
        elif argv[:2] == ["crm_node", "-q"]:
            out = "1\n"
        elif argv[:2] == ["attrd_updater", "-Q"]:
            out = f'name="{argv[3]}" host="{argv[-1]}" value="1"\n'
        elif argv[:2] == ["attrd_updater", "-n"]:
            self.attrd[argv[2]] = argv[-1]
        elif argv[:2] == ["blockdev", "--getsize64"]:
            rc, out = (0, self.disk_bytes + "\n") if self.disk_bytes else (1, "")
        elif argv[:2] == ["pacemakerd", "--version"] and self.pacemaker is None:
            raise ToolMissing("pacemakerd")
        elif argv[:2] == ["pacemakerd", "--version"]:
            out = f"Pacemaker {self.pacemaker}\nWritten by Andrew Beekhof and the Pacemaker project contributors\n"
        elif argv[:3] == ["modinfo", "-F", "version"]:
            out = "8.4.11\n"
        elif argv[:3] == ["corosync-cmapctl", "-g", "totem.cluster_name"] and not self.cluster:
            rc, err = 1, "Failed to initialize the cmap API. Error CS_ERR_LIBRARY\n"
        elif argv[:3] == ["corosync-cmapctl", "-g", "totem.cluster_name"]:
            name = self.cluster_name or self.read("/etc/uec-clc-ha/uec-clc-ha.conf").split("Cluster-Name:")[1].split()[0]
            out = f"totem.cluster_name (str) = {name}\n"
        else:
            raise AssertionError(f"the live node ran an unexpected command: {argv}")
        if rcs is not None and rc not in rcs:
            raise CommandFailure(argv, rc, err, out)
        return Completed(tuple(argv), rc, out, err)


def configured(root, scenario="corosync-drbd84", **kwargs):
    """A LiveNode under ``root`` with a scenario's settings and its DRBD backing disk (an empty file)."""
    from scenarios import write_settings

    system = LiveNode(root, **kwargs)
    write_settings(system, scenario)
    system.write_atomic("/dev/vdb1", b"")
    return system
