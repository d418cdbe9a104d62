"""The fencing the CIB describes finishes: the real fence_sbd, driven as Pacemaker's fencer drives it.

fence_sbd runs `sbd -d DEVICE message NODE reset`, and sbd sleeps the
header's msgwait inside that command before it reports the target dead;
fence_sbd kills the command at its power_timeout.  The fencer hands a
device's parameters to the agent on stdin (key=value lines), so the test
takes st_sbd's parameters from the generated cluster.crm and hands them over
the same way, with an `sbd` that keeps the device's behaviour: it dumps a
header with the settings' timeouts, lists both slots clear, and sleeps
msgwait on `message`.  With a vendor's common SBD timeouts (watchdog 15 s,
msgwait 30 s) fence_sbd's own default (30 s) kills every fencing.
"""

import os
import re
import shlex
import stat
import subprocess
import time

import pytest

from scenarios import full_raw
from uec_clc_ha.config import keyring, render, settings

FENCE_SBD = "/usr/sbin/fence_sbd"

pytestmark = pytest.mark.skipif(not os.path.exists(FENCE_SBD), reason="fence-agents not installed (make deps)")

SBD_STUB = """#!/bin/sh
# sbd as fence_sbd sees it: -d DEVICE dump | list | message NODE reset
while [ "$1" = -d ]; do shift 2; done
case "$1" in
dump) printf 'Header version     : 2.1\\nNumber of slots    : 255\\nSector size        : 512\\n'
      printf 'Timeout (watchdog) : %s\\nTimeout (allocate) : 2\\nTimeout (loop)     : 1\\n' "$WATCHDOG"
      printf 'Timeout (msgwait)  : %s\\n' "$MSGWAIT" ;;
list) printf '0\\tclc1\\tclear\\t\\n1\\tclc2\\tclear\\t\\n' ;;
message) echo "$2 $3" >> "$LOG"; sleep "$MSGWAIT"; echo "message sent" ;;
*) exit 1 ;;
esac
"""


def st_sbd_params(crm):
    """st_sbd's parameters as the fencer passes them: {name: value}."""
    body = crm[crm.index("primitive st_sbd "):]
    body = body[:body.index("\top ")]
    params = body[body.index("params") + len("params"):].replace("\\\n", " ")
    return dict(word.split("=", 1) for word in shlex.split(params))


def fence(tmp_path, watchdog, msgwait, power_timeout=None):
    """(fence_sbd's result, seconds it took, the parameters it got): st_sbd's parameters from the CIB rendered
    for these timeouts, ``power_timeout`` overriding the CIB's."""
    config = settings.require_valid(dict(full_raw("corosync-drbd84"), **{
        "SBD-Watchdog-Timeout": str(watchdog), "SBD-Msgwait-Timeout": str(msgwait)}))
    crm = render.render_all(config, keyring.derive(config.cluster_secret, config.cluster_name))[
        "/etc/uec-clc-ha/cluster.crm"].content.decode()
    params = st_sbd_params(crm)
    device = tmp_path / "sbd-disk"
    os.mknod(device, stat.S_IFBLK | 0o600, os.makedev(7, 250))     # fence_sbd insists on a block device
    stub = tmp_path / "sbd"
    stub.write_text(SBD_STUB)
    stub.chmod(0o755)
    params.update(devices=str(device), sbd_path=str(stub), action="reboot", plug="clc2")
    if power_timeout is not None:
        params["power_timeout"] = str(power_timeout)
    stdin = "".join(f"{k}={v}\n" for k, v in params.items() if not k.startswith("pcmk_"))
    env = dict(os.environ, WATCHDOG=str(watchdog), MSGWAIT=str(msgwait), LOG=str(tmp_path / "messages"))
    started = time.monotonic()
    done = subprocess.run([FENCE_SBD], input=stdin, env=env, capture_output=True, text=True,
                          timeout=msgwait + 120)
    return done, time.monotonic() - started, params


def test_fencing_with_a_vendors_sbd_timeouts_finishes(tmp_path):
    done, took, params = fence(tmp_path, watchdog=15, msgwait=30)
    assert (tmp_path / "messages").read_text() == "clc2 reset\n"
    assert done.returncode == 0, f"fence_sbd failed after {took:.1f} s: {done.stderr[-1500:]}"
    assert took >= 30
    # and Pacemaker waits for it: the reboot timeout covers the agent's whole run and the delay
    reboot_timeout = int(re.fullmatch(r"(\d+)s", params["pcmk_reboot_timeout"]).group(1))
    assert reboot_timeout >= int(params["power_timeout"]) + 15 > took


def test_the_stub_sbd_is_what_the_agent_needs(tmp_path):
    # the same agent with a power_timeout below msgwait fails: the test above can tell a fencing that
    # finishes from one that is cut short (fence-agents waits at least 5 s whatever the timeout)
    cut, _, _ = fence(tmp_path, watchdog=5, msgwait=10, power_timeout=6)
    assert (tmp_path / "messages").read_text() == "clc2 reset\n"          # it did reach the disk
    assert cut.returncode != 0 and "timed out" in (cut.stderr + cut.stdout).lower()
