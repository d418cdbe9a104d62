"""The peer's BMC, asked the way Pacemaker's fencer asks it: fence_ipmilan with the CIB's own parameters.

Called by doctor (uec_clc_ha.cluster.doctor, its `bmc` check) when Fencing is
ipmilan.  A BMC that does not answer, or refuses the settings' user and
password, is found here instead of in a failover: fencing the peer would fail
and the cloud would wait (DRBD is promoted only after a confirmed fencing).

The agent gets its parameters on standard input, one per line, as the fencer
hands them: the password is never on a command line, and whatever the agent
prints is shown with the password masked.
"""

import re

from uec_clc_ha.errors import CommandFailure, ToolMissing

AGENT = "/usr/sbin/fence_ipmilan"
# fence agents' exit codes for `status`: 0 on, 2 off; anything else is a failure to ask
ON, OFF = 0, 2
MASK = "********"
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ ")     # fence-agents' logging prefix


def request(c, address, action="status", port=None):
    """fence_ipmilan's standard input for ``action`` on the BMC at ``address``: the st_ipmi device's parameters."""
    params = {"ip": str(address), "username": c.ipmi_user, "password": c.ipmi_password, "lanplus": "1"}
    if c.ipmi_cipher != "auto":
        params["cipher"] = str(c.ipmi_cipher)
    if port is not None:
        params["ipport"] = str(port)
    params["action"] = action
    return "".join(f"{k}={v}\n" for k, v in params.items())


def masked(text, c):
    """text with the BMC password masked (an agent's error may echo what it ran)."""
    return text.replace(c.ipmi_password, MASK) if c.ipmi_password else text


def read_status(done, c):
    """("on" | "off" | "failed", detail) from fence_ipmilan's Completed for `status` (None: it did not finish)."""
    if done is None:
        return "failed", "fence_ipmilan did not finish (missing, or past its time)"
    if done.rc == ON:
        return "on", "power on"
    if done.rc == OFF:
        return "off", "power off"
    lines = [line.strip() for line in (done.stderr + "\n" + done.stdout).splitlines() if line.strip()]
    reason = STAMP.sub("", lines[-1]) if lines else f"exit code {done.rc}"
    return "failed", masked(reason, c)


def status(system, c, address, timeout=60, port=None):
    """Ask the BMC at ``address`` (UDP ``port``, IPMI's 623 unless given) for the power state:
    ("on" | "off" | "failed", detail)."""
    try:
        done = system.run([AGENT], rcs=None, input=request(c, address, port=port), timeout=timeout)
    except (ToolMissing, CommandFailure):
        done = None
    return read_status(done, c)
