"""`labctl capture STATE`: what `uec-clc-ha-ctl status` reads, captured on both lab nodes as test fixtures.

Called by lab/labctl.  Runs on each node exactly the sources the
product's status reads (uec_clc_ha.cluster.pair_status.sources, corosync-qdevice's
too when the node's settings name an Arbiter; a "file:" source is
read with cat) and writes tests/fixtures/status/RELEASE/STATE/NODE.json
(RELEASE: the lab's Debian release, whose Pacemaker prints its own XML):
when, the lab state's name and note, the node, and each source's argv, exit
code and output.  A node that does not answer (powered off) gets no file.  The unit
tests of pair_status replay these files.
"""

import json
import os
import time

from . import config, guest, state

from uec_clc_ha.cluster import pair_status

FIXTURES = os.path.join(config.TOP, "tests", "fixtures", "status")
DRBD_VERSION = "8.4"            # the stock kernel's module in the lab's guests
SETTINGS = "/etc/uec-clc-ha/uec-clc-ha.conf"


def capture(state_name, note, out):
    suite = state.load().get("suite", config.SUITE)
    target = os.path.join(FIXTURES, suite, state_name)
    os.makedirs(target, exist_ok=True)
    for node in config.NODES:
        if guest.ping(node, timeout=10) is None:
            out.write(f"{node}: does not answer (powered off?): nothing captured\n")
            continue
        with_arbiter = "Arbiter: " in guest.exec_(node, ["grep", "-E", "^Arbiter: *[^ ]", SETTINGS], timeout=30).stdout
        sources = {}
        for name, argv in pair_status.sources(DRBD_VERSION, with_arbiter).items():
            command = ["cat", argv[0][5:]] if argv[0].startswith("file:") else argv
            r = guest.exec_(node, command, timeout=90)
            sources[name] = {"argv": argv, "rc": r.rc, "stdout": r.stdout}
        doc = {"captured": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "state": state_name, "note": note, "node": node,
               "release": suite,
               "drbd_version": DRBD_VERSION, "command": f"lab/labctl capture {state_name}", "sources": sources}
        path = os.path.join(target, f"{node}.json")
        with open(path, "w") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
            fh.write("\n")
        out.write(f"{node}: {path}\n")
