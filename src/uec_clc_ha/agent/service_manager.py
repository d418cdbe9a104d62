"""Which service manager knows eucalyptus-cloud on this host (for start_method=auto).

Used by the OCF agent's validation and by uec_clc_ha.agent.clc_control.  Only
``os``: probes call it, and probes should stay cheap.
"""

import os

SYSTEMD_UNIT = "eucalyptus-cloud.service"
UPSTART_JOB = "eucalyptus"
SYSV_SCRIPT = "/etc/init.d/eucalyptus-cloud"
UNIT_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")


def detect_method():
    """(method, why) for start_method=auto."""
    if os.path.isdir("/run/systemd/system") and any(os.path.exists(os.path.join(d, SYSTEMD_UNIT))
                                                    for d in UNIT_DIRS):
        return "systemd", f"systemd runs this host and {SYSTEMD_UNIT} exists"
    if os.path.exists("/sbin/initctl") and os.path.exists(f"/etc/init/{UPSTART_JOB}.conf"):
        return "upstart", f"upstart job /etc/init/{UPSTART_JOB}.conf exists"
    if os.path.exists(SYSV_SCRIPT):
        return "sysv", f"{SYSV_SCRIPT} exists"
    return "direct", "no service manager knows eucalyptus-cloud: running the launcher directly"
